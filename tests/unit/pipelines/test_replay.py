"""The month-over-month replay of the evaluate stage on a hand-made test window."""

from pathlib import Path

import pandas as pd
import pytest

from pipelines.book.replay import monitoring_figures
from pipelines.io.artifacts import load_master_scale, load_policy

ROOT = Path(__file__).parents[3]
SCALE = load_master_scale(ROOT / "configs" / "master_scale.yaml")
POLICY = load_policy(ROOT / "configs" / "policy.yaml")
MONTHS = pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"])


def labelled_window() -> pd.DataFrame:
    pds = {"A": [0.01, 0.01, 0.01], "B": [0.03, 0.05, 0.05]}  # B: grade 5, then 6 twice
    rows = [
        (c, m, p, 0.03 if c == "B" else 0.01, int(c == "B"))
        for c, path in pds.items()
        for m, p in zip(MONTHS, path, strict=True)
    ]
    frame = pd.DataFrame(
        rows, columns=["customer_id", "as_of_date", "pd_12m", "true_pd_12m", "label"]
    )
    return frame.assign(relationship_months=60.0, consecutive_quarters_late_45=0.0)


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "credit_limit": [35000.0, 35000.0],
            "payment_terms_days": [60, 60],
            "annual_revenue": [1e7, 1e7],
        }
    )


def invoices() -> pd.DataFrame:
    issued = pd.date_range("2022-01-15", "2024-03-15", freq="MS") + pd.Timedelta(days=14)
    return pd.DataFrame(
        [(c, d, d + pd.Timedelta(days=60), 10000.0, d) for c in "AB" for d in issued],
        columns=["customer_id", "issue_date", "due_date", "amount", "paid_date"],
    )


@pytest.fixture(scope="module")
def figures() -> dict:
    return monitoring_figures(labelled_window(), SCALE, POLICY, customers(), invoices())


def test_churn_and_alerts_are_reported(figures):
    churn = figures["churn"]
    assert churn["model_grade_change_share"] == 0.25  # B once in four customer-months
    assert churn["truth_grade_change_share"] == 0.0 and pd.isna(churn["ratio"])
    assert figures["alerts"]["alerts"] == 0 and figures["alerts"]["months"] == 2
    assert figures["alerts"]["hysteresis_margin"] == 0.25
    assert figures["alerts_without_hysteresis"]["rules"] == figures["alerts"]["rules"]


def test_a_worse_grade_cuts_the_limit_once_it_holds(figures):
    # B: 10,000 a month x (60 / 30 + 1.5) = 35,000 on grade 5 (factor 1.0), 31,000 on grade 6
    limits = figures["limits"]
    shipped, before = limits["shipped"]["by_month"], limits["on_month_grade"]["by_month"]
    assert [m["share"] for m in shipped.values()] == [0.0, 0.5]  # from March, held two months
    assert [m["share"] for m in before.values()] == [0.5, 0.5]  # from February, at once
    assert shipped["2024-03-31"]["newly_share"] == 0.5
    assert limits["truth"]["share"] == 0.0


def test_without_the_account_tables_the_limits_are_left_out():
    got = monitoring_figures(labelled_window(), SCALE, POLICY, customers(), None)
    assert got["limits"] == {"left_out": "no invoices table: the recommended limit needs it"}
    lacking = customers().drop(columns="credit_limit")
    got = monitoring_figures(labelled_window(), SCALE, POLICY, lacking, invoices())
    assert "lacks ['credit_limit']" in got["limits"]["left_out"]


def test_a_single_month_end_is_left_out():
    one = labelled_window().query("as_of_date == @MONTHS[0]")
    got = monitoring_figures(one, SCALE, POLICY, customers(), invoices())
    assert got == {"left_out": "the test window has 1 month end; month over month needs 2"}
