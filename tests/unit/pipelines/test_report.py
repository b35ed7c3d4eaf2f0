"""The portfolio report of the tiny repository: content, self-containment, a headless browser."""

import json
import re
import shutil
import string
import subprocess

import numpy as np
import pandas as pd
import pytest

from pipelines import report
from pipelines.io.artifacts import load_master_scale, load_policy
from pipelines.io.files import StageError
from pipelines.io.paths import Paths
from pipelines.render import figures, links
from pipelines.render import portfolio as page
from pipelines.render.portfolio_words import RULE_WORDS, WORDS, rule_name
from pipelines.runtime.config import Config

SECTIONS = {
    "headline": "Headline",
    "trends": "Trends",
    "grades": "Grade distribution",
    "migration": "Migration matrix",
    "concentration": "Concentration",
    "losses": "Exposure and expected loss by sector and by region",
    "loss-distribution": "Loss distribution over the next 12 months",
    "risk-map": "Risk map",
    "movers": "Top movers",
    "alerts": "Alerts",
    "model": "Model",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I
)
PD_CELL = re.compile(r'<td class="pd" style="([^"]*)">([^<]*)</td>')
MAX_PAGES = 6


@pytest.fixture(scope="module")
def html(staged):
    return staged["paths"].portfolio.read_text(encoding="utf-8")


def section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_the_report_has_every_section(html):
    for anchor, title in SECTIONS.items():
        assert re.search(rf'<section id="{anchor}"( class="keep")?>', html), anchor
        assert f"<h2>{title}</h2>" in html
    assert '<html lang="en">' in html
    assert "Trade-credit portfolio report &middot; 2024-12-31" in html
    assert "compared with 2024-11-30 (re-scored with the current model" in html


def test_the_report_is_self_contained(html):
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script" not in html.replace("&lt;script", "")  # no script at all
    images = re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", html)
    assert len(images) == 2 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "<link" not in html
    hrefs = set(re.findall(r'href="([^"]*)"', html))
    assert all(h.startswith(("customers/", "../scored/")) for h in hrefs), hrefs


@pytest.mark.parametrize(
    ("snippet", "external"),
    [
        ('<img src="https://cdn.example/x.png">', True),
        ("<script src=//cdn.example/x.js></script>", True),
        ('<link href="http://x/s.css">', True),
        ("background:url('https://x/y.png')", True),
        ('<img src="data:image/png;base64,AAAA">', False),
        ('<a href="#alerts">', False),
        ("see https://example.com in the text", False),
    ],
)
def test_the_external_reference_check(snippet, external):
    assert bool(EXTERNAL.search(snippet)) is external


def test_names_from_outside_are_escaped(html):
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_the_migration_matrix_counts_the_default(html):
    matrix = section(html, "migration")
    header = re.findall(r"<th>([^<]*)</th>", matrix)
    assert header[:10] == [str(g) for g in range(1, 11)] and header[10:13] == [
        "default",
        "exited",
        "total",
    ]
    assert "No previous book" not in matrix


def test_the_model_summary_reads_the_evaluation(html):
    model = section(html, "model")
    assert "version 1" in model and "platt" in model and "0.700" in model


def test_a_missing_summary_is_a_stage_error(staged_copy):
    paths = staged_copy
    paths.scored_summary.unlink()
    with pytest.raises(StageError, match=f"missing input {re.escape(str(paths.scored_summary))}"):
        report.run(Config(), paths)


def browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def _flags(tmp_path) -> list[str]:
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
    ]  # fmt: skip


@pytest.mark.skipif(
    browser() is None,
    reason="no headless Chromium: install Debian's `chromium` package (.ci/run does)",
)
def test_the_report_loads_in_a_headless_browser(staged, tmp_path):
    page = staged["paths"].portfolio.as_uri()
    flags = _flags(tmp_path)
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [browser(), *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console  # no script error, no resource the page failed to load
    for anchor, title in SECTIONS.items():
        assert f'id="{anchor}"' in done.stdout and title in done.stdout
    shot_run = subprocess.run(
        [browser(), *flags, "--window-size=1280,2000", f"--screenshot={shot}", page],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot_run.returncode == 0, shot_run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_model_summary_shows_the_month_over_month_back_test(staged_copy):
    paths = staged_copy
    month = {"customers": 3768, "alerts": 209, "alerted": 148}
    limits = {"by_month": {"2024-08-31": {"customers": 3768, "share": 0.341}}}
    metrics = json.loads(paths.metrics.read_text())
    metrics["monitoring"] = {
        "churn": {"model_grade_change_share": 0.286, "truth_grade_change_share": 0.266,
                  "ratio": 1.08, "target_ratio": 1.5},
        "alerts": {"rules": ["DOWNGRADE", "PD_INCREASE"], "hysteresis_margin": 0.25,
                   "precision": 0.278, "non_alerted_default_rate": 0.059, "ratio": 4.7,
                   "target_ratio": 2.0, "by_month": {"2024-08-31": month}},
        "alerts_without_hysteresis": {"by_month": {"2024-08-31": {**month, "alerts": 308}}},
        "limits": {"shipped": limits, "on_month_grade": limits},
    }  # fmt: skip
    paths.metrics.write_text(json.dumps(metrics))
    report.run(Config(), paths)
    model = section(paths.portfolio.read_text(encoding="utf-8"), "model")
    assert "28.6% of the customers with the model, 26.6% with the true PDs" in model
    assert "(hysteresis margin 25%)" in model and "at 27.80%, the others at 5.90%" in model
    assert "<td>209</td><td>148</td><td>308</td>" in model and "<td>34.1%</td>" in model
    assert report.monitoring_summary({"test": {}}) == {}


def test_the_trends_show_each_month_of_the_history(html):
    trends = section(html, "trends")
    assert "<th>2024-11</th><th>2024-12</th>" in trends
    for figure in ("Exposure (total) (EUR)", "Expected loss (total) (EUR)", "Mean PD",
                   "High-risk share", "Alerts"):  # fmt: skip
        assert f'<td class="l">{figure}</td>' in trends
    assert trends.count('<svg class="spark"') == 5


def test_the_concentration_lists_the_largest_exposures_with_their_share(staged, html):
    book = pd.read_csv(staged["paths"].scores, encoding="utf-8-sig")
    largest = book.sort_values("exposure", ascending=False).iloc[0]
    concentration = section(html, "concentration")
    assert "Top 10 customers" in concentration and "HHI by customer" in concentration
    rows = re.findall(r"<tr><td>(\d+)</td>", concentration)
    assert rows == [str(i) for i in range(1, len(rows) + 1)] and len(rows) <= page.TOP_EXPOSURES
    first = concentration[concentration.index("<tr><td>1</td>") :]
    assert largest["customer_id"] in first[: first.index("</tr>")]
    losses = section(html, "losses")
    assert "<th>Share</th>" in losses and "<th>In default</th>" in losses


def test_the_loss_distribution_shows_the_score_summarys_figures(staged, html):
    loss = json.loads(staged["paths"].scored_summary.read_text())["loss_distribution"]
    shown = section(html, "loss-distribution")
    assert "20,000 simulated years" in shown and "Basel corporate formula" in shown
    for key in page.LOSS_FIGURES:
        assert f"<td><b>{page.money(loss[key])}</b></td>" in shown, key
    defaulted = page.money(loss["defaulted_loss"])
    assert shown.count(f"<td>{defaulted}</td>") >= 5  # every figure but the spread
    cuts = loss["limit_cuts"]
    after = f"<td>{page.money(cuts['after_var_99_9'])}</td>"
    assert after in shown
    if cuts["customers"]:
        assert f"the {cuts['customers']} customers the policy asks" in shown
    else:
        assert "the limit cuts do not change the loss" in shown
    sectors = shown[shown.index("by sector</h3>") : shown.index("contributing most")]
    assert sectors.count('<tr><td class="l">') == len(loss["by_sector"])
    customers = shown[shown.index("contributing most") :]
    assert customers.count('<tr><td class="l">') == len(loss["top_contributors"])


def test_a_summary_without_a_loss_distribution_leaves_the_section_out(staged_copy):
    paths = staged_copy
    summary = json.loads(paths.scored_summary.read_text())
    del summary["loss_distribution"]
    paths.scored_summary.write_text(json.dumps(summary))
    report.run(Config(), paths)
    assert 'id="loss-distribution"' not in paths.portfolio.read_text(encoding="utf-8")


def test_every_amount_carries_the_currency(html):
    assert "Amounts in EUR." in html
    headline = section(html, "headline")
    assert re.search(r'<div class="v">[\d.,]+( M)? EUR</div>', headline)
    for anchor in ("grades", "concentration", "losses", "loss-distribution", "movers", "alerts"):
        assert "Exposure (EUR)</th>" in section(html, anchor), anchor


def test_a_pd_has_the_same_colour_in_every_table(html):
    cells = PD_CELL.findall(html)
    colours: dict[str, set[str]] = {}
    where: dict[str, set[str]] = {}
    for anchor in SECTIONS:
        for style, text in PD_CELL.findall(section(html, anchor)):
            colours.setdefault(text, set()).add(style)
            where.setdefault(text, set()).add(anchor)
    assert cells and all(len(styles) == 1 for styles in colours.values()), colours
    assert any(len(anchors) > 1 for anchors in where.values()), where  # one PD in two tables
    assert "10 · 60.00%–100.00%" in section(html, "risk-map")  # the legend of the bands


def test_the_colour_of_a_pd_is_its_master_scale_band():
    scale = load_master_scale(Paths().master_scale)
    bands = page.pd_bands(scale)
    values = np.array([0.0, 0.0025, 0.00251, 0.04, 0.05, 0.3, 0.999, 1.0])
    for value, grade in zip(values, scale.assign(values), strict=True):
        assert page.pd_style(value, bands) == bands[grade - 1]["style"]
    assert len({b["style"] for b in bands}) == len(bands)
    # absolute, not min-max: a 2-point spread inside one band is one colour
    rows = page.heat_rows(pd.DataFrame({"a": [0.05, 0.07]}, index=["x", "y"]))
    assert {page.pd_style(v, bands) for r in rows for v in r["cells"]} == {bands[5]["style"]}


def test_alerts_are_summarised_by_rule_and_severity(staged, html):
    alerts = pd.read_csv(staged["paths"].alerts, encoding="utf-8-sig")
    part = section(html, "alerts")
    assert f"{len(alerts)} alerts on {alerts['customer_id'].nunique()} customers" in part
    assert '<a href="../scored/alerts.csv">alerts.csv</a>' in part
    assert '<a href="../scored/book.xlsx">book.xlsx</a>' in part
    for rule in alerts["rule"].unique():
        assert f'<td class="l">{rule_name(rule, "en")}</td>' in part
    assert "What happened" not in part  # no row per alert


@pytest.mark.parametrize("alerted", ["all", "one"])
def test_customers_with_a_page_are_linked(staged_copy, alerted):
    paths = staged_copy
    alerts = pd.read_csv(paths.alerts, encoding="utf-8-sig", keep_default_na=False)
    if alerted == "one":  # fewer pages: the others are listed without a link
        alerts = alerts[alerts["customer_id"] == alerts["customer_id"].iloc[0]]
        alerts.to_csv(paths.alerts, index=False, encoding="utf-8-sig")
        report.run(Config(), paths)
    html = paths.portfolio.read_text(encoding="utf-8")
    book = pd.read_parquet(paths.history / "2024-12-31.parquet")
    with_page = set(
        links.customers_with_pages(book, alerts, load_policy(paths.policy).high_risk_grade)
    )
    linked = set(re.findall(r'<a href="customers/([^"]+)\.html">', html)) - {"index"}
    listed = set(re.findall(r"<small>(C\d)\b", html))  # top exposures, movers, alerted
    assert linked and linked == with_page & listed
    assert html.count('href="customers/index.html"') == 1
    if alerted == "one":
        assert listed - with_page
    for cid in listed - with_page:
        assert f'href="{links.page_href(cid)}"' not in html


def test_the_report_in_chinese(staged_copy):
    paths = staged_copy
    summary = json.loads(paths.scored_summary.read_text())
    paths.scored_summary.write_text(json.dumps({**summary, "language": "zh"}))
    report.run(Config(), paths)
    html = paths.portfolio.read_text(encoding="utf-8")
    assert '<html lang="zh">' in html
    headings = re.findall(r"<h[123][^>]*>([^<]*)</h[123]>", html)
    assert "概览" in headings and "趋势" in headings and "集中度" in headings
    assert not set(SECTIONS.values()) & set(headings)
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in headings), headings
    assert "金额单位：EUR。" in html and "<th>敞口 (EUR)</th>" in html


def test_the_words_of_each_language_have_the_same_keys_and_fields():
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    assert WORDS["en"].keys() == WORDS["zh"].keys()
    assert RULE_WORDS["en"].keys() == RULE_WORDS["zh"].keys()
    for key, text in WORDS["en"].items():
        assert fields(text) == fields(WORDS["zh"][key]), key
    assert rule_name("EVENT_LEGAL_DISPUTE", "zh") == "事件：法律纠纷"
    assert rule_name("SOMETHING_NEW", "en") == "SOMETHING_NEW"
    assert page.rule_names("DOWNGRADE; PD_INCREASE", "en") == "Downgrade, PD increase"


@pytest.mark.parametrize(
    ("values", "lines"),
    [([1.0, 2.0, 3.0], 1), ([5.0, np.nan, 5.0, 6.0], 2), ([np.nan, np.nan], 0), ([7.0], 1)],
)
def test_the_sparkline_is_inline_svg_with_gaps(values, lines):
    svg = str(figures.sparkline(values))
    assert svg.count("<polyline") == lines
    if lines:
        assert svg.startswith('<svg class="spark"') and svg.endswith("</svg>")
        assert "script" not in svg and "href" not in svg
    else:
        assert svg == ""


def test_a_small_change_stays_small_in_the_sparkline():
    def heights(values, **kw):
        ys = re.findall(r",([\d.]+)", str(figures.sparkline(values, height=22, **kw)))
        return max(map(float, ys)) - min(map(float, ys))

    assert heights([100.0, 102.0]) < 0.25 * heights([100.0, 102.0], min_range=0)


@pytest.mark.skipif(
    browser() is None,
    reason="no headless Chromium: install Debian's `chromium` package (.ci/run does)",
)
def test_the_report_prints_on_a_few_a4_pages(staged, tmp_path):
    pdf = tmp_path / "report.pdf"
    done = subprocess.run(
        [browser(), *_flags(tmp_path), f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
         staged["paths"].portfolio.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    pages = pdf_pages(pdf.read_bytes())
    assert 1 <= pages <= MAX_PAGES, pages


def pdf_pages(pdf: bytes) -> int:
    """Page objects of a PDF (``/Type /Page``, not the ``/Pages`` tree nodes)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_pdf_pages_counts_pages_not_the_tree():
    assert pdf_pages(b"<</Type /Pages /Kids>> <</Type /Page>> <</Type/Page/Parent>>") == 2
