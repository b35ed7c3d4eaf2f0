"""Dated facts of a customer: when the data first and last knows it.

The first dated fact starts a customer whose book row gives no start; the latest one before a
month end tells whether the customer has gone quiet (stale: not scored).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import month_index, positions

# what dates the data: the first month any table of the first group with rows has data starts
# the snapshots; a book with none of them (customers, attributes and defaults only) is dated by
# its attributes' known dates and its default dates
DATED_FACTS = (
    (("invoices", "issue_date"), ("events", "event_date"), ("financials", "period_end")),
    (("attributes", "known_date"), ("defaults", "default_date")),
)


def fact_dates(
    tables: dict[str, pd.DataFrame], more: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """``customer_id, fact``: every date of :data:`DATED_FACTS` (and ``more``) on record."""
    dated = [(name, column) for facts in DATED_FACTS for name, column in facts]
    frames = [
        tables[name][["customer_id", column]].set_axis(["customer_id", "fact"], axis=1)
        for name, column in [*dated, *(more or [])]
        if name in tables and len(tables[name])
    ]
    empty = pd.DataFrame({"customer_id": pd.Series(dtype=str), "fact": pd.Series(dtype="M8[ns]")})
    facts = pd.concat(frames).dropna() if frames else empty
    return facts.astype({"customer_id": str, "fact": "datetime64[ns]"})


def with_relationship_start(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """The customers, a blank ``relationship_start`` taken as the customer's first dated fact.

    The first invoice, event, statement, attribute row (or default) on record: a customer is
    in the book from when the data first knows it, not from the first month of the data.

    Returns:
        ``(customers, filled)``: the book and how many starts were filled in.
    """
    customers = tables["customers"]
    blank = customers["relationship_start"].isna()
    if not blank.any():
        return customers, 0
    first = fact_dates(tables).groupby("customer_id")["fact"].min()
    start = customers["relationship_start"].fillna(customers["customer_id"].map(first))
    filled = int((blank & start.notna()).sum())
    return customers.assign(relationship_start=start.astype("datetime64[ns]")), filled


def last_fact_dates(tables: dict[str, pd.DataFrame], at: pd.DataFrame) -> pd.Series:
    """The date of each customer's latest dated fact on or before each row's ``as_of_date``.

    Facts: the dates of :data:`DATED_FACTS` (invoices issued, events, statements, attribute
    rows, defaults) and invoices paid. NaT where the customer has none yet.

    Args:
        tables: The contract tables.
        at: ``customer_id`` and ``as_of_date`` rows.

    Returns:
        Aligned to ``at``.
    """
    customers = pd.unique(at["customer_id"])
    row_code, row_day = positions(at["customer_id"], customers), _days(at["as_of_date"])
    days = np.unique(row_day)  # the rows' dates (month ends): a few
    # each customer's latest fact before each of the rows' dates, in one (customer, date) grid:
    # a fact goes to the first date on or after it, then a running maximum along the dates
    latest = np.full(len(customers) * len(days), NO_DAY, dtype=np.int64)
    dated = [(name, column) for facts in DATED_FACTS for name, column in facts]
    for name, column in [*dated, ("invoices", "paid_date")]:
        if name in tables and len(tables[name]):  # as integers: no text copied
            table = tables[name]
            code, day = positions(table["customer_id"], customers), _days(table[column])
            date = np.searchsorted(days, day)
            known = (code >= 0) & (day != NO_DAY) & (date < len(days))
            np.maximum.at(latest, code[known] * len(days) + date[known], day[known])
    latest = np.maximum.accumulate(latest.reshape(len(customers), len(days)), axis=1)
    last = latest[row_code, np.searchsorted(days, row_day)]
    return pd.Series(last.astype("datetime64[D]").astype("datetime64[ns]"), index=at.index)


NO_DAY = np.iinfo(np.int64).min  # NaT as days


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def is_stale(as_of: pd.Series, last_fact: pd.Series, max_age_months: int) -> pd.Series:
    """Whether the latest fact lies more than ``max_age_months`` before the as-of date.

    A customer with no fact yet is not stale (it is new; its features say it has no history).
    """
    limit = pd.to_datetime(as_of).astype("datetime64[ns]") - pd.DateOffset(months=max_age_months)
    return last_fact.notna() & (last_fact < limit)


def first_snapshot_month(tables: dict[str, pd.DataFrame], warmup_months: int) -> int:
    """Month index of the first snapshot: the first month with data plus the warm-up."""
    for facts in DATED_FACTS:
        starts = [
            _first_month(tables[name][col])
            for name, col in facts
            if name in tables and len(tables[name])
        ]
        if starts:
            break
    else:
        names = ", ".join(name for facts in DATED_FACTS for name, _ in facts)
        raise ValueError(f"no dated table ({names}) to build snapshots from")
    return int(min(starts)) + warmup_months


def _first_month(dates: pd.Series) -> int:
    """The smallest month index of ``dates`` (-1 when one is missing): of the earliest only."""
    return -1 if dates.isna().any() else int(month_index(pd.Series([dates.min()]))[0])
