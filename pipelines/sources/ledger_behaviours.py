"""How the synthetic book's customers pay, beyond how late: payment runs, partial payments, plans.

Drawn from their own random stream (``generate``'s seed, stream :data:`STREAM`), so that every
other draw of the book (customers, health, defaults, invoices' issue dates, amounts, days late)
stays as it was:

* **payment runs**: a customer pays any day (``any_day``), at its month-end run (``month_end``:
  the month end on or after the day it means to pay; at the year end it also pays in the
  December run what it meant to pay by 15 January, closing its year) or on its weekly run day
  (``weekly``, Monday..Friday). Larger customers run month ends more often. No run takes an
  invoice past :data:`MAX_DAYS_PAST_DUE` days past due: the customer pays it then;
* **partial payments**: an invoice is paid in two parts with a probability that grows as the
  customer's health in the issue month falls (:func:`partial_probability`): a share
  ``U(PARTIAL_SHARE)`` when it means to pay, the rest :data:`REST_DAYS` days later (each at the
  customer's next run); the invoice is settled, ``paid_date``, with the rest;
* **payment plans** (:func:`make_payment_plans`): at a month end, a customer with a balance more
  than :data:`PLAN_DAYS_PAST_DUE` days past due agrees a plan for it with a probability that
  grows as its health falls; the plan runs for 2 or 3 monthly instalments; it is kept if every
  invoice it covers is settled by its end, broken when the customer falls into distress first.
  A plan does not move a payment: it records an agreement the customer then keeps or breaks.

The oracle (``pipelines.sources.ledger_truth``) knows each of them: the pay date a customer
means is mapped to the one it pays (:func:`pay_dates`), and back (:func:`latest_meant`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STREAM = 15  # the behaviours' random stream: np.random.default_rng([STREAM, seed])
RUN_TYPES = ("any_day", "month_end", "weekly")
MAX_DAYS_PAST_DUE = 89  # healthy customers never reach 90 days past due (a default)
YEAR_END_PULL_DAYS = 15  # a month-end payer pays by 31 December what it meant to by 15 January
REST_DAYS = 30  # the rest of a partial payment follows this many days later
PARTIAL_SHARE = (0.3, 0.7)
PLAN_DAYS_PAST_DUE = 30
ONE_DAY = np.timedelta64(1, "D")


def draw_payment_habits(brng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    """Each customer's run (``run_type``, index into :data:`RUN_TYPES`) and ``run_weekday``."""
    n = len(customers)
    month_end = np.where(customers["annual_revenue"].to_numpy() >= 5e6, 0.35, 0.15)
    u = brng.random(n)
    run = np.where(u < month_end, 1, np.where(u < month_end + 0.15, 2, 0))
    weekday = brng.integers(0, 5, n)
    return pd.DataFrame({"run_type": run, "run_weekday": np.where(run == 2, weekday, -1)})


def partial_probability(health: np.ndarray) -> np.ndarray:
    """Chance an invoice is paid in two parts, given the customer's health at issue."""
    return 1 / (1 + np.exp(2.8 + 0.9 * health))


def _days(dates: np.ndarray) -> np.ndarray:
    return np.asarray(dates, dtype="datetime64[D]")


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def pay_dates(meant: np.ndarray, due: np.ndarray, issue: np.ndarray, run: np.ndarray,
              weekday: np.ndarray) -> np.ndarray:  # fmt: skip
    """The day each payment is made, given the day the customer means to make it.

    All arrays broadcast together; dates as ``datetime64``; ``run`` and ``weekday`` as
    :func:`draw_payment_habits`. Returns ``datetime64[D]``.
    """
    meant, due, issue, run, weekday = _broadcast(meant, due, issue, run, weekday)
    paid = meant.copy()
    month = run == 1
    if month.any():
        d, start = meant[month], meant[month].astype("datetime64[M]")
        year_end = d.astype("datetime64[Y]").astype("datetime64[D]") - ONE_DAY
        pulled = (d - year_end <= YEAR_END_PULL_DAYS * ONE_DAY) & (issue[month] <= year_end)
        paid[month] = np.where(pulled, year_end, (start + 1).astype("datetime64[D]") - ONE_DAY)
    week = run == 2
    if week.any():
        d = meant[week]
        paid[week] = d + ((weekday[week] - _weekday(d)) % 7) * ONE_DAY
    return np.minimum(paid, due + MAX_DAYS_PAST_DUE * ONE_DAY)


def latest_meant(dates: np.ndarray, due: np.ndarray, issue: np.ndarray, run: np.ndarray,
                 weekday: np.ndarray) -> np.ndarray:  # fmt: skip
    """Days late of the latest meant day whose payment is made by ``dates`` (inf: any day).

    The inverse of :func:`pay_dates` (non-decreasing in the meant day): a payment meant for
    day ``d`` is made by ``x`` exactly when ``d - due <= latest_meant(x)``.
    """
    dates, due, issue, run, weekday = _broadcast(dates, due, issue, run, weekday)
    covered = dates.copy()
    month = run == 1
    if month.any():  # the last month end by then; after a year's, what was meant by 15 January
        d, start = dates[month], dates[month].astype("datetime64[M]")
        at_end = (start + 1).astype("datetime64[D]") - ONE_DAY == d
        last = np.where(at_end, d, start.astype("datetime64[D]") - ONE_DAY)
        december = np.where(at_end, start, start - 1).astype(np.int64) % 12 == 11
        pulled = december & (issue[month] <= last)
        covered[month] = last + np.where(pulled, YEAR_END_PULL_DAYS, 0) * ONE_DAY
    week = run == 2
    if week.any():  # the last run day by then
        d = dates[week]
        covered[week] = d - ((_weekday(d) - weekday[week]) % 7) * ONE_DAY
    late = (covered - due).astype(np.int64).astype(float)
    return np.where((dates - due).astype(np.int64) >= MAX_DAYS_PAST_DUE, np.inf, late)


def _broadcast(dates: np.ndarray, due: np.ndarray, issue: np.ndarray, run: np.ndarray,
               weekday: np.ndarray) -> list[np.ndarray]:  # fmt: skip
    return np.broadcast_arrays(_days(dates), _days(due), _days(issue), np.asarray(run),
                               np.asarray(weekday))  # fmt: skip


def make_payment_plans(
    brng: np.random.Generator,
    invoices: pd.DataFrame,
    health: np.ndarray,
    months: pd.DatetimeIndex,
    stop: pd.Series,
    default_date: pd.Series,
) -> pd.DataFrame:
    """Plans for balances more than :data:`PLAN_DAYS_PAST_DUE` days past due at month ends.

    Args:
        brng: The behaviours' random stream.
        invoices: The ledger (``customer_id``, ``due_date``, ``issue_date``, ``amount``,
            ``paid_date`` as settled).
        health: ``(months, customers)`` health, columns in the order of ``stop``.
        months: The month ends.
        stop: Per ``customer_id``: the first day it pays nothing any more (NaT: never).
        default_date: Per ``customer_id`` (same order): its observed default (no plan after).

    Returns:
        ``customer_id``, ``agreed_date``, ``amount``, ``instalments``, ``end_date``, ``status``
        (``kept``, ``broken``, or ``open`` at the data's as-of date) and ``broken_date``.
    """
    rows, busy = [], pd.Series(pd.Timestamp.min, index=stop.index)  # a plan's end, per customer
    code = pd.Index(stop.index)
    for m, t in enumerate(months[:-1]):
        late = invoices[(invoices["issue_date"] <= t)
                        & (invoices["due_date"] < t - pd.Timedelta(days=PLAN_DAYS_PAST_DUE))
                        & ~(invoices["paid_date"] <= t)]  # fmt: skip
        late = late.assign(open=late["paid_date"].isna())
        owed = late.groupby("customer_id").agg(
            amount=("amount", "sum"), last=("paid_date", "max"), open=("open", "max")
        )
        free = (busy[owed.index] < t) & ~(default_date[owed.index] <= t)  # one plan at a time
        owed = owed[free.to_numpy()]
        if owed.empty:
            continue
        agreed = brng.random(len(owed)) < plan_probability(health[m, code.get_indexer(owed.index)])
        plans = owed[agreed].assign(
            agreed_date=t, instalments=brng.integers(2, 4, len(owed))[agreed]
        )
        busy[plans.index] = [t + pd.offsets.MonthEnd(k) for k in plans["instalments"]]
        rows.append(plans)
    columns = ["customer_id", "agreed_date", "amount", "instalments", "end_date", "status",
               "broken_date"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    return plan_outcomes(pd.concat(rows).reset_index(), stop, months[-1])[columns]


def plan_probability(health: np.ndarray) -> np.ndarray:
    """Chance a customer agrees a plan for its overdue balance at a month end, given its health."""
    return 1 / (1 + np.exp(2.5 + 1.5 * health))


def plan_outcomes(plans: pd.DataFrame, stop: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each plan's end, and whether it was kept, broken or is still open at ``as_of``.

    A plan is broken at its first instalment (a month end) on or after the customer stops
    paying, or at its end if an invoice it covers is not settled by then; kept when every
    invoice is settled by its end; open while its end is after ``as_of``.
    """
    agreed, n = plans["agreed_date"], plans["instalments"].to_numpy()
    end = pd.DatetimeIndex([a + pd.offsets.MonthEnd(k) for a, k in zip(agreed, n, strict=True)])
    halt = pd.DatetimeIndex(plans["customer_id"].map(stop))
    # the instalment it misses first: the first one (a month end) on or after it stops paying
    first = pd.DatetimeIndex(agreed + pd.offsets.MonthEnd(1))
    missed = pd.DatetimeIndex(np.maximum((halt + pd.offsets.MonthEnd(0)).to_numpy(), first))
    broken = np.asarray((halt <= end) & (missed <= as_of))
    unsettled = (plans["open"] | ~(plans["last"] <= end)).to_numpy() & np.asarray(end <= as_of)
    status = np.where(broken | unsettled, "broken", np.where(end > as_of, "open", "kept"))
    broken_date = np.where(broken, missed, np.where(unsettled & ~broken, end, pd.NaT))
    return pd.DataFrame(
        {"customer_id": plans["customer_id"].to_numpy(), "agreed_date": agreed.to_numpy(),
         "amount": plans["amount"].round(2).to_numpy(), "instalments": n, "end_date": end,
         "status": status, "broken_date": pd.to_datetime(broken_date)}
    ).sort_values(["customer_id", "agreed_date"], ignore_index=True)  # fmt: skip


@dataclass(frozen=True)
class Settlement:
    """How each invoice is paid: in parts or not, when, and whether each payment was made."""

    p_partial: np.ndarray  # the chance of two parts, as known at issue
    partial: np.ndarray
    share: np.ndarray  # the first part's share of the amount
    first: np.ndarray  # the first (or only) payment's date
    settled: np.ndarray  # the settling payment's date
    first_made: np.ndarray  # made before the customer stopped paying and by the as-of date
    settled_made: np.ndarray


def settle(brng: np.random.Generator, meant: np.ndarray, due: np.ndarray, issue: np.ndarray,
           habits: pd.DataFrame, health: np.ndarray, stop: np.ndarray,
           as_of: pd.Timestamp) -> Settlement:  # fmt: skip
    """Each invoice's payments, given the day meant, the customer's habits and when it stops.

    Args:
        brng: The behaviours' random stream.
        meant: The day each invoice is meant to be paid.
        due: Its due date.
        issue: Its issue date.
        habits: Its customer's :func:`draw_payment_habits` row, aligned.
        health: Its customer's health in the issue month.
        stop: The first day its customer pays nothing any more (NaT: never).
        as_of: The data's as-of date: nothing after it is made yet.
    """
    run, weekday = habits["run_type"].to_numpy(), habits["run_weekday"].to_numpy()
    p_partial = partial_probability(health)
    partial = brng.random(len(meant)) < p_partial
    share = brng.uniform(*PARTIAL_SHARE, len(meant))
    first = pay_dates(meant, due, issue, run, weekday).astype("datetime64[ns]")
    rest = pay_dates(meant + np.timedelta64(REST_DAYS, "D"), due, issue, run, weekday)
    settled = np.where(partial, rest.astype("datetime64[ns]"), first)

    def made(date: np.ndarray) -> np.ndarray:
        # what the customer decided to pay before it stopped paying (the day it meant, the
        # split agreed then) is paid, on its run days; nothing decided from then on is. So runs
        # and parts never move a default: the unpaid invoices are those meant to be paid from
        # the distress on, as without them, and none is paid 90 days past due
        return (np.isnat(stop) | (meant < stop)) & (date <= as_of.to_datetime64())

    return Settlement(p_partial, partial, share, first, settled, made(first), made(settled))


def payment_records(invoices: pd.DataFrame, paid: Settlement) -> pd.DataFrame:
    """The payments table: one row per payment made (two for an invoice paid in parts).

    Args:
        invoices: ``invoice_id``, ``customer_id``, ``amount``.
        paid: How each invoice is paid (:func:`settle`).
    """
    amount = invoices["amount"].to_numpy(float)
    part = np.round(amount * paid.share, 2)
    frames = [
        (~paid.partial & paid.settled_made, paid.settled, amount),
        (paid.partial & paid.first_made, paid.first, part),
        (paid.partial & paid.settled_made, paid.settled, np.round(amount - part, 2)),
    ]
    out = pd.concat(
        [
            pd.DataFrame(
                {
                    "invoice_id": invoices["invoice_id"].to_numpy()[keep],
                    "customer_id": invoices["customer_id"].to_numpy()[keep],
                    "payment_date": pd.to_datetime(date[keep]).astype("datetime64[ns]"),
                    "amount": value[keep],
                }
            )
            for keep, date, value in frames
        ]  # fmt: skip
    )
    return out.sort_values(["invoice_id", "payment_date"], kind="stable", ignore_index=True)
