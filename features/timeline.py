"""Month arithmetic shared by the feature families.

Snapshots sit at month ends; a month is addressed by an integer index ``year * 12 + month - 1``
so that windows become integer ranges and per-(customer, month) aggregates become dense grids.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min  # NaT as an integer
MONTHS = 1 << 20  # above any month index: keys ``code * MONTHS + month`` (customer or sector)


def positions(values: Iterable, keys: Iterable) -> np.ndarray:
    """Position of each of ``values`` among the distinct ``keys``; -1 if absent.

    Integer ids (customer codes) are looked up as integers, anything else as text. Arrow's hash
    look-up: about 10x ``pandas.Index.get_indexer`` on text, which makes a Python string of
    every value first.
    """
    values, keys = pd.Series(values, copy=False), pd.Series(keys, copy=False)
    if pd.api.types.is_integer_dtype(values) and pd.api.types.is_integer_dtype(keys):
        small = len(keys) and 0 <= keys.min() and keys.max() < 4 * (len(keys) + len(values))
        if small and isinstance(values.dtype, np.dtype) and keys.is_unique:
            # small codes (positions in the book): one table of every code's position
            table = np.full(int(keys.max()) + 1, -1, dtype=np.int64)
            table[keys.to_numpy()] = np.arange(len(keys))
            codes = values.to_numpy(dtype=np.int64)
            inside = (codes >= 0) & (codes < len(table))
            return np.where(inside, table[np.where(inside, codes, 0)], -1)
        found = pc.index_in(pa.array(values, pa.int64()), value_set=pa.array(keys, pa.int64()))
    else:
        found = pc.index_in(_text(values), value_set=_text(keys))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _text(values: pd.Series) -> pa.Array:
    text = pa.array(values.astype(str)).cast(pa.large_string())
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def nanoseconds(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Dates as int64 nanoseconds since the epoch (``NaT``: :data:`NAT`)."""
    return np.asarray(dates, dtype="datetime64[ns]").view(np.int64)


LOOKUP_DAYS = 1 << 20  # dates spanning up to this many days: months looked up by day


def month_index(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Integer month index of each date (NaT gives -1).

    The dates' days are looked up in a table of the month of every day they span (numpy's
    calendar conversion to months costs about 5x more on millions of dates).
    """
    days = pd.DatetimeIndex(dates).to_numpy().astype("datetime64[D]").view(np.int64)
    known = days != NAT
    first = int(days.min(initial=np.iinfo(np.int64).max, where=known))
    last = int(days.max(initial=NAT, where=known))
    if not known.any() or last - first >= LOOKUP_DAYS:
        months = days.astype("datetime64[D]").astype("datetime64[M]").view(np.int64)
        return np.where(known, months + 1970 * 12, -1)
    # numpy counts months from 1970-01: year * 12 + month - 1 is 1970 * 12 more
    span = np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[M]")
    table = span.view(np.int64) + 1970 * 12
    return np.where(known, table[np.where(known, days - first, 0)], -1)


def month_end(index: np.ndarray | int) -> pd.DatetimeIndex:
    """Month-end timestamp of each month index."""
    index = np.atleast_1d(np.asarray(index, dtype=np.int64))
    if index.size == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    # a few distinct months, often repeated millions of times: build each month end once
    first = int(index.min())
    span = np.arange(first, int(index.max()) + 1)
    starts = pd.to_datetime({"year": span // 12, "month": span % 12 + 1, "day": 1})
    ends = pd.DatetimeIndex(starts + pd.offsets.MonthEnd(0))
    return ends[index - first]


class Grid:
    """Dense (customer, month) grid: ``position`` maps keys to a flat cell number.

    Args:
        customer_ids: The customers of the grid (row order).
        first_month: Smallest month index.
        last_month: Largest month index.
    """

    def __init__(self, customer_ids: pd.Index | list[str], first_month: int, last_month: int):
        if last_month < first_month:
            raise ValueError(f"empty month range {first_month}..{last_month}")
        self.customers = pd.Index(customer_ids)
        self.first = int(first_month)
        self.n_months = int(last_month - first_month + 1)

    @property
    def shape(self) -> tuple[int, int]:
        """(customers, months)."""
        return len(self.customers), self.n_months

    def rows(self, customer_ids: pd.Series | np.ndarray) -> np.ndarray:
        """Grid row of each customer; -1 for a customer not in the grid."""
        return positions(customer_ids, self.customers)

    def cell(self, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Flat cell of each (grid row, month); -1 where the key lies outside the grid."""
        col = np.asarray(months, dtype=np.int64) - self.first
        outside = (rows < 0) | (col < 0) | (col >= self.n_months)
        cells = np.multiply(rows, self.n_months, dtype=np.int64)
        cells += col  # in place: on the ledger's millions of rows each new array costs
        cells[outside] = -1
        return cells

    def position(self, customer_ids: pd.Series | np.ndarray, months: np.ndarray) -> np.ndarray:
        """Flat cell of each (customer, month); -1 where the key lies outside the grid."""
        return self.cell(self.rows(customer_ids), months)

    def total(self, cells: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` (or counts) per cell, as a (customers, months) array."""
        ok = cells >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[ok]
        flat = np.bincount(cells[ok], weights=w, minlength=self.shape[0] * self.shape[1])
        return flat.reshape(self.shape).astype(float)

    def maximum(self, cells: np.ndarray, values: np.ndarray, empty: float = np.nan) -> np.ndarray:
        """Maximum of ``values`` per cell (``empty`` where a cell has none)."""
        ok = cells >= 0
        flat = np.full(self.shape[0] * self.shape[1], -np.inf)
        np.maximum.at(flat, cells[ok], np.asarray(values, dtype=float)[ok])
        flat[np.isneginf(flat)] = empty
        return flat.reshape(self.shape)

    def gather(self, grid: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Values of a (customers, months) array at flat ``cells`` (:meth:`position`; NaN at -1).

        Positions are looked up once per key set and reused for every feature gathered.
        """
        out = np.full(len(cells), np.nan)
        ok = cells >= 0
        out[ok] = grid.reshape(-1)[cells[ok]]
        return out


def trailing_sum(grid: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` months, this one included, along axis 1."""
    csum = np.cumsum(grid, axis=1)
    out = csum.copy()
    out[:, window:] -= csum[:, :-window]
    return out


def latest_known(snapshots: pd.DataFrame, facts: pd.DataFrame, known: str) -> pd.DataFrame:
    """Each snapshot's latest row of ``facts`` (same customer) with ``known <= as_of_date``.

    ``facts`` sorted by ``known``; among rows known on the same date the last one wins. The
    customers are matched on integer codes (their position among the snapshots' customers),
    not on text.

    Returns:
        ``facts``' columns, one row per snapshot in its order (missing where none is known).
    """
    customers = pd.unique(snapshots["customer_id"])
    right = facts.assign(
        customer_id=positions(facts["customer_id"], customers),
        **{known: facts[known].astype("datetime64[ns]")},
    )
    right = right[right["customer_id"].to_numpy() >= 0]
    keys = pd.DataFrame(
        {
            "customer_id": positions(snapshots["customer_id"], customers),
            "as_of_date": snapshots["as_of_date"].to_numpy().astype("datetime64[ns]"),
            "index": np.arange(len(snapshots)),
        }
    ).sort_values("as_of_date", kind="stable")
    joined = pd.merge_asof(keys, right, left_on="as_of_date", right_on=known, by="customer_id")
    order = np.empty(len(joined), dtype=np.int64)
    order[joined["index"].to_numpy()] = np.arange(len(joined))
    return joined.iloc[order].reset_index(drop=True)
