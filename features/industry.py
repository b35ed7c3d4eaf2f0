"""Industry-cycle features: the sector's index as published by the snapshot date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import month_index

Z_MIN_HISTORY = 12  # months of index history before a z-score is given


def _index_table(index: pd.DataFrame) -> pd.DataFrame:
    """Per (industry, index month): level, changes and z-score, on a full month range."""
    idx = index.assign(m=month_index(index["month"]))
    frames = []
    for industry, rows in idx.groupby("industry", sort=True):
        series = rows.set_index("m")["value"].sort_index()
        series = series.reindex(np.arange(series.index.min(), series.index.max() + 1))
        mean = series.expanding(Z_MIN_HISTORY).mean()
        std = series.expanding(Z_MIN_HISTORY).std()
        frames.append(
            pd.DataFrame(
                {
                    "industry": industry,
                    "m": series.index,
                    "industry_index": series.to_numpy(),
                    "industry_index_chg_3m": (series / series.shift(3) - 1).to_numpy(),
                    "industry_index_chg_12m": (series / series.shift(12) - 1).to_numpy(),
                    "industry_index_z": ((series - mean) / std).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def add_industry_features(
    snapshots: pd.DataFrame, industry_index: pd.DataFrame, publication_lag_months: int
) -> pd.DataFrame:
    """Return ``snapshots`` with the sector index features added.

    The value for month ``m`` is known at the end of month ``m + publication_lag_months``; the
    z-score uses only the sector's history up to that value.

    Args:
        snapshots: ``industry`` and ``month`` (month index of the snapshot).
        industry_index: ``industry``, ``month``, ``value``.
        publication_lag_months: Months between an index month and its publication.
    """
    table = _index_table(industry_index)
    keys = snapshots[["industry"]].assign(m=snapshots["month"].to_numpy() - publication_lag_months)
    joined = keys.merge(table, on=["industry", "m"], how="left")
    out = snapshots.copy()
    for col in table.columns.drop(["industry", "m"]):
        out[col] = joined[col].to_numpy()
    return out


def add_sector_default_rate(
    snapshots: pd.DataFrame, defaults: pd.DataFrame, customers: pd.DataFrame
) -> pd.DataFrame:
    """Add the share of each sector's customers that defaulted in the 12 months up to ``t``.

    Rate = defaults dated in (t - 12 months, t] over (customers in the book at t + those defaults).
    """
    sector = customers.set_index("customer_id")["industry"]
    d = defaults.assign(
        industry=defaults["customer_id"].map(sector), m=month_index(defaults["default_date"])
    )
    per_month = d.groupby(["industry", "m"]).size()
    active = snapshots.groupby(["industry", "month"]).size()
    rates = {}
    for (industry, month), n_active in active.items():
        recent = per_month.get(industry, pd.Series(dtype=float))
        n_def = recent[(recent.index > month - 12) & (recent.index <= month)].sum()
        rates[(industry, month)] = n_def / (n_active + n_def)
    keys = list(zip(snapshots["industry"], snapshots["month"], strict=True))
    out = snapshots.copy()
    out["sector_default_rate_12m"] = [rates[k] for k in keys]
    return out
