"""Collections: cash-in forecast, back-test, DSO, evaluation anchor, worklist and its CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.policy import CollectionsRules
from pipelines.book.collections_cash import (
    cash_forecast,
    customer_forecast,
    dso_forecast,
    realised_receipts,
    shock_variance,
)
from pipelines.book.collections_eval import (
    ageing_anchor,
    ageing_curves,
    anchor_predictions,
    bucket_accuracy,
    harrell_c,
    lateness_bucket,
    timing_metrics,
)
from pipelines.book.collections_report import Predictions, backtest, term_structure_check
from pipelines.book.collections_worklist import COLLECTIONS_SCHEMA, choose_actions, worklist
from pipelines.book.export import csv_bytes
from pipelines.render.portfolio_collections import by_customer
from pipelines.runtime.config import CollectionsConfig

T = pd.Timestamp("2025-12-31")
D = pd.Timedelta(1, "D")


def open_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"],
            "customer_id": ["A", "A", "B"],
            "as_of_date": T,
            "amount": [100.0, 200.0, 1000.0],
            "due_date": [T + 3 * D, T - 40 * D, T + 10 * D],
            "days_to_due": [3.0, -40.0, 10.0],
            "habit_days_late": [5.0, np.nan, 20.0],
            "paid_date": [T + 6 * D, pd.NaT, T + 29 * D],
        }
    )


# P(paid within w weeks), w = 1..4: I1 all in week 1; I2 never; I3 half in week 2, half week 5+
CUMULATIVE = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.5, 0.5]])


def test_cash_forecast_sums_each_weeks_expected_receipts() -> None:
    weekly = cash_forecast(open_rows(), CUMULATIVE, 3)
    assert weekly["expected"].tolist() == pytest.approx([100.0, 500.0, 0.0])
    assert weekly["from_date"].iloc[0] == T + D and weekly["to_date"].iloc[0] == T + 7 * D
    # week 2: one invoice of 1000 paid with probability 1/2: sd 500, interval +- 1.28 sd
    assert weekly["high"].iloc[1] == pytest.approx(500 + 1.2815516 * 500)
    assert weekly["low"].iloc[1] == 0 and weekly["low"].iloc[0] == weekly["high"].iloc[0] == 100


def test_common_shock_from_the_weeks_seen_widens_the_interval() -> None:
    # two month ends, one invoice each expected in full in week 1: one came, one did not
    rows = pd.DataFrame({"as_of_date": [T, T + 31 * D], "amount": [100.0, 100.0],
                         "paid_date": [T + 2 * D, pd.NaT]})  # fmt: skip
    cumulative = np.ones((2, 2))
    # errors 0 and -100 in week 1, 0 in week 2; no own variance (p = 1): 100^2 / (2 x 100^2)
    assert shock_variance(rows, cumulative, 2) == pytest.approx(0.5)
    weekly = cash_forecast(rows.iloc[:1], cumulative[:1], 2, shock=0.5)
    assert weekly["high"].iloc[0] == pytest.approx(100 + 1.2815516 * np.sqrt(0.5) * 100)
    assert shock_variance(rows.iloc[:1], cumulative[:1], 2) == 0  # never below 0


def test_cash_forecast_refuses_more_weeks_than_the_distribution() -> None:
    with pytest.raises(ValueError, match="4 weeks < 5"):
        cash_forecast(open_rows(), CUMULATIVE, 5)


def test_customer_forecast_per_customer_largest_first() -> None:
    table = customer_forecast(open_rows(), CUMULATIVE, 2)
    assert table["customer_id"].tolist() == ["B", "A"]
    assert table.set_index("customer_id").loc["A", ["open_amount", "week_1", "total"]].tolist() == [
        300.0, 100.0, 100.0,
    ]  # fmt: skip


def test_backtest_judges_each_predictor_on_the_receipts() -> None:
    rows = open_rows().assign(habit_paid_by_due=0.5, habit_late_30=0.1,
                              habit_days_late_p10=0.0, habit_days_late_p90=9.0)  # fmt: skip
    # habit: I1 due +3 + 5 days late -> day 8, week 2; I2 past due, no habit -> next day, week 1;
    # I3 due +10 + 20 -> day 30, week 5 (outside 4 weeks)
    habit = Predictions(anchor_predictions(rows), None)
    assert realised_receipts(rows, 5).tolist() == [100.0, 0.0, 0.0, 0.0, 1000.0]
    opts = CollectionsConfig(horizon_weeks=4, forecast_weeks=4)
    result = backtest(rows, {"model": Predictions(rows, CUMULATIVE), "habit": habit}, opts)
    # realised 100 in 4 weeks; model expects 100 (week 1) + 500 (week 2): error 500;
    # habit expects 200 (week 1) + 100 (week 2): error 100 + 100
    assert result["wape"] == pytest.approx({"model": 5.0, "habit": 2.0})
    assert result["by_month"]["2025-12-31"]["realised"] == 100.0


def test_dso_ahead_from_receipts_and_run_rate_sales() -> None:
    rows = open_rows()
    history = pd.DataFrame(
        {
            "customer_id": "A",
            "issue_date": pd.date_range(T - 500 * D, T, freq="7D"),
            "amount": 91.0,
        }
    )
    history["paid_date"] = history["issue_date"] + 30 * D
    history = history.assign(paid_date=history["paid_date"].where(history["paid_date"] <= T))
    dso = dso_forecast(rows, CUMULATIVE, history, 3)
    assert dso["month_end"].tolist() == [T, *pd.date_range(T, periods=4, freq="ME")[1:]]
    assert dso["receivables"].iloc[0] == 1300.0
    assert (dso["dso_days"] > 0).all()
    # after a month the 1000 of I3 is half collected, I1 paid, I2 stays: 700 + new invoicing
    assert dso["receivables"].iloc[1] > 700


def test_anchor_is_the_customers_habit() -> None:
    rows = open_rows().assign(
        habit_paid_by_due=[0.6, np.nan, 0.2], habit_late_30=[0.1, 0.3, np.nan],
        habit_days_late_p10=[0.0, np.nan, 10.0], habit_days_late_p90=[9.0, np.nan, 30.0],
    )  # fmt: skip
    anchor = anchor_predictions(rows)
    assert anchor["p_paid_by_due"].tolist() == pytest.approx([0.6, 0.0, 0.2])
    assert anchor["p_paid_within_30dpd"].tolist() == pytest.approx([0.9, 0.0, 0.8])
    assert anchor["expected_pay_date"].tolist() == [T + 8 * D, T + D, T + 30 * D]
    metrics = timing_metrics(rows, anchor, horizon_days=28, bins=2)
    assert metrics["pay_date_mae_days"] == pytest.approx((2 + 1) / 2)
    assert metrics["interval_80_coverage"] == pytest.approx(1.0)
    # observed days 6, censored 28, 29; predicted 8, 1, 30: only (I1, I3) is in order
    assert metrics["concordance"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(
    ("late", "bucket"),
    [(-20, 0), (-8, 0), (-7, 1), (0, 1), (0.5, 2), (1, 2), (30, 2), (31, 3), (60, 3), (61, 4),
     (np.nan, 4)],
)  # fmt: skip
def test_lateness_buckets_early_on_time_1_30_31_60_over_60(late: float, bucket: int) -> None:
    assert lateness_bucket(np.array([late])).tolist() == [bucket]


def test_harrell_c_counts_censored_pairs_and_ties() -> None:
    time = np.array([1.0, 2.0, 3.0, 3.0])
    event = np.array([True, True, False, True])
    # comparable: (1,2) (1,3) (1,4) (2,3) (2,4) (4,3: same time, 3 censored) = 6 pairs
    assert harrell_c(time, event, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(5 / 6)
    assert harrell_c(time, event, time * 0) == pytest.approx(0.5)
    assert harrell_c(time, event, np.array([4.0, 3.0, 1.0, 2.0])) == pytest.approx(0.0)
    assert harrell_c(time, np.zeros(4, bool), time) is None


def test_ageing_curves_are_the_books_own_rates_by_bucket() -> None:
    learn = pd.DataFrame(
        {
            "as_of_date": T,
            "days_to_due": [5.0, 5.0, -40.0, -40.0],
            "amount": [100.0, 300.0, 100.0, 100.0],
            "paid_date": [T + 3 * D, T + 10 * D, T + 30 * D, pd.NaT],
        }
    )
    curves = ageing_curves(learn, T + 21 * D, 4)  # 3 weeks observed: paid on day 30 unknown
    assert curves.loc["current"].tolist() == pytest.approx([0.25, 1.0, 1.0, 1.0])
    assert curves.loc["31-60"].tolist() == pytest.approx([0.0] * 4)
    assert curves.loc["90+"].tolist() == curves.loc["1-30"].tolist()  # pooled: no history
    assert ageing_anchor(open_rows(), curves)[1].tolist() == pytest.approx([0.0] * 4)


def test_bucket_accuracy_weights_by_amount() -> None:
    rows = open_rows()
    predicted = pd.DataFrame({"expected_days_late": [0.0, 10.0, 19.0], "p_never_paid": [0, 0.9, 0]})
    # I1 paid 3 days late (1-30) predicted 0 (by due): wrong; I2 never, predicted never: right;
    # I3 19 days late, predicted 19: right
    assert bucket_accuracy(rows, predicted) == pytest.approx(1200 / 1300)


RULES = CollectionsRules()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"days_past_due": 60}, "hand_to_collection"),
        ({"days_past_due": 1, "p_never_paid": 0.6}, "hand_to_collection"),
        ({"p_never_paid": 0.6}, "stop_shipments"),  # not yet due: not for collection yet
        ({"grade": 9}, "stop_shipments"),
        ({"p_never_paid": 0.25}, "stop_shipments"),
        ({"days_past_due": 30, "overdue_amount": 25000}, "payment_plan"),
        ({"days_past_due": 30}, "call"),
        ({"p_paid_within_30dpd": 0.4}, "call"),
        ({"days_past_due": -5, "p_paid_by_due": 0.5}, "remind_before_due"),
        ({"days_past_due": -30, "p_paid_by_due": 0.5}, "no_action"),
        ({}, "no_action"),
    ],
)
def test_actions_follow_the_policy_most_severe_first(change: dict, code: str) -> None:
    base = {"days_past_due": -5.0, "p_never_paid": 0.01, "p_paid_within_30dpd": 0.95,
            "p_paid_by_due": 0.9, "grade": 3, "overdue_amount": 0.0}  # fmt: skip
    assert choose_actions(pd.DataFrame([base | change]), RULES).tolist() == [code]


def book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "X"],
            "name": ['=HYPERLINK("x")', "Bee Ltd", "Gone"],
            "status": ["scored", "scored", "in_default"],
            "grade": [9, 2, np.nan],
            "pd_12m": [0.2, 0.01, 1.0],
            "overdue_amount": [200.0, 0.0, 500.0],
            "reason_1": ["Pays late", None, None],
            "reason_2": ["Overdue", None, None],
        }
    )


def predicted() -> pd.DataFrame:
    rows = open_rows()
    return rows.assign(
        name=["=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")", "Bee Ltd"], currency="EUR",
        disputed=[0.0, 1.0, 0.0], days_past_due=-rows["days_to_due"],
        p_paid_by_due=[0.9, 0.0, 0.5], p_paid_within_30dpd=[1.0, 0.3, 0.5],
        p_never_paid=[0.0, 0.7, 0.0], p_missed=[0.0, 0.7, 0.1],
        expected_pay_date=[T + 3 * D, pd.NaT, T + 20 * D], early_pay_date=T + D,
        late_pay_date=T + 40 * D, expected_days_late=[0.0, np.nan, 10.0],
    )  # fmt: skip


def test_worklist_ranks_by_expected_loss_with_action_and_reasons() -> None:
    work = worklist(predicted(), book(), RULES, lgd=0.45, language="en")
    assert list(work.columns) == list(COLLECTIONS_SCHEMA)
    assert work["invoice_id"].tolist() == ["I2", "I3", "I1"]
    top = work.iloc[0]
    assert top["loss_if_missed"] == round(200 * 0.7 * 0.45)
    assert top["action_code"] == "hand_to_collection" and top["action"] == "hand to collection"
    assert top["invoice_reasons"].startswith("40 days past due; disputed; 70% chance")
    assert top["customer_reasons"] == "Pays late; Overdue"
    assert top["expected_pay_date"] is None or pd.isna(top["expected_pay_date"])
    # I3: 1000 x 0.1 x 0.45 + 1000 x 10 days x 8 % / 365
    assert work.iloc[1]["expected_loss"] == round(45 + 1000 * 10 * 0.08 / 365)
    assert work["rank"].tolist() == [1, 2, 3]
    assert work.iloc[2]["invoice_reasons"] == "due 2026-01-03, 90% chance of payment by then"
    assert work["pd_terms"].isna().all()  # no term structure in the book


def test_worklist_leaves_out_customers_in_default_and_words_chinese() -> None:
    rows = pd.concat([predicted(), predicted().iloc[:1].assign(invoice_id="I9", customer_id="X")])
    work = worklist(rows, book().assign(pd_terms=[0.05, 0.001, 1.0]), RULES, 0.45, "zh")
    assert "I9" not in work["invoice_id"].tolist()
    assert work.iloc[0]["action"] == "移交催收"
    assert work.iloc[0]["invoice_reasons"].startswith("已逾期 40 天；有争议")
    assert work.set_index("invoice_id").loc["I1", "pd_terms"] == 0.05


def test_worklist_csv_neutralises_formulas() -> None:
    text = csv_bytes(worklist(predicted(), book(), RULES, 0.45, "en"), bom=False).decode()
    assert "\"'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_p_never_paid_is_compared_with_the_customers_pd_within_the_horizon() -> None:
    predicted = pd.DataFrame({"customer_id": ["A", "A", "B", "C", "Z"],
                              "p_never_paid": [0.1, 0.3, 0.01, 0.5, 0.9]})  # fmt: skip
    # PDs rising evenly over 12 months: within 26 weeks about half of pd_12m
    book = pd.DataFrame({"customer_id": ["A", "B", "C"], "pd_12m": [0.5, 0.04, 0.8]})
    for k in range(1, 13):
        book[f"pd_{k}m"] = book["pd_12m"] * k / 12
    check = term_structure_check(predicted, book, weeks=26)
    assert check["invoices"] == 4 and check["customers"] == 3  # Z: no PD
    assert check["spearman"] == pytest.approx(1.0)
    half = 26 * 7 / (365.25 / 12) / 12
    assert check["mean_pd_within_horizon"] == pytest.approx((0.5 + 0.5 + 0.04 + 0.8) * half / 4)
    assert check["share_above_pd"] == pytest.approx(2 / 4)  # A's 0.3 > 0.249, C's 0.5 > 0.399
    assert check["max_excess"] == pytest.approx(0.5 - 0.8 * half)
    assert "skipped" in term_structure_check(predicted, book.drop(columns="pd_3m"), 26)


def test_the_reports_top_is_one_line_per_customer() -> None:
    work = worklist(predicted(), book(), RULES, lgd=0.45, language="en")
    lines = by_customer(work, top=20)
    assert lines["customer_id"].tolist() == ["A", "B"]  # A's I2 + I1 before B's I3
    a = lines.iloc[0]
    assert (a["invoices"], a["amount"], a["days_past_due"], a["invoice_id"]) == (2, 300, 40, "I2")
    assert a["expected_loss"] == work.loc[work["customer_id"] == "A", "expected_loss"].sum()
    assert lines["rank"].tolist() == [1, 2] and len(by_customer(work, top=1)) == 1
