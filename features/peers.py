"""Peer comparison: a customer's value against its sector's median at the same date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import MONTHS, month_index

PEER_FEATURES = {"days_late_wavg_12m": "days_late_vs_sector", "debt_ratio": "debt_ratio_vs_sector"}
PEER_KEYS = ["industry", "as_of_date"]


def add_peer_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Add ``<feature> - median of the sector at the same as-of date`` for each peer feature.

    Only the snapshots of the same date enter a median, so it is known at that date. Features
    whose source column is absent (its table was not supplied) are skipped.
    """
    return snapshots.assign(**peer_columns(snapshots))


def peer_columns(snapshots: pd.DataFrame) -> dict[str, np.ndarray]:
    """The features of :func:`add_peer_features`, aligned to ``snapshots``.

    The groups are integer keys (sector position, month index), not text and dates.
    """
    sources = [source for source in PEER_FEATURES if source in snapshots]
    if not sources:
        return {}
    sector, _ = pd.factorize(snapshots["industry"])
    month = month_index(snapshots["as_of_date"])
    # float keys, NaN where the sector or the date is missing: no group, as with the text keys
    key = np.where((sector >= 0) & (month >= 0), sector * float(MONTHS) + month, np.nan)
    out = {}
    for source in sources:
        values = snapshots[source].to_numpy(dtype=float)
        median = pd.Series(values).groupby(key).transform("median").to_numpy()
        out[PEER_FEATURES[source]] = values - median
    return out


def sector_medians(snapshots: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Return each row's sector median of each of ``features`` at the row's as-of date.

    The medians are those :func:`add_peer_features` compares with: over the snapshots of the
    same industry and date, missing values left out.

    Args:
        snapshots: ``industry``, ``as_of_date`` and the ``features`` columns.
        features: Feature columns to take medians of.

    Returns:
        Frame with the ``features`` columns, aligned to ``snapshots``' index.
    """
    missing = [c for c in [*PEER_KEYS, *features] if c not in snapshots.columns]
    if missing:
        raise KeyError(f"snapshots lack columns {missing}")
    grouped = snapshots[[*PEER_KEYS, *features]].groupby(PEER_KEYS)
    return grouped[features].transform("median").astype(float)
