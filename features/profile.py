"""Profile features from the customer book."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import month_index


def add_profile_features(snapshots: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Add size, relationship length at the snapshot date and payment terms.

    Args:
        snapshots: ``customer_id`` and ``month`` (month index).
        customers: The book.
    """
    book = customers.set_index("customer_id")
    ids = snapshots["customer_id"]
    revenue = ids.map(book["annual_revenue"]).to_numpy(dtype=float)
    start = ids.map(book["relationship_start"])
    months = (snapshots["month"].to_numpy() - month_index(start)).astype(float)
    out = snapshots.copy()
    out["annual_revenue"] = np.where(revenue > 0, revenue, np.nan)
    out["relationship_months"] = np.where(start.isna(), np.nan, months)
    out["payment_terms_days"] = ids.map(book["payment_terms_days"]).to_numpy(dtype=float)
    return out
