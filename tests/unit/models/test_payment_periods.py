"""Payment-timing periods: the calendar each one holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.payment_periods import period_calendar, period_ends

T = pd.Timestamp("2024-11-30")


def epoch(date: pd.Timestamp) -> np.ndarray:
    return np.array([np.datetime64(date.date(), "D").astype(np.int64)])


@pytest.mark.parametrize(
    ("start", "end", "month_end", "year_end", "to_month_end"),
    [
        (0, 7, 0, 0, 30),  # 1..7 December: the month end 30 days after the 1st
        (28, 35, 1, 1, 2),  # 29 December .. 4 January: both, the month end 2 days on
        (30, 31, 1, 1, 0),  # 31 December alone
        (31, 38, 0, 0, 30),  # 1..7 January
    ],
)
def test_the_calendar_of_a_period(start, end, month_end, year_end, to_month_end) -> None:
    cal = period_calendar(epoch(T), np.array([start]), np.array([end]), np.array([False]),
                          np.array([-1]))  # fmt: skip
    assert cal["holds_month_end"].tolist() == [month_end]
    assert cal["holds_year_end"].tolist() == [year_end]
    assert cal["days_to_month_end"].tolist() == [to_month_end]
    assert cal["holds_run_day"].tolist() == [0]


def test_without_splits_the_ends_are_the_weeks_and_the_due_date() -> None:
    ends = period_ends(np.array([10.0, 14.0]), 4)
    assert ends.tolist() == [[7, 10, 14, 21, 28], [0, 7, 14, 21, 28]]
