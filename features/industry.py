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

from features.timeline import month_index

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
    table = _index_table(industry_index)
    keys = snapshots[["industry"]].assign(m=snapshots["month"].to_numpy() - publication_lag_months)
    joined = keys.merge(table, on=["industry", "m"], how="left")
    out = snapshots.copy()
    for col in INDEX_FEATURES:
        out[col] = joined[col].to_numpy()
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
    sector = customers.set_index("customer_id")["industry"]
    d = defaults.assign(
        industry=defaults["customer_id"].map(sector), m=month_index(defaults["default_date"])
    )
    per_month = d.groupby(["industry", "m"]).size()
    active = snapshots.groupby(["industry", "month"]).size()
    book_defaults, book_active = d["m"].to_numpy(), active.groupby(level="month").sum()
    rates, book_rates = {}, {}
    for (industry, month), n_active in active.items():
        recent = per_month.get(industry, pd.Series(dtype=float))
        n_def = recent[(recent.index > month - 12) & (recent.index <= month)].sum()
        rates[(industry, month)] = n_def / (n_active + n_def)
    for month, n_active in book_active.items():
        n_def = int(((book_defaults > month - 12) & (book_defaults <= month)).sum())
        book_rates[month] = n_def / (n_active + n_def) if n_def else np.nan
    keys = list(zip(snapshots["industry"], snapshots["month"], strict=True))
    out = snapshots.copy()
    out["sector_default_rate_12m"] = [rates[k] for k in keys]
    book = np.array([book_rates[m] for _, m in keys], dtype=float)
    out["sector_default_rate_vs_book"] = out["sector_default_rate_12m"].to_numpy() / book
    return out
