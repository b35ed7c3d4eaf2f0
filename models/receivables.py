"""A customer's receivables as known at a month end: the open invoices' ageing, days late by month.

Only what was known at ``as_of`` counts: an invoice issued after it does not exist yet, and one
paid after it was still open then. Amounts are the invoices' own (the book's one currency).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.incremental import invoices_known_at

# (label, lowest days past due, highest) of the ageing buckets auditors expect
AGEING_BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("current", -(10**9), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, np.inf),
)


def open_at(invoices: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The invoices open at ``as_of`` (issued by it, not paid by it), with ``days_past_due``.

    ``days_past_due``: the as-of date minus the due date, in days (negative: not yet due).
    """
    known = invoices_known_at(invoices, as_of)
    known = known[known["paid_date"].isna()]  # an invoice is open until its payment date
    return known.assign(days_past_due=(as_of - pd.to_datetime(known["due_date"])).dt.days)


def ageing_bucket(days_past_due: np.ndarray | pd.Series) -> np.ndarray:
    """The :data:`AGEING_BUCKETS` label of each number of days past due."""
    late = np.asarray(days_past_due)
    labels = np.empty(late.shape, dtype=object)
    for label, low, high in AGEING_BUCKETS:
        labels[(late >= low) & (late <= high)] = label
    return labels


def ageing(invoices: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Open amount and count per ageing bucket of days past due at ``as_of``.

    Returns:
        One row per bucket of :data:`AGEING_BUCKETS` (all of them, zero where empty):
        ``bucket``, ``invoices``, ``amount``, ``share`` (of the open amount; NaN: nothing open).
    """
    known = open_at(invoices, as_of)
    bucket = ageing_bucket(known["days_past_due"])
    owed = known["amount"].to_numpy(dtype=float)
    rows = []
    for label, _, _ in AGEING_BUCKETS:
        inside = bucket == label
        rows.append(
            {"bucket": label, "invoices": int(inside.sum()), "amount": float(owed[inside].sum())}
        )
    table = pd.DataFrame(rows)
    total = table["amount"].sum()
    return table.assign(share=table["amount"] / total if total > 0 else np.nan)


def days_late_by_month(
    invoices: pd.DataFrame, as_of: pd.Timestamp, months: int = 12
) -> pd.DataFrame:
    """Per month of the last ``months`` (the as-of month last): the invoices due in it, how late.

    An invoice's days late is its payment date (or, still open at ``as_of``, the as-of date)
    minus its due date, 0 when paid early.

    Returns:
        ``month`` (month end), ``invoices`` (due in the month), ``amount``, ``days_late``
        (amount-weighted mean; NaN: none due), ``on_time_share`` (of the amount, paid by the
        due date), ``open`` (still open at ``as_of``).
    """
    ends = pd.date_range(end=as_of, periods=months, freq="ME")
    known = invoices_known_at(invoices, as_of)
    due = pd.to_datetime(known["due_date"])
    known = known[(due > ends[0] - pd.offsets.MonthEnd(1)) & (due <= as_of)]
    due = pd.to_datetime(known["due_date"])
    settled = known["paid_date"].fillna(as_of)
    late = (settled - due).dt.days.clip(lower=0).astype(float)
    frame = pd.DataFrame(
        {
            "month": due + pd.offsets.MonthEnd(0),
            "amount": known["amount"].astype(float),
            "weighted": late * known["amount"],
            "on_time": known["amount"].where(late == 0, 0.0),
            "open": known["paid_date"].isna(),
        }
    )
    groups = frame.groupby("month")
    table = pd.DataFrame(
        {
            "invoices": groups.size(),
            "amount": groups["amount"].sum(),
            "weighted": groups["weighted"].sum(),
            "on_time": groups["on_time"].sum(),
            "open": groups["open"].sum(),
        }
    ).reindex(ends)
    amount = table["amount"].where(table["amount"] > 0)
    return pd.DataFrame(
        {
            "month": ends,
            "invoices": table["invoices"].fillna(0).astype(int).to_numpy(),
            "amount": table["amount"].fillna(0.0).to_numpy(),
            "days_late": (table["weighted"] / amount).to_numpy(),
            "on_time_share": (table["on_time"] / amount).to_numpy(),
            "open": table["open"].fillna(0).astype(int).to_numpy(),
        }
    )
