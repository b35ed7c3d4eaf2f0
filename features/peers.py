"""Peer comparison: a customer's value against its sector's median at the same date."""

from __future__ import annotations

import pandas as pd

PEER_FEATURES = {"days_late_wavg_12m": "days_late_vs_sector", "debt_ratio": "debt_ratio_vs_sector"}
PEER_KEYS = ["industry", "as_of_date"]


def add_peer_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Add ``<feature> - median of the sector at the same as-of date`` for each peer feature.

    Only the snapshots of the same date enter a median, so it is known at that date. Features
    whose source column is absent (its table was not supplied) are skipped.
    """
    out = snapshots.copy()
    for source, name in PEER_FEATURES.items():
        if source in out:
            median = out.groupby(PEER_KEYS)[source].transform("median")
            out[name] = out[source] - median
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
