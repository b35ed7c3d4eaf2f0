"""Customer credit reports of the tiny repository: who gets a page, what it says, how it fails."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from features.catalogue import DESCRIPTIONS_ZH
from models.receivables import ageing, days_late_by_month
from pipelines import customer_report
from pipelines.io.files import StageError
from pipelines.io.paths import page_name
from pipelines.render.customer import sector_view
from pipelines.render.figures import sparkline
from pipelines.render.links import customers_with_pages
from pipelines.runtime.config import Config

D = pd.Timestamp
# a reference to another host in a src, href or CSS url() (the page must have none)
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I
)


@pytest.fixture(scope="module")
def pages(staged, tmp_path_factory):
    """The month's pages of the staged repository, written into a folder of their own."""
    out = tmp_path_factory.mktemp("customers")
    customer_report.run(Config(), staged["paths"], out=out)
    return out


def test_the_month_s_pages_are_the_high_risk_and_the_alerted(staged, pages):
    paths = staged["paths"]
    book = pd.read_parquet(paths.history / "2024-12-31.parquet")
    alerts = pd.read_csv(paths.alerts, encoding="utf-8-sig", dtype=str)
    chosen = customers_with_pages(book, alerts, 8)
    assert chosen  # the tiny book has alerts
    assert sorted(p.name for p in pages.iterdir()) == sorted(
        [page_name(c) for c in chosen] + ["index.html"]
    )
    index = (pages / "index.html").read_text(encoding="utf-8")
    for cid in chosen:
        assert f'href="{page_name(cid)}"' in index


def test_a_page_shows_the_customer_s_indicators_against_its_sector(staged, pages):
    one = next(p for p in sorted(pages.iterdir()) if p.name != "index.html")
    html = one.read_text(encoding="utf-8")
    for anchor in ("summary", "reasons", "grade-history", "payments", "indicators", "events"):
        assert f'<section id="{anchor}"' in html
    assert "Sector median" in html and "Percentile in sector" in html
    assert "<svg" in html  # the trends are drawn inline
    assert not EXTERNAL.search(html) and "<script" not in html
    assert '<html lang="en">' in html


def test_names_from_outside_are_escaped_on_the_page(staged, tmp_path):
    customer_report.run(Config(), staged["paths"], ["C6"], out=tmp_path)
    html = (tmp_path / "C6.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_one_customer_on_demand_and_an_unknown_one(staged, tmp_path):
    written = customer_report.run(Config(), staged["paths"], ["C2"], out=tmp_path)
    assert [p.name for p in written] == ["C2.html"] and written[0].is_file()
    with pytest.raises(StageError, match=r"customers not in the book of 2024-12-31.*'C404'"):
        customer_report.run(Config(), staged["paths"], ["C404"], out=tmp_path)
    with pytest.raises(StageError, match="no scored book of 2023-01-31"):
        customer_report.run(Config(), staged["paths"], ["C2"], as_of="2023-01-31", out=tmp_path)


def test_an_earlier_month_s_page(staged, tmp_path):
    customer_report.run(Config(), staged["paths"], ["C9"], as_of="2024-11-30", out=tmp_path)
    html = (tmp_path / "C9.html").read_text(encoding="utf-8")
    assert "as of 2024-11-30" in html


def test_chinese_headings_in_chinese_mode(staged_copy, tmp_path):
    summary = json.loads(staged_copy.scored_summary.read_text())
    staged_copy.scored_summary.write_text(json.dumps({**summary, "language": "zh"}))
    customer_report.run(Config(), staged_copy, out=tmp_path)
    html = next(p for p in tmp_path.iterdir() if p.name != "index.html").read_text("utf-8")
    assert '<html lang="zh">' in html and "评级原因" in html and "行业中位数" in html
    assert DESCRIPTIONS_ZH["dso_days"] in html  # the indicators' names too
    assert "Why this grade" not in html


def test_a_failed_run_leaves_the_last_pages(staged_copy, monkeypatch):
    customer_report.run(Config(), staged_copy)
    before = {p.name: p.read_bytes() for p in staged_copy.customer_pages.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(customer_report.page, "render", broken)
    with pytest.raises(RuntimeError):
        customer_report.run(Config(), staged_copy)
    after = {p.name: p.read_bytes() for p in staged_copy.customer_pages.iterdir()}
    assert after == before


def test_the_pages_are_the_same_bytes_on_a_second_run(staged, tmp_path):
    customer_report.run(Config(), staged["paths"], out=tmp_path / "a")
    customer_report.run(Config(), staged["paths"], out=tmp_path / "b")
    for page in (tmp_path / "a").iterdir():
        assert page.read_bytes() == (tmp_path / "b" / page.name).read_bytes(), page.name


def test_sector_median_and_percentile():
    rows = pd.DataFrame(
        {"industry": ["a", "a", "a", "a", "b", "b"], "x": [1.0, 2.0, 3.0, None, 5.0, 5.0]}
    )
    from features.catalogue import FEATURES

    spec = FEATURES["dso_days"]
    medians, percentiles = sector_view(rows.rename(columns={"x": "dso_days"}), {"dso_days": spec})
    assert medians["dso_days"].tolist() == [2.0, 2.0, 2.0, 2.0, 5.0, 5.0]
    # at or below: 1 of 3, 2 of 3, 3 of 3; a missing value has none; one value for a sector: none
    assert percentiles["dso_days"].iloc[:3].round(3).tolist() == [0.333, 0.667, 1.0]
    assert percentiles["dso_days"].iloc[3:].isna().all()


def test_a_missing_value_that_means_never_counts_as_never():
    from features.catalogue import FEATURES

    spec = FEATURES["months_since_legal_dispute"]
    rows = pd.DataFrame({"industry": ["a"] * 3, spec.name: [2.0, None, None]})
    medians, percentiles = sector_view(rows, {spec.name: spec})
    assert medians[spec.name].iloc[0] == float("inf")  # most never had one
    assert percentiles[spec.name].tolist() == [pytest.approx(1 / 3), 1.0, 1.0]


def test_a_sparkline_has_gaps_and_nothing_for_no_value():
    assert sparkline([float("nan")] * 3) == ""
    svg = str(sparkline([1.0, float("nan"), 2.0, 3.0]))
    assert svg.count("<polyline") == 2 and "<circle" in svg


def test_ageing_and_days_late_use_what_was_known_at_the_date():
    inv = pd.DataFrame(
        {
            "customer_id": ["A"] * 4,
            "issue_date": [D("2024-09-01"), D("2024-10-01"), D("2024-11-20"), D("2025-01-05")],
            "due_date": [D("2024-10-01"), D("2024-11-01"), D("2024-12-20"), D("2025-02-05")],
            "amount": [100.0, 200.0, 300.0, 400.0],
            "paid_date": [D("2024-10-11"), D("2025-01-10"), pd.NaT, pd.NaT],
        }
    )
    as_of = D("2024-12-31")
    table = ageing(inv, as_of).set_index("bucket")
    # paid after the date: still open then (60 days past due); issued after it: not there
    assert table.loc["31-60", "amount"] == 200.0 and table.loc["1-30", "amount"] == 300.0
    assert table["amount"].sum() == 500.0 and table.loc["current", "invoices"] == 0
    late = days_late_by_month(inv, as_of, 3).set_index("month")
    assert late.loc[D("2024-10-31"), "days_late"] == 10.0
    assert late.loc[D("2024-11-30"), "days_late"] == 60.0  # open at the date: counted to it
    assert late.loc[D("2024-12-31"), "days_late"] == 11.0
    assert late.loc[D("2024-11-30"), "open"] == 1


def test_a_page_and_the_index_render_and_print_on_a4(pages, chromium):
    page = next(p for p in sorted(pages.iterdir()) if p.name != "index.html")
    assert 'id="indicators"' in chromium.dom(page)
    assert 1 <= chromium.pdf_pages(page) <= 3
    assert "<table" in chromium.dom(pages / "index.html")


def test_both_languages_word_the_same_labels():
    from pipelines.render.customer import FAMILY_WORDS, WORDS

    assert WORDS["en"].keys() == WORDS["zh"].keys()
    assert FAMILY_WORDS["en"].keys() == FAMILY_WORDS["zh"].keys()
    for key, text in WORDS["en"].items():
        assert re.findall(r"\{\w+\}", text) == re.findall(r"\{\w+\}", WORDS["zh"][key]), key
