import pandas as pd
import pytest

from models.exposure import POSITION_COLUMNS, account_positions, months_before

T = pd.Timestamp("2025-12-31")
NaT = pd.NaT


def ledger() -> pd.DataFrame:
    rows = [
        # customer, issued, due, amount, paid
        ("A", "2025-12-10", "2026-01-09", 100.0, NaT),  # open, not due
        ("A", "2025-10-01", "2025-10-31", 200.0, NaT),  # open, 61 days past due: crossed 30 in Nov
        ("A", "2025-11-01", "2025-11-25", 400.0, "2026-01-05"),  # paid after t: open at t
        ("A", "2025-01-01", "2025-01-31", 800.0, "2025-02-01"),  # paid
        ("A", "2024-06-01", "2024-07-01", 1600.0, "2024-07-02"),  # paid, more than 12 months ago
        ("B", "2026-01-02", "2026-02-01", 3200.0, NaT),  # issued after t: unknown at t
        ("C", "2025-11-15", "2025-12-01", 50.0, "2025-12-31"),  # paid on t
    ]
    frame = pd.DataFrame(
        rows, columns=["customer_id", "issue_date", "due_date", "amount", "paid_date"]
    )
    for col in ("issue_date", "due_date", "paid_date"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def test_positions_are_taken_as_the_ledger_stood_at_the_date():
    got = account_positions(ledger(), ["A", "B", "C", "D"], T)
    assert list(got.columns) == POSITION_COLUMNS
    assert list(got.index) == ["A", "B", "C", "D"]
    assert got.loc["A"].tolist() == [700.0, 600.0, 400.0, 1500.0]
    assert (got.loc[["B", "D"]] == 0).all().all()  # B's invoice is after t; D has none
    assert got.loc["C"].tolist() == [0.0, 0.0, 0.0, 50.0]


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
