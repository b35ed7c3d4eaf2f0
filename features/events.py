"""Company-event features: recent counts and months since the latest event of each kind."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import Grid, month_index, trailing_sum

COUNTED = {
    "legal_dispute": "legal_disputes_12m",
    "ownership_change": "ownership_changes_12m",
    "management_change": "management_changes_12m",
}
SINCE = {
    "legal_dispute": "months_since_legal_dispute",
    "ownership_change": "months_since_ownership_change",
}


def _months_since(hits: np.ndarray, first_month: int) -> np.ndarray:
    """Months since the latest month with a hit, along axis 1 (NaN before any hit)."""
    months = np.arange(hits.shape[1]) + first_month
    last = np.where(hits > 0, months[None, :], -1)
    last = np.maximum.accumulate(last, axis=1)
    return np.where(last >= 0, months[None, :] - last, np.nan).astype(float)


def add_event_features(snapshots: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Return ``snapshots`` with event counts over 12 months and months since the last event.

    Only events dated on or before the snapshot's month end count.

    Args:
        snapshots: ``customer_id`` and ``month`` (month index).
        events: ``customer_id``, ``event_date``, ``event_type``.
    """
    return snapshots.assign(**event_columns(snapshots, events))


def event_columns(snapshots: pd.DataFrame, events: pd.DataFrame) -> dict[str, np.ndarray]:
    """The event features of :func:`add_event_features`, aligned to ``snapshots``."""
    ev_month = month_index(events["event_date"])
    first = min(int(snapshots["month"].min()), int(ev_month.min(initial=10**9)))
    grid = Grid(snapshots["customer_id"].unique(), first, int(snapshots["month"].max()))
    out = {}
    cells = grid.position(snapshots["customer_id"], snapshots["month"])
    event_rows = grid.rows(events["customer_id"])  # each event's customer, looked up once
    for kind in sorted(set(COUNTED) | set(SINCE)):
        mask = (events["event_type"] == kind).to_numpy()
        hits = grid.total(grid.cell(event_rows[mask], ev_month[mask]))
        if kind in COUNTED:
            out[COUNTED[kind]] = grid.gather(trailing_sum(hits, 12), cells)
        if kind in SINCE:
            since = _months_since(hits, grid.first)
            out[SINCE[kind]] = grid.gather(since, cells)
    return out
