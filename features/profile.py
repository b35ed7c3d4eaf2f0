"""Profile features from the customer book."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import month_index, positions


def add_profile_features(snapshots: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Add size, relationship length at the snapshot date and payment terms.

    Args:
        snapshots: ``customer_id`` and ``month`` (month index).
        customers: The book.
    """
    return snapshots.assign(**profile_columns(snapshots, customers))


def profile_columns(snapshots: pd.DataFrame, customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """The profile features of :func:`add_profile_features`, aligned to ``snapshots``.

    Each customer's values are computed once and taken to its snapshots by position.
    """
    book = customers.drop_duplicates("customer_id")  # as a look-up by id: the first row
    at = positions(snapshots["customer_id"], book["customer_id"])
    known = at >= 0

    def take(values: np.ndarray) -> np.ndarray:
        return np.where(known, values[np.where(known, at, 0)], np.nan) if len(values) else (
            np.full(len(at), np.nan)
        )  # fmt: skip

    revenue = take(book["annual_revenue"].to_numpy(dtype=float))
    start = month_index(book["relationship_start"]).astype(float)
    start[book["relationship_start"].isna().to_numpy()] = np.nan
    months = snapshots["month"].to_numpy() - take(start)
    return {
        "annual_revenue": np.where(revenue > 0, revenue, np.nan),
        "relationship_months": months,
        "payment_terms_days": take(book["payment_terms_days"].to_numpy(dtype=float)),
    }
