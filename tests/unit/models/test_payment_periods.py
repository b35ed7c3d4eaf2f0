"""Payment-timing periods: the calendar each one holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.payment_periods import (
    day_positions,
    period_calendar,
    period_ends,
    run_kind,
    run_splits,
)

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


def runs(month_end: list[bool], weekday: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"run_month_end_share": [1.0 if m else 0.1 for m in month_end],
         "run_weekday_share": [0.9 if w >= 0 else 0.3 for w in weekday],
         "run_payments": 8.0, "run_weekday": [max(w, 0) for w in weekday]}
    )  # fmt: skip


def test_a_run_needs_half_of_five_payments_month_ends_first() -> None:
    rows = runs([True, False, False], [2, 3, -1])
    month_end, weekday = run_kind(rows)
    assert month_end.tolist() == [True, False, False]
    assert weekday.tolist() == [-1, 3, -1]
    few = run_kind(rows.assign(run_payments=4.0))
    assert not few[0].any() and (few[1] == -1).all()
    assert run_kind(rows.drop(columns="run_weekday"))[1].tolist() == [-1, -1, -1]


def test_run_days_are_periods_of_one_day() -> None:
    # 30 November 2024 (a Saturday): month ends 31 and 62 days on; Wednesdays 4, 11, .. on
    as_of = np.repeat(epoch(T), 3)
    splits = run_splits(as_of, np.array([True, False, False]), np.array([-1, 2, -1]), 10)
    assert sorted(set(splits[0]) - {0}) == [30, 31, 61, 62]
    assert sorted(set(splits[1]) - {0})[:4] == [3, 4, 10, 11]
    assert (splits[2] == 0).all()
    ends = period_ends(np.array([10.0, 10.0, 10.0]), 10, splits)
    assert [e for e in ends[0] if e][:7] == [7, 10, 14, 21, 28, 30, 31]
    assert [e for e in ends[1] if e][:6] == [3, 4, 7, 10, 11, 14]
    assert len(np.unique(ends[1][ends[1] > 0])) == (ends[1] > 0).sum()  # unique
    cal = period_calendar(as_of[:2], np.array([30, 3]), np.array([31, 4]), np.array([True, False]),
                          np.array([-1, 2]))  # fmt: skip
    assert cal["holds_run_day"].tolist() == [1, 1]


def test_the_day_of_a_payment_inside_a_week_follows_the_periods_mass() -> None:
    ends = np.array([[0, 3, 4, 7, 14]])
    cumulative = np.array([[0.0, 0.0, 0.6, 0.6, 1.0]])  # day 4 (its own period), week 2
    days = day_positions(ends, cumulative, 2)
    assert days.tolist() == [[4.0, 11.0]]
    assert day_positions(ends, np.zeros((1, 5)), 2).tolist() == [[4.0, 11.0]]  # no mass: middle
