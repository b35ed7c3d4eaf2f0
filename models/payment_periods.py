"""The periods of the payment-timing hazard and what each one's calendar holds.

An open invoice at the as-of date ``t`` is at risk over periods after ``t``: the weeks, the one
holding the due date split at it (:func:`period_ends`) and, for a customer whose paid history
shows a payment run (:func:`run_habits`), each of its run days as a period of one day, so that
the hazard can put a run's payments on their day and the expected pay date is read at it, not
in the middle of a week. Each period carries its calendar (:func:`period_calendar`): whether it
holds a month end, the year end, the customer's run day, and the days from its start to the
month end. Everything here is known at ``t``: the calendar, and the payments made by ``t``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CALENDAR = ["holds_month_end", "holds_year_end", "days_to_month_end"]
RUN_DAY = "holds_run_day"
RUN_FEATURES = ["run_month_end_share", "run_weekday_share", "run_payments"]
RUN_WEEKDAY = "run_weekday"  # the customer's most common payment weekday (Monday 0), NaN: none
RUN_SHARE = 0.5  # a run: at least this share of its payments on month ends / on one weekday
RUN_MIN_PAYMENTS = 5  # .. out of at least this many in the year before t


def run_kind(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Whether each row's customer runs month ends, and its weekly run day (-1: none).

    A run needs :data:`RUN_MIN_PAYMENTS` payments, :data:`RUN_SHARE` of them on month ends (a
    month-end run, first) or on one weekday (a weekly run); rows without the columns: none.
    """
    if not set(RUN_FEATURES) | {RUN_WEEKDAY} <= set(rows.columns):
        return np.zeros(len(rows), bool), np.full(len(rows), -1)
    enough = rows["run_payments"].to_numpy(float) >= RUN_MIN_PAYMENTS
    month_end = enough & (rows["run_month_end_share"].to_numpy(float) >= RUN_SHARE)
    weekly = enough & ~month_end & (rows["run_weekday_share"].to_numpy(float) >= RUN_SHARE)
    weekday = np.nan_to_num(rows[RUN_WEEKDAY].to_numpy(float), nan=-1).astype(np.int64)
    return month_end, np.where(weekly, weekday, -1)


def epoch_days(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as days since 1970-01-01 (``int64``)."""
    return np.asarray(pd.to_datetime(dates), "datetime64[D]").astype(np.int64)


def _month_end(day: np.ndarray) -> np.ndarray:
    month = day.astype("datetime64[D]").astype("datetime64[M]")
    return ((month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")).astype(np.int64)


def _year_end(day: np.ndarray) -> np.ndarray:
    year = day.astype("datetime64[D]").astype("datetime64[Y]")
    return ((year + 1).astype("datetime64[D]") - np.timedelta64(1, "D")).astype(np.int64)


def _weekday(day: np.ndarray) -> np.ndarray:
    return (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def run_splits(
    as_of: np.ndarray, month_end: np.ndarray, weekday: np.ndarray, horizon: int
) -> np.ndarray:
    """Each row's run days as one-day periods: the ends ``d - 1, d`` of each, ``(n, 2 horizon)``.

    ``as_of`` in days since 1970; ``d`` the days after it of the month ends (a month-end run)
    or of the run weekday (a weekly run) within the horizon; 0 where none (no run).
    """
    n, last = len(as_of), 7 * horizon
    day = np.zeros((n, horizon), np.int64)
    k = np.arange(horizon)
    first = (weekday[:, None] - _weekday(as_of[:, None] + 1)) % 7 + 1
    day = np.where(weekday[:, None] >= 0, first + 7 * k, day)
    month = (as_of.astype("datetime64[D]").astype("datetime64[M]"))[:, None] + k + 1
    ends = (month.astype("datetime64[D]") - np.timedelta64(1, "D")).astype(np.int64)
    day = np.where(month_end[:, None], ends - as_of[:, None], day)
    day = np.where((day > 0) & (day <= last), day, 0)
    return np.column_stack([np.maximum(day - 1, 0), day])


def period_ends(
    days_to_due: np.ndarray, horizon: int, splits: np.ndarray | None = None
) -> np.ndarray:
    """Each invoice's period ends in days after the as-of date, ``(n, K)``, sorted, unique.

    The week ends ``7, 14, .., 7 horizon``, the due date where it falls inside a week
    (``days_to_due`` in ``1 .. 7 horizon``, not a week end), so that P(paid by the due date) is
    read at a period end, and ``splits`` (:func:`run_splits`); a missing or repeated end is a
    period of no length at the start (end 0). ``K`` is at least ``horizon + 1``.
    """
    due = np.asarray(days_to_due, float)
    inside = (due > 0) & (due < 7 * horizon) & (due % 7 != 0)
    split = np.where(inside, np.round(due), 0).astype(np.int64)
    weeks = np.broadcast_to(7 * np.arange(1, horizon + 1, dtype=np.int64), (len(due), horizon))
    parts = [split[:, None], weeks] + ([] if splits is None else [splits])
    ends = np.sort(np.column_stack(parts), axis=1)
    repeated = np.column_stack([np.zeros(len(ends), bool), ends[:, 1:] == ends[:, :-1]])
    ends = np.sort(np.where(repeated, 0, ends), axis=1)
    width = max(horizon + 1, int((ends > 0).sum(axis=1).max(initial=0)))
    return ends[:, ends.shape[1] - width :]


def period_calendar(
    as_of: np.ndarray, start: np.ndarray, end: np.ndarray, month_end: np.ndarray,
    weekday: np.ndarray,
) -> dict[str, np.ndarray]:  # fmt: skip
    """What the calendar of each period ``(start, end]`` (days after ``as_of``) holds.

    All arrays aligned, 1-D; ``as_of`` in days since 1970; ``month_end`` and ``weekday`` as
    :func:`run_kind`. Returns float32 :data:`CALENDAR` and :data:`RUN_DAY` (a month-end run's
    month end, a weekly run's weekday; 0 without a run).
    """
    first, last = as_of + start + 1, as_of + end
    to_month_end = _month_end(first) - first
    holds_month_end = _month_end(first) <= last
    on_weekday = (weekday - _weekday(first)) % 7 <= end - start - 1
    run_day = np.where(month_end, holds_month_end, (weekday >= 0) & on_weekday)
    return {
        "holds_month_end": holds_month_end.astype(np.float32),
        "holds_year_end": (_year_end(first) <= last).astype(np.float32),
        "days_to_month_end": to_month_end.astype(np.float32),
        RUN_DAY: run_day.astype(np.float32),
    }


def day_positions(ends: np.ndarray, cumulative: np.ndarray, weeks: int) -> np.ndarray:
    """The mean day after the as-of date of a payment in each week, given it falls there.

    From the distribution over the periods (``ends`` as :func:`period_ends`, ``cumulative`` on
    them): each period's mass at its mean day (uniform over its days); ``7 w - 3`` (the week's
    middle day) where a week holds no mass. ``(n, weeks)``.
    """
    n = len(ends)
    starts = np.column_stack([np.zeros(n, ends.dtype), ends[:, :-1]])
    mass = np.diff(cumulative, axis=1, prepend=0.0)
    week = np.clip(np.ceil(ends / 7).astype(np.int64) - 1, 0, weeks - 1)
    index = (np.arange(n)[:, None] * weeks + week).ravel()
    total = np.bincount(index, mass.ravel(), n * weeks).reshape(n, weeks)
    mid = (starts + 1 + ends) / 2
    moment = np.bincount(index, (mass * mid).ravel(), n * weeks).reshape(n, weeks)
    middle = np.broadcast_to(7.0 * np.arange(1, weeks + 1) - 3, (n, weeks))
    return np.divide(moment, total, out=np.array(middle), where=total > 1e-12)
