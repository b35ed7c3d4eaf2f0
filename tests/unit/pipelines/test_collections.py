"""Collections: cash-in forecast, back-test, DSO, evaluation anchor, worklist and its CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.policy import CollectionsRules
from pipelines.book.collections_cash import (
    backtest_errors,
    cash_forecast,
    customer_forecast,
    dso_forecast,
    naive_receipts,
    realised_receipts,
)
from pipelines.book.collections_eval import anchor_predictions, bucket_accuracy, timing_metrics
from pipelines.book.collections_report import term_structure_check
from pipelines.book.collections_worklist import COLLECTIONS_SCHEMA, choose_actions, worklist
from pipelines.book.export import csv_bytes

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


def test_cash_forecast_refuses_more_weeks_than_the_distribution() -> None:
    with pytest.raises(ValueError, match="4 weeks < 5"):
        cash_forecast(open_rows(), CUMULATIVE, 5)


def test_customer_forecast_per_customer_largest_first() -> None:
    table = customer_forecast(open_rows(), CUMULATIVE, 2)
    assert table["customer_id"].tolist() == ["B", "A"]
    assert table.set_index("customer_id").loc["A", ["open_amount", "week_1", "total"]].tolist() == [
        300.0, 100.0, 100.0,
    ]  # fmt: skip


def test_naive_and_realised_receipts_by_week() -> None:
    rows = open_rows()
    # naive: I1 due +3 + 5 days late -> day 8, week 2; I2 past due, no habit -> next day, week 1;
    # I3 due +10 + 20 -> day 30, week 5 (outside 4 weeks)
    assert naive_receipts(rows, 4).tolist() == [200.0, 100.0, 0.0, 0.0]
    assert realised_receipts(rows, 5).tolist() == [100.0, 0.0, 0.0, 0.0, 1000.0]
    errors = backtest_errors(cash_forecast(rows, CUMULATIVE, 4), naive_receipts(rows, 4),
                             realised_receipts(rows, 4))  # fmt: skip
    assert errors["model_mae"] == pytest.approx(500 / 4)
    assert errors["naive_mae"] == pytest.approx(200 / 4)
    assert errors["model_wape"] == pytest.approx(5.0)


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
    metrics = timing_metrics(rows, anchor, bins=2)
    assert metrics["pay_date_mae_days"] == pytest.approx((2 + 1) / 2)
    assert metrics["interval_80_coverage"] == pytest.approx(1.0)


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


def test_p_never_paid_is_compared_with_the_customers_pd_within_6_months() -> None:
    predicted = pd.DataFrame({"customer_id": ["A", "A", "B", "C"],
                              "p_never_paid": [0.1, 0.3, 0.01, 0.5]})  # fmt: skip
    book = pd.DataFrame({"customer_id": ["A", "B", "C"], "pd_6m": [0.25, 0.02, 0.4]})
    check = term_structure_check(predicted, book)
    assert check["customers"] == 3 and check["spearman"] == pytest.approx(1.0)
    assert check["mean_p_never_paid"] == pytest.approx((0.2 + 0.01 + 0.5) / 3)
    assert check["share_above_pd_6m"] == pytest.approx(1 / 3)
    assert "skipped" in term_structure_check(predicted, book.drop(columns="pd_6m"))
