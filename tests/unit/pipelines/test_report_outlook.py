"""The portfolio report's outlook section: the summary's outlook and the back-test's errors."""

from __future__ import annotations

import json

import pytest

from pipelines import report
from pipelines.render.portfolio_outlook import backtest_rows, outlook_context
from pipelines.runtime.config import Config


def _cell(rate: float, observed: float | None) -> dict:
    return {
        "expected_defaults": 30 * rate, "expected_rate": rate, "low": 0.0, "high": 2.0,
        "low_rate": 0.0, "high_rate": 2 / 30, "observed_rate": observed,
    }  # fmt: skip


OUTLOOK = {
    "horizons": [3, 6], "level": 0.9, "scenarios": 500, "seed": 0, "observed_months": 6,
    "groups": [
        {"grouping": "book", "group": "All", "customers": 30,
         "3m": _cell(0.01, 0.012), "6m": _cell(0.02, 0.024)},
        {"grouping": "region", "group": "Nordics", "customers": 30,
         "3m": _cell(0.01, 0.012), "6m": _cell(0.02, 0.024)},
        {"grouping": "industry", "group": "retail", "customers": 30,
         "3m": _cell(0.01, None), "6m": _cell(0.02, None)},
    ],
}  # fmt: skip


def _entry(model: float, six: float, twelve: float) -> dict:
    return {
        "cells": 10,
        "mae": {"model": model, "last_6m": six, "last_12m": twelve},
        "bias": {"model": 0.0, "last_6m": 0.0, "last_12m": 0.0},
        "beats_anchors": model < min(six, twelve),
    }


BACKTEST = {
    "methods": ["model", "last_6m", "last_12m"],
    "by_horizon": {
        h: {"month_ends": 5, "first": "2024-07-31", "last": "2024-11-30",
            "region": _entry(0.0046, 0.0066, 0.0061), "industry": _entry(0.0059, 0.0088, 0.0074),
            "book": _entry(0.0087, 0.0126, 0.0085)}
        for h in ("3m", "6m")
    },
    "passed": True,
}  # fmt: skip


def section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}"')
    return html[start : html.index("</section>", start)]


def _report(paths, outlook: dict | None, backtest: dict | None, language: str = "en") -> str:
    summary = json.loads(paths.scored_summary.read_text())
    summary.pop("outlook", None)
    summary |= {"language": language} | ({"outlook": outlook} if outlook else {})
    paths.scored_summary.write_text(json.dumps(summary))
    metrics = json.loads(paths.metrics.read_text())
    metrics.pop("outlook_backtest", None)
    metrics |= {"outlook_backtest": backtest} if backtest else {}
    paths.metrics.write_text(json.dumps(metrics))
    report.run(Config(), paths)
    return section(paths.portfolio.read_text(encoding="utf-8"), "outlook")


def test_the_outlook_shows_each_region_and_sector_beside_the_observed_rate(staged_copy):
    html = _report(staged_copy, OUTLOOK, BACKTEST)
    assert "<h2>Outlook: the next 3 and 6 months</h2>" in html
    assert "Nordics" in html and "retail" in html
    assert "<b>All regions</b>" in html and "<b>All sectors</b>" in html
    assert ">1.00%</td><td>0.0% – 6.7%</td>" in html  # expected 3-month rate and its interval
    assert ">1.20%</td>" in html  # the observed rate of the last 6 months, at 3 months
    assert ">n/a</td>" in html  # retail: nobody at risk in the last 6 months
    assert html.count("<th>90% interval</th>") == 4
    assert "asset correlation by the Basel formula, 0.12-0.24" in html
    fixed = _report(staged_copy, OUTLOOK | {"asset_correlation": 0.03}, BACKTEST)
    assert "asset correlation 0.03)" in fixed


def test_the_back_test_marks_the_best_method_and_whether_the_model_beats_both(staged_copy):
    html = _report(staged_copy, OUTLOOK, BACKTEST)
    assert "Back-test: mean absolute error of the forecast default rate" in html
    assert "<b>0.46 pp</b>" in html and "0.66 pp" in html and "0.61 pp" in html
    assert "<b>0.85 pp</b>" in html  # the whole book: the 12-month rate is best
    assert '<td class="up">no</td>' in html and '<td class="down">yes</td>' in html
    assert "2024-07-31 – 2024-11-30 (5)" in html


def test_without_a_back_test_the_outlook_says_so(staged_copy):
    html = _report(staged_copy, OUTLOOK, None)
    assert "No back-test in metrics.json yet" in html and "Nordics" in html


def test_a_book_without_a_term_structure_says_why_there_is_no_outlook(staged_copy):
    html = _report(staged_copy, None, BACKTEST)
    assert "No outlook: the scored book has no PD term structure" in html


def test_the_outlook_in_chinese(staged_copy):
    html = _report(staged_copy, OUTLOOK, BACKTEST, "zh")
    assert "展望：未来 3 个月和 6 个月" in html and "全部地区" in html and "模型优于两者" in html


def test_a_rate_is_coloured_by_its_12_month_equivalent():
    context = outlook_context(OUTLOOK, None)
    cell = context["by_region"][0]["cells"][0]
    assert cell["expected_rate_12m"] == pytest.approx(1 - 0.99**4)
    assert context["by_sector"][0]["cells"][0]["observed_rate_12m"] is None
    assert [r["label"] for r in context["by_region"]] == ["Nordics", "All"]
    assert context["backtest"] is None
    assert outlook_context(None, BACKTEST) is None


def test_back_test_rows_name_the_best_method_per_horizon_and_grouping():
    rows = backtest_rows(BACKTEST)["rows"]
    assert [(r["horizon"], r["grouping"], r["best"]) for r in rows[:3]] == [
        ("3m", "region", "model"), ("3m", "industry", "model"), ("3m", "book", "last_12m"),
    ]  # fmt: skip
    assert backtest_rows({"by_horizon": {}}) is None and backtest_rows(None) is None
