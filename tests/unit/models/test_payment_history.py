"""Payment history at t: the customer's payment run from the payments made by t only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.payment_history import (
    NO_RECORDS,
    STATE_FEATURES,
    PaymentRecords,
    invoice_state,
    run_habits,
)

T = pd.Timestamp("2024-06-30")


def paid(customer: str, dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": customer, "paid_date": pd.to_datetime(dates)})


def test_the_run_habit_counts_the_payments_made_in_the_year_to_t() -> None:
    invoices = pd.concat(
        [
            # month ends (a Wednesday, a Friday, a Sunday), a Wednesday; after t: unknown
            paid("A", ["2024-01-31", "2024-05-31", "2024-06-30", "2024-06-12", "2024-07-31"]),
            # Tuesdays and a Thursday; more than a year before t: not counted
            paid("B", ["2024-06-04", "2024-06-11", "2024-06-13", "2023-06-27"]),
            paid("C", [None]),  # nothing paid yet
        ]
    )
    habits = run_habits(invoices, T)
    assert habits.loc["A", "run_month_end_share"] == pytest.approx(0.75)
    assert habits.loc["A", "run_payments"] == 4
    assert habits.loc["A", "run_weekday"] == 2 and habits.loc["A", "run_weekday_share"] == 0.5
    assert habits.loc["B", "run_weekday"] == 1  # Tuesday
    assert habits.loc["B", "run_weekday_share"] == pytest.approx(2 / 3)
    assert "C" not in habits.index
    # the same at t whatever is paid after it
    later = invoices.assign(
        paid_date=invoices["paid_date"].mask(invoices["paid_date"] > T, T + pd.Timedelta(days=3))
    )
    pd.testing.assert_frame_equal(run_habits(later, T), habits)


def open_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {"invoice_id": ["I1", "I2", "I3"], "customer_id": ["A", "A", "B"],
         "amount": [100.0, 200.0, 50.0]}
    )  # fmt: skip


def test_the_invoice_state_is_what_was_paid_and_planned_by_t() -> None:
    payments = pd.DataFrame(
        {"invoice_id": ["I1", "I2", "I2"], "customer_id": ["A", "A", "A"],
         "payment_date": pd.to_datetime(["2024-06-10", "2024-05-31", "2024-07-31"]),
         "amount": [40.0, 50.0, 150.0]}
    )  # fmt: skip
    plans = pd.DataFrame(
        {"customer_id": ["A", "B", "B"],
         "agreed_date": pd.to_datetime(["2024-05-31", "2024-03-31", "2024-06-30"]),
         "end_date": pd.to_datetime(["2024-07-31", "2024-05-31", "2024-09-30"]),
         # A's plan breaks after t (unknown at t); the status column is never read
         "broken_date": pd.to_datetime(["2024-07-31", None, None]), "status": "broken"}
    )  # fmt: skip
    state = invoice_state(open_rows(), T, PaymentRecords(payments, plans))
    assert state["part_paid_share"].tolist() == pytest.approx([0.4, 0.25, 0.0])
    assert state["days_since_part_paid"].tolist()[:2] == [20, 30]
    assert np.isnan(state["days_since_part_paid"].iloc[2])
    assert state["plan_open"].tolist() == [1, 1, 1]  # B's plan agreed at t is open
    assert state["plan_days_left"].tolist() == [31, 31, 92]
    broken = plans.assign(broken_date=pd.to_datetime(["2024-06-30", None, None]))
    assert invoice_state(open_rows(), T, PaymentRecords(None, broken))["plan_open"].tolist() == [
        0, 0, 1
    ]  # fmt: skip


def test_without_the_tables_the_state_is_unknown() -> None:
    state = invoice_state(open_rows(), T, NO_RECORDS)
    assert list(state.columns) == STATE_FEATURES and state.isna().all().all()


@pytest.mark.parametrize("column", ["invoice_id", "payment_date", "amount"])
def test_a_payments_table_without_a_column_is_named(column: str) -> None:
    payments = pd.DataFrame(columns=["invoice_id", "payment_date", "amount"]).drop(columns=column)
    with pytest.raises(KeyError, match=f"payments table lacks \\['{column}'\\]"):
        invoice_state(open_rows(), T, PaymentRecords(payments, None))
