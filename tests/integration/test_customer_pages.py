"""The customer credit reports of a real ``dvc repro`` (``tiny_run``): who, what, how it prints."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pipelines.io.paths import page_name
from pipelines.render.links import customers_with_pages

pytestmark = pytest.mark.slow


def indicator_rows(html: str) -> list[list[str]]:
    """The cells of the indicator table (one list per indicator)."""
    section = html[html.index('<section id="indicators">') : html.index('<section id="events"')]
    rows = re.findall(r'<tr><td class="wrap">(.*?)</tr>', section, flags=re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", f"<td>{row}", flags=re.S) for row in rows]


@pytest.fixture(scope="module")
def pages(tiny_run):
    folder = tiny_run / "data/reports/customers"
    book = pd.read_parquet(tiny_run / "data/scored/history/2025-12-31.parquet")
    alerts = pd.read_csv(tiny_run / "data/scored/alerts.csv", encoding="utf-8-sig", dtype=str)
    return folder, book, customers_with_pages(book, alerts, 8)


def test_one_page_per_high_risk_or_alerted_customer_and_an_index(pages):
    folder, _, chosen = pages
    assert chosen
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [page_name(c) for c in chosen] + ["index.html"]
    )


def test_every_scored_page_shows_at_least_40_indicators_with_median_and_percentile(pages):
    folder, book, chosen = pages
    scored = set(book.loc[book["status"] == "scored", "customer_id"]) & set(chosen)
    assert scored
    for cid in scored:
        rows = indicator_rows((folder / page_name(cid)).read_text(encoding="utf-8"))
        assert len(rows) >= 40, (cid, len(rows))
        medians = [r[2] for r in rows if r[2] != "n/a"]
        percentiles = [r[3] for r in rows if r[3] != "n/a"]
        assert len(medians) >= 30 and len(percentiles) >= 20, cid


def test_the_longest_pages_print_on_at_most_three_a4_pages(pages, chromium):
    folder, _, chosen = pages
    longest = sorted(chosen, key=lambda c: -(folder / page_name(c)).stat().st_size)[:2]
    for cid in longest:
        page = folder / page_name(cid)
        assert 'id="indicators"' in chromium.dom(page)
        assert chromium.pdf_pages(page) <= 3, cid
