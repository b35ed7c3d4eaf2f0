"""Peer comparison: a customer's value against its sector's median at the same date."""

from __future__ import annotations

import pandas as pd

PEER_FEATURES = {"days_late_wavg_12m": "days_late_vs_sector", "debt_ratio": "debt_ratio_vs_sector"}


def add_peer_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Add ``<feature> - median of the sector at the same as-of date`` for each peer feature.

    Only the snapshots of the same date enter a median, so it is known at that date. Features
    whose source column is absent (its table was not supplied) are skipped.
    """
    out = snapshots.copy()
    for source, name in PEER_FEATURES.items():
        if source in out:
            median = out.groupby(["industry", "as_of_date"])[source].transform("median")
            out[name] = out[source] - median
    return out
