"""The portfolio report of the tiny repository: content, self-containment, a headless browser."""

import json
import re
import shutil
import subprocess

import pytest

from pipelines import report
from pipelines.io.files import StageError
from pipelines.runtime.config import Config

SECTIONS = {
    "headline": "Headline",
    "grades": "Grade distribution",
    "migration": "Migration matrix",
    "losses": "Expected loss by sector and by region",
    "risk-map": "Risk map",
    "movers": "Top movers",
    "alerts": "Alerts",
    "model": "Model",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I
)


@pytest.fixture(scope="module")
def html(staged):
    return staged["paths"].portfolio.read_text(encoding="utf-8")


def test_the_report_has_every_section(html):
    for anchor, title in SECTIONS.items():
        assert f'<section id="{anchor}">' in html
        assert f"<h2>{title}</h2>" in html
    assert "Trade-credit portfolio report &middot; 2024-12-31" in html
    assert "compared with 2024-11-30 (re-scored with the current model" in html


def test_the_report_is_self_contained(html):
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script" not in html.replace("&lt;script", "")  # no script at all
    images = re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", html)
    assert len(images) == 2 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "<link" not in html


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
    matrix = html[html.index('<section id="migration">') : html.index('<section id="losses">')]
    header = re.findall(r"<th>([^<]*)</th>", matrix)
    assert header[:10] == [str(g) for g in range(1, 11)] and header[10:13] == [
        "default",
        "exited",
        "total",
    ]
    assert "No previous book" not in matrix


def test_the_model_summary_reads_the_evaluation(html):
    model = html[html.index('<section id="model">') :]
    assert "version 1" in model and "platt" in model and "0.700" in model


def test_a_missing_summary_is_a_stage_error(staged_copy):
    paths = staged_copy
    paths.scored_summary.unlink()
    with pytest.raises(StageError, match=f"missing input {re.escape(str(paths.scored_summary))}"):
        report.run(Config(), paths)


def browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.mark.skipif(
    browser() is None,
    reason="no headless Chromium: install Debian's `chromium` package (.ci/run does)",
)
def test_the_report_loads_in_a_headless_browser(staged, tmp_path):
    page = staged["paths"].portfolio.as_uri()
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
    ]  # fmt: skip
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
    model = paths.portfolio.read_text(encoding="utf-8")
    model = model[model.index('<section id="model">') :]
    assert "28.6% of the customers with the model, 26.6% with the true PDs" in model
    assert "(hysteresis margin 25%)" in model and "at 27.80%, the others at 5.90%" in model
    assert "<td>209</td><td>148</td><td>308</td>" in model and "<td>34.1%</td>" in model
    assert report.monitoring_summary({"test": {}}) == {}
