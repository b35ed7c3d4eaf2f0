"""The score stage's lifetime ECL: the book's column, the summary's blocks, the staged run."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from models.ecl import BUCKETS
from models.hazard import DAYS_PER_MONTH
from pipelines import report
from pipelines.book.ecl import ecl_summary, lifetime_ecl
from pipelines.render.portfolio_lifetime import lifetime_context
from pipelines.runtime.config import Config

AS_OF = pd.Timestamp("2025-06-30")
LGD = 0.45
H = 0.01  # flat monthly hazard of the scored customers


def hand_book(with_terms: bool = True) -> pd.DataFrame:
    """A scored with history, B scored without (its sector's delay), C in default, D rejected."""
    book = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "status": ["scored", "scored", "in_default", "rejected"],
            "grade": [3, 3, None, None],
            "industry": ["retail", "retail", "retail", "energy"],
            "days_late_avg_12m": [10.0, np.nan, np.nan, np.nan],
            "pd_12m": [1 - (1 - H) ** 12] * 2 + [np.nan] * 2,
            "exposure": [1000.0, 2000.0, 4000.0, np.nan],
            "expected_loss": [(1 - (1 - H) ** 12) * LGD * 1000, 0.0, LGD * 4000, np.nan],
        }
    )
    if with_terms:
        for k in range(1, 13):
            book[f"pd_{k}m"] = np.where(book["status"] == "scored", 1 - (1 - H) ** k, np.nan)
    return book


LEDGER = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C", "A"],
        "issue_date": pd.to_datetime(["2025-06-10", "2025-04-01", "2025-01-01", "2023-01-05"]),
        "due_date": [AS_OF + pd.Timedelta(days=15), AS_OF - pd.Timedelta(days=40),
                     pd.Timestamp("2025-02-01"), pd.Timestamp("2023-02-04")],
        "amount": [1000.0, 2000.0, 4000.0, 300.0],
        "paid_date": pd.to_datetime([None, None, None, "2023-02-10"]),
    }
)  # fmt: skip
DEFAULTS = pd.DataFrame({"customer_id": ["C"], "default_date": [pd.Timestamp("2025-05-10")]})


def test_lifetime_ecl_of_each_status():
    book, per_invoice = lifetime_ecl(hand_book(), LEDGER, AS_OF, LGD)
    ecl = book.set_index("customer_id")["ecl_lifetime"]
    assert ecl["A"] == pytest.approx(1000 * LGD * H * 25 / DAYS_PER_MONTH)  # 15 + 10 days
    # B has no days late: its sector's median delay (A's 10 days), after the due date
    assert ecl["B"] == pytest.approx(2000 * LGD * H * 10 / DAYS_PER_MONTH)
    assert ecl["C"] == LGD * 4000  # in default: LGD x exposure
    assert np.isnan(ecl["D"])
    assert sorted(per_invoice["customer_id"]) == ["A", "B"]  # C is not scored


def test_a_book_without_a_term_structure_keeps_the_scored_empty(caplog):
    with caplog.at_level(logging.WARNING, logger="pipelines.score"):
        book, per_invoice = lifetime_ecl(hand_book(with_terms=False), LEDGER, AS_OF, LGD)
    assert per_invoice is None
    assert "no PD term structure" in caplog.text
    ecl = book.set_index("customer_id")["ecl_lifetime"]
    assert ecl[["A", "B"]].isna().all() and ecl["C"] == LGD * 4000
    blocks = ecl_summary(book, per_invoice, LEDGER, DEFAULTS, AS_OF, LGD)
    assert blocks["lifetime_ecl"] is None
    matrix = blocks["provision_matrix"]
    assert [b["model_ecl"] for b in matrix["buckets"]] == [None] * 5
    assert matrix["total"]["amount"] == 3000.0  # A's and B's open invoices: C is in default


def test_no_ledger_no_blocks():
    book, per_invoice = lifetime_ecl(hand_book(), None, AS_OF, LGD)
    assert per_invoice is None and book["ecl_lifetime"].iloc[:2].isna().all()
    assert ecl_summary(book, None, None, DEFAULTS, AS_OF, LGD) == {
        "lifetime_ecl": None, "provision_matrix": None
    }  # fmt: skip


def test_the_summary_blocks_add_up():
    book, per_invoice = lifetime_ecl(hand_book(), LEDGER, AS_OF, LGD)
    blocks = ecl_summary(book, per_invoice, LEDGER, DEFAULTS, AS_OF, LGD)
    json.dumps(blocks, allow_nan=False)  # plain JSON: no NaN
    life = blocks["lifetime_ecl"]
    assert life["total"] == pytest.approx(life["performing"] + life["defaulted"], abs=0.01)
    assert life["defaulted"] == LGD * 4000 and life["expected_loss"] == round(
        book["expected_loss"].sum(), 2
    )
    assert life["delay_from_sector"] == 1 and life["open_invoices"] == 2
    matrix = blocks["provision_matrix"]
    assert [b["bucket"] for b in matrix["buckets"]] == BUCKETS
    by = {b["bucket"]: b for b in matrix["buckets"]}
    assert by["current"]["amount"] == 1000.0 and by["31-60"]["amount"] == 2000.0
    assert matrix["total"]["model_ecl"] == pytest.approx(life["performing"], abs=0.01)
    # the history: 2023-01-31 .. 2024-06-30; A's invoice of 2023 was open at January's end only
    assert (matrix["first_month"], matrix["last_month"]) == ("2023-01-31", "2024-06-30")
    assert by["current"]["history_invoices"] == 1 and by["current"]["loss_rate"] == 0.0


def test_the_staged_run_carries_the_lifetime_ecl(staged, read_scored):
    scores, defaulted = (
        read_scored("scores"),
        pd.read_csv(staged["paths"].defaulted, encoding="utf-8-sig"),
    )
    assert "ecl_lifetime" in scores.columns
    assert (
        list(scores.columns).index("ecl_lifetime")
        == list(scores.columns).index("expected_loss") + 1
    )
    assert (defaulted["ecl_lifetime"] == defaulted["expected_loss"]).all()
    summary = json.loads(staged["paths"].scored_summary.read_text())
    matrix = summary["provision_matrix"]
    assert [b["bucket"] for b in matrix["buckets"]] == BUCKETS
    life = summary["lifetime_ecl"]
    filled = pd.to_numeric(scores["ecl_lifetime"], errors="coerce")
    if filled.isna().all():  # the tiny model has no term structure
        assert life is None
    else:
        assert life["performing"] == pytest.approx(filled.sum(), abs=len(filled))


def test_the_report_context_adds_the_model_share():
    matrix = {
        "buckets": [{"bucket": "current", "amount": 200.0, "model_ecl": 2.0},
                    {"bucket": "90+", "amount": 0.0, "model_ecl": 0.0}],
        "total": {"amount": 200.0, "provision": 5.0, "model_ecl": None},
    }  # fmt: skip
    got = lifetime_context(None, matrix)
    assert [r["ecl_share"] for r in got["rows"]] == [0.01, None]
    assert got["total"]["rate"] == 0.025 and got["total"]["ecl_share"] is None
    assert lifetime_context(None, None) is None


LIFE = {
    "total": 5500.0, "performing": 1500.0, "defaulted": 4000.0, "expected_loss": 9000.0,
    "performing_expected_loss": 5000.0, "defaulted_expected_loss": 4000.0, "exposure": 1e5,
    "open_invoices": 7, "mean_life_months": 1.25, "delay_from_sector": 0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("language", "title", "bucket"),
    [("en", "Lifetime expected loss and provision matrix", "31–60 days past due"),
     ("zh", "存续期预期损失与拨备矩阵", "逾期 31–60 天")],
)  # fmt: skip
def test_the_report_shows_the_section(staged_copy, language, title, bucket):
    paths = staged_copy
    summary = json.loads(paths.scored_summary.read_text())
    with_life = {**summary, "language": language, "lifetime_ecl": LIFE}
    paths.scored_summary.write_text(json.dumps(with_life))
    report.run(Config(), paths)
    html = paths.portfolio.read_text(encoding="utf-8")
    shown = html[html.index('<section id="lifetime-ecl"') :]
    shown = shown[: shown.index("</section>")]
    assert f"<h2>{title}</h2>" in shown and bucket in shown
    assert "5,500 EUR" in shown and "9,000 EUR" in shown  # lifetime beside 12-month
    assert shown.count('<tr><td class="l">') == len(BUCKETS) + 1  # and the total


def test_the_report_without_a_term_structure_says_so(staged_copy):
    paths = staged_copy
    summary = json.loads(paths.scored_summary.read_text())
    paths.scored_summary.write_text(json.dumps({**summary, "lifetime_ecl": None}))
    report.run(Config(), paths)
    html = paths.portfolio.read_text(encoding="utf-8")
    assert "no lifetime ECL this month" in html and 'id="lifetime-ecl"' in html
    del summary["provision_matrix"]  # an older summary: no section
    paths.scored_summary.write_text(json.dumps(summary))
    report.run(Config(), paths)
    assert 'id="lifetime-ecl"' not in paths.portfolio.read_text(encoding="utf-8")
