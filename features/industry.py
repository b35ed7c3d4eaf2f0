"""Industry-cycle features: the sector's index as published by the snapshot date.

Two kinds (``kind`` in the catalogue). The index level and the sector's default rate are
*levels*: where they sit depends on the phase of the cycle the data covers, so a model learns
their effect only for the range its training months saw. The others mean the same in every
phase: changes over 3 and 12 months, the index against the sector's own long-run history
(z-score, relative gap to the long-run mean, percentile), and the sector's default rate against
the whole book's. Every value at ``t`` uses only the index published by ``t`` and the defaults
dated by ``t``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import MONTHS, month_index, positions

Z_MIN_HISTORY = 12  # months of index history before a position against it is given
LONG_RUN_MONTHS = 120  # the sector's own history: the trailing ten years of its index
INDEX_FEATURES = (
    "industry_index",
    "industry_index_chg_3m",
    "industry_index_chg_12m",
    "industry_index_z",
    "industry_index_vs_history",
    "industry_index_pct",
)


def index_features(series: pd.Series) -> pd.DataFrame:
    """Every index feature of one sector's series, on a full range of index months.

    Args:
        series: The sector's index by month index, without gaps in the month range (a gap is
            a missing value, not the previous one).

    Returns:
        One column per name of :data:`INDEX_FEATURES`, indexed as ``series``. The positions
        against the sector's history use the trailing :data:`LONG_RUN_MONTHS` up to and
        including the month, given from :data:`Z_MIN_HISTORY` values on.
    """
    history = series.rolling(LONG_RUN_MONTHS, min_periods=Z_MIN_HISTORY)
    mean = history.mean()
    # share of the other months of the history below this one (ties count half): 0 = lowest
    below = (history.rank(method="average") - 1) / (history.count() - 1)
    return pd.DataFrame(
        {
            "industry_index": series,
            "industry_index_chg_3m": series / series.shift(3) - 1,
            "industry_index_chg_12m": series / series.shift(12) - 1,
            "industry_index_z": (series - mean) / history.std(),
            "industry_index_vs_history": series / mean - 1,
            "industry_index_pct": below,
        },
        index=series.index,
    )


def _index_table(index: pd.DataFrame) -> pd.DataFrame:
    """Per (industry, index month): :func:`index_features` on a full month range."""
    idx = index.assign(m=month_index(index["month"]))
    frames = []
    for industry, rows in idx.groupby("industry", sort=True):
        series = rows.set_index("m")["value"].sort_index()
        series = series.reindex(np.arange(series.index.min(), series.index.max() + 1))
        table = index_features(series).rename_axis("m").reset_index()
        frames.append(table.assign(industry=industry))
    return pd.concat(frames, ignore_index=True)[["industry", "m", *INDEX_FEATURES]]


def add_industry_features(
    snapshots: pd.DataFrame, industry_index: pd.DataFrame, publication_lag_months: int
) -> pd.DataFrame:
    """Return ``snapshots`` with the sector index features (:data:`INDEX_FEATURES`) added.

    The value for month ``m`` is known at the end of month ``m + publication_lag_months``; the
    positions against the sector's history use only the history up to that value.

    Args:
        snapshots: ``industry`` and ``month`` (month index of the snapshot).
        industry_index: ``industry``, ``month``, ``value``.
        publication_lag_months: Months between an index month and its publication.
    """
    columns = industry_columns(snapshots, industry_index, publication_lag_months)
    return snapshots.assign(**columns)


def industry_columns(
    snapshots: pd.DataFrame, industry_index: pd.DataFrame, publication_lag_months: int
) -> dict[str, np.ndarray]:
    """The features of :func:`add_industry_features`, aligned to ``snapshots``.

    Rows are matched on integer keys (the sector's position, the index month).
    """
    table = _index_table(industry_index)
    sectors = pd.unique(table["industry"])
    month = snapshots["month"].to_numpy() - publication_lag_months
    sector = positions(snapshots["industry"], sectors)
    at = pd.Index(positions(table["industry"], sectors) * MONTHS + table["m"].to_numpy())
    at = np.where(sector >= 0, at.get_indexer(sector * MONTHS + month), -1)
    found = at >= 0
    out = {}
    for col in INDEX_FEATURES:
        values = np.full(len(snapshots), np.nan)
        values[found] = table[col].to_numpy(dtype=float)[at[found]]
        out[col] = values
    return out


def add_stressed_industry_features(
    snapshots: pd.DataFrame,
    industry_index: pd.DataFrame,
    publication_lag_months: int,
    shock_sd: float,
) -> pd.DataFrame:
    """Return ``snapshots`` with the index features as if the latest index were shocked.

    Scenario for each snapshot month ``t``: the value published at ``t`` (index month
    ``t - publication_lag_months``) of every sector moves by ``shock_sd`` standard deviations
    of that sector's index (over the whole table); every earlier value stays. The index
    features are then computed as :func:`add_industry_features` does, so the level, both
    changes and the positions against the history all move.

    Args:
        snapshots: ``industry`` and ``month`` (month index of the snapshot).
        industry_index: ``industry``, ``month``, ``value``.
        publication_lag_months: Months between an index month and its publication.
        shock_sd: Standard deviations to move the latest value by (-1: one down).

    Returns:
        A new frame: ``snapshots`` with the :data:`INDEX_FEATURES` columns replaced.
    """
    sd = industry_index.groupby("industry")["value"].transform("std").fillna(0.0)
    index_month = month_index(industry_index["month"])
    out = snapshots.copy()
    for t in np.unique(snapshots["month"].to_numpy()):
        shocked_at = index_month == t - publication_lag_months
        shocked = industry_index.assign(
            value=industry_index["value"] + np.where(shocked_at, shock_sd * sd, 0.0)
        )
        rows = (snapshots["month"] == t).to_numpy()
        features = add_industry_features(snapshots.loc[rows], shocked, publication_lag_months)
        out.loc[rows, list(INDEX_FEATURES)] = features[list(INDEX_FEATURES)].to_numpy()
    return out


def add_sector_default_rate(
    snapshots: pd.DataFrame, defaults: pd.DataFrame, customers: pd.DataFrame
) -> pd.DataFrame:
    """Add the sector's default rate of the 12 months up to ``t``, and that rate over the book's.

    Rate = defaults dated in (t - 12 months, t] over (customers in the book at t + those
    defaults), per sector (``sector_default_rate_12m``) and over every customer; their ratio is
    ``sector_default_rate_vs_book`` (missing when the book had no default in the 12 months).
    """
    return snapshots.assign(**sector_default_rate_columns(snapshots, defaults, customers))


def sector_default_rate_columns(
    snapshots: pd.DataFrame, defaults: pd.DataFrame, customers: pd.DataFrame
) -> dict[str, np.ndarray]:
    """The features of :func:`add_sector_default_rate`, aligned to ``snapshots``.

    Counted on (sector, month) grids of integers: snapshots in the book and defaults dated
    in each month, summed over the trailing 12 months.
    """
    if snapshots.empty:
        empty = np.array([], dtype=float)
        return {"sector_default_rate_12m": empty, "sector_default_rate_vs_book": empty}
    sectors = pd.unique(snapshots["industry"])
    row_sector = positions(snapshots["industry"], sectors)
    first, month = int(snapshots["month"].min()), snapshots["month"].to_numpy()
    n_months = int(month.max()) - first + 1
    default_month = month_index(defaults["default_date"])
    where = positions(defaults["customer_id"], customers["customer_id"])
    default_sector = np.full(len(defaults), -1)
    known = where >= 0
    default_sector[known] = positions(customers["industry"].to_numpy()[where[known]], sectors)
    # defaults by (sector, month) from 11 months before the first snapshot month on
    col = default_month - (first - 11)
    dated = (default_month >= 0) & (col >= 0) & (col < n_months + 11)
    in_sector = dated & (default_sector >= 0)
    per_sector = np.zeros((len(sectors), n_months + 11), dtype=np.int64)
    np.add.at(per_sector, (default_sector[in_sector], col[in_sector]), 1)
    per_book = np.bincount(col[dated], minlength=n_months + 11)
    active = np.zeros((len(sectors), n_months), dtype=np.int64)
    np.add.at(active, (row_sector, month - first), 1)
    sector_recent = _trailing_12(per_sector)
    book_recent, book_active = _trailing_12(per_book[None, :])[0], active.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = sector_recent / (active + sector_recent)
        book = np.where(book_recent > 0, book_recent / (book_active + book_recent), np.nan)
    rows = rate[row_sector, month - first]
    return {
        "sector_default_rate_12m": rows,
        "sector_default_rate_vs_book": rows / book[month - first],
    }


def _trailing_12(counts: np.ndarray) -> np.ndarray:
    """Sums over 12 consecutive columns: column ``j`` of the result sums ``j .. j + 11``."""
    total = np.cumsum(counts, axis=1)
    return total[:, 11:] - np.pad(total, ((0, 0), (1, 0)))[:, :-12]
