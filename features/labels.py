"""Default dates, the snapshot grid and labels (see DESIGN.md, Definitions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import month_end, month_index, positions

TRIGGERS = ("days_past_due", "insolvency_filing", "defaults_table")


def days_past_due_defaults(
    invoices: pd.DataFrame, as_of_date: pd.Timestamp, days_past_due: int, materiality: float
) -> pd.DataFrame:
    """First date each customer has material non-disputed amounts ``days_past_due`` overdue.

    An invoice counts from ``due_date + days_past_due`` while still unpaid; the default date is
    the first such date, not after ``as_of_date``, at which the counting amounts reach
    ``materiality``.

    Returns:
        Frame with ``customer_id`` and ``default_date``.
    """
    # on the columns' arrays: the ledger's millions of rows are not copied, only the late ones
    crossing = invoices["due_date"].to_numpy() + np.timedelta64(days_past_due, "D")
    paid = invoices["paid_date"].to_numpy()
    late = ~invoices["disputed"].astype(bool).to_numpy()
    late &= crossing <= pd.Timestamp(as_of_date).to_numpy()
    late &= np.isnat(paid) | (paid > crossing)
    cand = pd.DataFrame(
        {
            "customer_id": invoices["customer_id"].to_numpy()[late],
            "date": crossing[late],
            "paid": paid[late],
            "amount": invoices["amount"].to_numpy()[late],
        }
    )
    if cand.empty:
        return pd.DataFrame(
            {"customer_id": pd.Series(dtype=str), "default_date": pd.Series(dtype="datetime64[ns]")}
        )
    anchors = cand[["customer_id", "date"]].drop_duplicates()  # each crossing date once
    pairs = cand.merge(anchors, on="customer_id", suffixes=("", "_at"))
    counts = (pairs["date"] <= pairs["date_at"]) & (
        pairs["paid"].isna() | (pairs["paid"] > pairs["date_at"])
    )
    overdue = pairs[counts].groupby(["customer_id", "date_at"])["amount"].sum()
    hit = overdue[overdue >= materiality].reset_index()
    first = hit.groupby("customer_id")["date_at"].min()
    return first.rename("default_date").reset_index()


def default_dates(
    invoices: pd.DataFrame | None,
    events: pd.DataFrame | None,
    defaults: pd.DataFrame | None,
    as_of_date: pd.Timestamp,
    days_past_due: int = 90,
    materiality: float = 500.0,
) -> pd.DataFrame:
    """Each defaulted customer's first default date and what triggered it.

    Returns:
        Frame with ``customer_id``, ``default_date`` and ``default_trigger`` (one of TRIGGERS).
    """
    parts = []
    if invoices is not None:
        dpd = days_past_due_defaults(invoices, as_of_date, days_past_due, materiality)
        parts.append(dpd.assign(default_trigger="days_past_due"))
    if events is not None:
        filings = events.loc[events["event_type"] == "insolvency_filing"]
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": filings["customer_id"].to_numpy(),
                    "default_date": filings["event_date"].to_numpy(),
                    "default_trigger": "insolvency_filing",
                }
            )
        )
    if defaults is not None:
        parts.append(
            defaults[["customer_id", "default_date"]].assign(default_trigger="defaults_table")
        )
    columns = ["customer_id", "default_date", "default_trigger"]
    frames = [p[columns] for p in parts if len(p)]
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c == "default_date" else str) for c in columns}
        )
    both = pd.concat(frames, ignore_index=True)
    both = both[both["default_date"] <= as_of_date]
    both = both.sort_values(["customer_id", "default_date", "default_trigger"], kind="stable")
    return both.drop_duplicates("customer_id", keep="first").reset_index(drop=True)


def build_snapshots(
    customers: pd.DataFrame,
    defaults: pd.DataFrame,
    months: list[int],
    as_of_date: pd.Timestamp,
    horizon_months: int,
) -> pd.DataFrame:
    """Month-end snapshots of customers in the book and not in default, with labels.

    Args:
        customers: The book (``customer_id``, ``relationship_start``, optionally
            ``relationship_end``: no snapshot after it).
        defaults: Output of :func:`default_dates`.
        months: Month indices of the snapshots; those after ``as_of_date``'s last complete
            month end are dropped.
        as_of_date: The data's as-of date.
        horizon_months: Label horizon H: default within (t, t + H months].

    Returns:
        Frame with ``customer_id``, ``as_of_date``, ``month`` (index), ``default_date`` and
        ``label`` (1.0 / 0.0, NaN where t + H lies after ``as_of_date``).
    """
    return snapshot_grid(customers, defaults, months, as_of_date, horizon_months)[0]


def snapshot_grid(
    customers: pd.DataFrame,
    defaults: pd.DataFrame,
    months: list[int],
    as_of_date: pd.Timestamp,
    horizon_months: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`build_snapshots`, and each snapshot's row in ``customers`` (an integer code)."""
    last_month = int(month_index(pd.DatetimeIndex([as_of_date]))[0])
    if month_end(last_month)[0] != as_of_date.normalize():
        last_month -= 1  # a mid-month as-of date: the last complete month end
    months = np.array(sorted(m for m in months if m <= last_month), dtype=np.int64)
    if len(months) == 0:
        raise ValueError("no snapshot months: as-of date is before the first snapshot month")
    ends = month_end(months)
    row = np.repeat(np.arange(len(customers)), len(months))
    at = np.tile(ends.to_numpy(), len(customers))
    default_date = _first_default(customers, defaults)[row]
    start = customers["relationship_start"].to_numpy()[row]
    # no relationship start: in the book from the first snapshot month; after its end: out
    keep = pd.isna(start) | (start <= at)
    if "relationship_end" in customers:
        keep &= ~(customers["relationship_end"].to_numpy()[row] < at)
    keep &= ~(default_date <= at)
    row, month = row[keep], np.tile(months, len(customers))[keep]
    grid = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[row],
            "month": month,
            "as_of_date": at[keep],
            "default_date": default_date[keep],
        }
    )
    horizon_end = month_end(month + horizon_months)
    label = (grid["default_date"].to_numpy() <= horizon_end.to_numpy()).astype(float)
    label[horizon_end > as_of_date] = np.nan
    grid["label"] = label
    return grid, row


def _first_default(customers: pd.DataFrame, defaults: pd.DataFrame) -> np.ndarray:
    """Each customer's default date (``datetime64[ns]``, NaT where none), by position."""
    if defaults["customer_id"].duplicated().any():
        raise ValueError("defaults must hold one row per customer (default_dates gives that)")
    found = positions(defaults["customer_id"], customers["customer_id"])
    dates = np.full(len(customers), np.datetime64("NaT"), dtype="datetime64[ns]")
    known = found >= 0
    dates[found[known]] = defaults["default_date"].to_numpy(dtype="datetime64[ns]")[known]
    return dates
