import numpy as np
import pandas as pd
import pytest

from models.exposure import POSITION_COLUMNS, account_positions, months_before

T = pd.Timestamp("2025-12-31")
NaT = pd.NaT


def ledger() -> pd.DataFrame:
    rows = [
        # customer, issued, due, amount, paid, disputed
        ("A", "2025-12-10", "2026-01-09", 100.0, NaT, True),  # open, not due, disputed
        ("A", "2025-10-01", "2025-10-31", 200.0, NaT, False),  # open, 61 days past due
        ("A", "2025-11-01", "2025-11-25", 400.0, "2026-01-05", True),  # paid after t: open at t
        ("A", "2025-01-01", "2025-01-31", 800.0, "2025-02-01", True),  # paid: no longer disputed
        ("A", "2024-06-01", "2024-07-01", 1600.0, "2024-07-02", False),  # paid, 12+ months ago
        ("B", "2026-01-02", "2026-02-01", 3200.0, NaT, True),  # issued after t: unknown at t
        ("C", "2025-11-15", "2025-12-01", 50.0, "2025-12-31", False),  # paid on t
        ("E", "2025-12-01", "2025-12-31", 70.0, NaT, None),  # due on t: not yet past due
    ]
    columns = ["customer_id", "issue_date", "due_date", "amount", "paid_date", "disputed"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("issue_date", "due_date", "paid_date"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def test_positions_are_taken_as_the_ledger_stood_at_the_date():
    got = account_positions(ledger(), ["A", "B", "C", "D"], T)
    assert list(got.columns) == POSITION_COLUMNS
    assert list(got.index) == ["A", "B", "C", "D"]
    # the oldest open invoice (due 2025-10-31) is 61 days past due; 500 open and disputed
    assert got.loc["A"].tolist() == [700.0, 600.0, 400.0, 1500.0, 61.0, 500.0]
    amounts = [c for c in POSITION_COLUMNS if c != "days_past_due"]
    assert (got.loc[["B", "D"], amounts] == 0).all().all()  # B's invoice is after t; D has none
    assert got.loc["C"].tolist()[:4] == [0.0, 0.0, 0.0, 50.0]
    # no open invoice at t: nothing is past due, days past due are missing rather than 0
    assert got.loc[["B", "C", "D"], "days_past_due"].isna().all()


@pytest.mark.parametrize(
    ("as_of", "days", "disputed"),
    [
        ("2025-12-31", 61, 500.0),
        ("2025-11-30", 30, 400.0),  # the 100 is not issued yet
        ("2025-10-31", 0, 0.0),  # due on the date: open, not past due
        ("2025-09-30", np.nan, 0.0),  # nothing issued but the 800, 1600 paid long ago
        ("2026-01-31", 92, 100.0),  # the 400 paid on 2026-01-05
    ],
)
def test_days_past_due_and_disputed_amount_at_each_date(as_of, days, disputed):
    got = account_positions(ledger(), ["A"], pd.Timestamp(as_of)).loc["A"]
    assert got["days_past_due"] == days or (np.isnan(days) and np.isnan(got["days_past_due"]))
    assert got["disputed_open_amount"] == disputed


def test_an_open_invoice_not_yet_due_is_zero_days_past_due():
    got = account_positions(ledger(), ["E"], T).loc["E"]
    assert got["days_past_due"] == 0.0 and got["disputed_open_amount"] == 0.0  # flag missing


def test_without_a_dispute_flag_the_disputed_amount_is_missing():
    got = account_positions(ledger().drop(columns="disputed"), ["A"], T)
    assert np.isnan(got.loc["A", "disputed_open_amount"])
    assert got.loc["A", "exposure"] == 700.0 and got.loc["A", "days_past_due"] == 61.0


def test_newly_overdue_depends_on_the_period_and_the_days():
    # 200 crossed 30 days past due on 2025-11-30, 400 on 2025-12-25
    wider = account_positions(ledger(), ["A"], T, since=pd.Timestamp("2025-10-31"))
    assert wider.loc["A", "newly_overdue_amount"] == 600.0
    sixty = account_positions(ledger(), ["A"], T, overdue_days=60)
    assert sixty.loc["A", "newly_overdue_amount"] == 200.0  # crossed 60 days on 2025-12-30


def test_the_input_is_kept():
    frame = ledger()
    before = frame.copy()
    account_positions(frame, ["A"], T)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("column", ["customer_id", "due_date", "paid_date", "amount"])
def test_a_missing_ledger_column_is_an_error(column):
    with pytest.raises(KeyError, match=column):
        account_positions(ledger().drop(columns=column), ["A"], T)


def test_since_must_be_before_as_of():
    with pytest.raises(ValueError, match="must be before"):
        account_positions(ledger(), ["A"], T, since=T)


@pytest.mark.parametrize(
    ("date", "months", "expected"),
    [
        ("2025-11-30", 1, "2025-10-31"),
        ("2025-03-31", 1, "2025-02-28"),
        ("2025-02-28", 12, "2024-02-29"),
        ("2025-03-15", 1, "2025-02-15"),
    ],
)
def test_months_before(date, months, expected):
    assert months_before(pd.Timestamp(date), months) == pd.Timestamp(expected)
