"""What an invoice's payment distribution says, and its combination with the customer's PD.

A distribution is ``cumulative``: P(paid within ``w`` weeks of the as-of date), ``(n, W)``,
non-decreasing (:meth:`models.payment_timing.PaymentTimingModel.curves`, or an anchor's), with
P(paid by the due date) read exactly where the model splits the week at the due date
(``by_due``; else interpolated linearly inside the week).

The customer's PD term structure, where the scored book has it (``pd_1m`` .. ``pd_12m``),
makes "never paid" a competing risk (:func:`with_default_risk`): the timing model gives when
the invoice is paid if the customer does not default first, the PD when the customer defaults,
and an invoice is never paid where the default comes before the payment. So P(never paid
within the horizon) is at most the customer's PD within it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.hazard import DAYS_PER_MONTH, interpolate_terms

LATE_DAYS = (30, 60, 90)  # P(paid within N days past due) for each N
INTERVAL = 0.8  # the pay date's central interval


def curve_at(ends: np.ndarray, cumulative: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Each row's ``cumulative`` at ``days`` after the as-of date, linear between period ends.

    ``ends``: the periods' ends in days, ``(n, K)``, sorted (a repeated end: a period of no
    length); ``F(0) = 0``; beyond the last end: the last value.
    """
    ends = np.column_stack([np.zeros(len(ends)), ends]).astype(float)
    curve = np.column_stack([np.zeros(len(cumulative)), cumulative])
    days = np.clip(np.asarray(days, float), 0, ends[:, -1])
    low = np.clip((ends <= days[:, None]).sum(axis=1) - 1, 0, ends.shape[1] - 2)
    rows = np.arange(len(ends))
    span = ends[rows, low + 1] - ends[rows, low]
    share = np.divide(days - ends[rows, low], span, out=np.zeros_like(span), where=span > 0)
    share = np.clip(share, 0, 1)
    return curve[rows, low] + share * (curve[rows, low + 1] - curve[rows, low])


def week_ends(cumulative: np.ndarray) -> np.ndarray:
    """The week ends in days of a weekly distribution, ``(n, W)``."""
    return np.broadcast_to(7.0 * np.arange(1, cumulative.shape[1] + 1), cumulative.shape)


def with_default_risk(
    rows: pd.DataFrame, cumulative: np.ndarray, by_due: np.ndarray, pd_terms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The distribution with the customer's default as a competing risk.

    ``G = F / F(W)``: when it is paid given that it is paid within the horizon (the timing
    model's never-paid share is its stand-in for the default risk, which the PD replaces);
    paid in week ``w`` where paid then and the customer has not defaulted by the week's end:
    ``P(paid within w) = sum_{v <= w} g_v (1 - D(v))``, ``D`` the customer's cumulative PD
    (``pd_terms``: ``(n, 12)`` monthly, interpolated to days). Never paid: ``sum g_v D(v)``,
    at most ``D(W)``. A row without a PD (NaN) keeps its distribution; one with ``F(W) = 0``
    spreads ``G`` evenly over the weeks.

    Returns:
        ``cumulative`` and ``by_due`` (P(paid by the due date)) of the combination.
    """
    weeks = cumulative.shape[1]
    paid = cumulative[:, -1:]
    even = np.broadcast_to(np.arange(1, weeks + 1) / weeks, cumulative.shape)
    G = np.divide(cumulative, paid, out=np.array(even, float), where=paid > 0)
    D = np.column_stack(
        [interpolate_terms(np.nan_to_num(pd_terms), np.full(len(G), 7 * w / DAYS_PER_MONTH))
         for w in range(1, weeks + 1)]
    )  # fmt: skip
    combined = np.cumsum(np.diff(G, axis=1, prepend=0.0) * (1 - D), axis=1)
    to_due = rows["days_to_due"].to_numpy(float)
    before = np.clip(np.floor(to_due / 7).astype(int), 0, weeks)  # whole weeks before the due
    G0 = np.column_stack([np.zeros(len(G)), G])
    K0 = np.column_stack([np.zeros(len(G)), combined])
    i = np.arange(len(G))
    G_due = np.divide(by_due, paid[:, 0], out=even[:, -1].copy(), where=paid[:, 0] > 0)
    D_due = interpolate_terms(np.nan_to_num(pd_terms), np.clip(to_due, 0, None) / DAYS_PER_MONTH)
    due = K0[i, before] + np.clip(G_due - G0[i, before], 0, None) * (1 - D_due)
    due = np.where(to_due > 0, due, 0.0)
    known = ~np.isnan(pd_terms).any(axis=1)
    return (
        np.where(known[:, None], combined, cumulative),
        np.where(known, due, by_due),
    )


def timing_outputs(
    rows: pd.DataFrame, cumulative: np.ndarray, by_due: np.ndarray | None = None,
    days: np.ndarray | None = None,
) -> pd.DataFrame:  # fmt: skip
    """What the payment distribution says of each invoice, aligned to ``rows``.

    Columns: ``p_paid_by_due`` (``by_due`` where given, else read off ``cumulative``; 0 for an
    invoice already past due), ``p_paid_within_<N>dpd`` for :data:`LATE_DAYS`, ``p_never_paid``
    (not within the horizon: the customer defaults first), ``expected_days_to_pay`` and
    ``days_to_pay_low`` / ``_high`` (the central :data:`INTERVAL` interval), all given that it
    is paid, ``expected_pay_date``, ``early_pay_date``, ``late_pay_date`` and
    ``expected_days_late`` (negative: early). ``days``: the mean day after the as-of date of a
    payment in each week, ``(n, W)`` (the model's, where a run puts it); else the week's middle
    day, ``7 w - 3``.
    """
    to_due = rows["days_to_due"].to_numpy(float)
    weeks = cumulative.shape[1]
    if by_due is None:
        by_due = paid_within_days_past_due(rows, cumulative, 0)
    out = {"p_paid_by_due": np.where(to_due >= 0, by_due, 0.0)}
    for n in LATE_DAYS:
        out[f"p_paid_within_{n}dpd"] = paid_within_days_past_due(rows, cumulative, n)
    paid = cumulative[:, -1]
    out["p_never_paid"] = 1 - paid
    density = np.diff(cumulative, axis=1, prepend=0.0)
    mid = 7.0 * np.arange(1, weeks + 1) - 3 if days is None else days
    share = np.divide(density, paid[:, None], out=np.zeros_like(density), where=paid[:, None] > 0)
    out["expected_days_to_pay"] = np.where(paid > 0, (share * mid).sum(axis=1), np.nan)
    tail = (1 - INTERVAL) / 2
    out["days_to_pay_low"] = conditional_quantile(cumulative, tail)
    out["days_to_pay_high"] = conditional_quantile(cumulative, 1 - tail)
    return with_pay_dates(pd.DataFrame(out, index=rows.index), rows, to_due)


def with_pay_dates(frame: pd.DataFrame, rows: pd.DataFrame, to_due: np.ndarray) -> pd.DataFrame:
    """``frame`` with the pay dates of its days to pay and ``expected_days_late`` added."""
    as_of = pd.to_datetime(rows["as_of_date"])
    for name, days in (
        ("expected_pay_date", "expected_days_to_pay"),
        ("early_pay_date", "days_to_pay_low"),
        ("late_pay_date", "days_to_pay_high"),
    ):
        frame[name] = as_of + pd.to_timedelta(frame[days].round(), unit="D")
    frame["expected_days_late"] = frame["expected_days_to_pay"] - to_due
    return frame


def daily_outputs(rows: pd.DataFrame, daily: np.ndarray) -> pd.DataFrame:
    """:func:`timing_outputs` of a daily distribution (the oracle's), read off it exactly.

    ``daily``: P(paid on day ``d = 1..D`` after the as-of date), ``(n, D)``
    (``pipelines.sources.ledger_truth.oracle_days``). The expected days to pay (given it is
    paid within the days covered), the :data:`INTERVAL` percentile days, P(paid by the due date
    plus N days) summed to that day.
    """
    to_due = (pd.to_datetime(rows["due_date"]) - pd.to_datetime(rows["as_of_date"])).dt.days
    to_due = to_due.to_numpy()
    cum = np.cumsum(daily, axis=1)
    paid = cum[:, -1]

    def by_day(n: int) -> np.ndarray:  # P(paid by the due date + n days); 0 once past it
        left = np.clip(to_due + n, 0, cum.shape[1])
        return np.where(left >= 1, cum[np.arange(len(cum)), np.maximum(left, 1) - 1], 0.0)

    out = {"p_paid_by_due": by_day(0)}
    out |= {f"p_paid_within_{n}dpd": by_day(n) for n in LATE_DAYS}
    out["p_never_paid"] = 1 - paid
    day = np.arange(1, daily.shape[1] + 1)
    expected = np.divide(daily @ day, paid, out=np.full(len(paid), np.nan), where=paid > 0)
    out["expected_days_to_pay"] = expected
    tail = (1 - INTERVAL) / 2
    for name, q in (("days_to_pay_low", tail), ("days_to_pay_high", 1 - tail)):
        first = (cum < q * paid[:, None]).sum(axis=1) + 1
        out[name] = np.where(paid > 0, first, np.nan).astype(float)
    return with_pay_dates(pd.DataFrame(out, index=rows.index), rows, to_due)


def paid_within_days_past_due(
    rows: pd.DataFrame, cumulative: np.ndarray, days: float
) -> np.ndarray:
    """P(paid by the due date plus ``days``): 0 where that date is already past."""
    left = rows["days_to_due"].to_numpy(float) + days
    return np.where(
        left >= 0, curve_at(week_ends(cumulative), cumulative, np.clip(left, 0, None)), 0.0
    )


def conditional_quantile(cumulative: np.ndarray, q: float) -> np.ndarray:
    """Days to the ``q`` quantile of the pay date given payment within the horizon.

    The distribution within a week is uniform (linear between the week ends); NaN where the
    invoice is never paid within the horizon.
    """
    paid = cumulative[:, -1]
    scaled = np.divide(cumulative, paid[:, None], out=np.zeros_like(cumulative),
                       where=paid[:, None] > 0)  # fmt: skip
    curve = np.hstack([np.zeros((len(scaled), 1)), scaled])
    week = np.clip((curve < q).sum(axis=1), 1, scaled.shape[1])  # first week end reaching q
    rows = np.arange(len(curve))
    low, high = curve[rows, week - 1], curve[rows, week]
    share = np.divide(q - low, high - low, out=np.ones_like(low), where=high > low)
    return np.where(paid > 0, 7 * (week - 1 + np.clip(share, 0, 1)), np.nan)
