"""Attributes: ready-made numeric fields (bureau scores, ratios) joined point in time."""

from __future__ import annotations

import pandas as pd

from features.catalogue import ATTRIBUTE_PREFIX as PREFIX

KEYS = ("customer_id", "known_date")


def attribute_columns(attributes: pd.DataFrame) -> list[str]:
    """The value columns of an attributes table."""
    return [c for c in attributes.columns if c not in KEYS]


def add_attribute_features(snapshots: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Add each attribute's latest value with ``known_date <= as_of_date``, as ``attr_<name>``.

    Args:
        snapshots: ``customer_id`` and ``as_of_date``.
        attributes: ``customer_id``, ``known_date`` and numeric value columns.
    """
    values = attribute_columns(attributes)
    right = attributes.assign(
        customer_id=attributes["customer_id"].astype(str),
        known_date=attributes["known_date"].astype("datetime64[ns]"),
    ).sort_values("known_date")
    keys = snapshots[["customer_id", "as_of_date"]].reset_index()
    keys = keys.assign(
        customer_id=keys["customer_id"].astype(str),
        as_of_date=keys["as_of_date"].astype("datetime64[ns]"),
    ).sort_values("as_of_date")
    joined = (
        pd.merge_asof(keys, right, left_on="as_of_date", right_on="known_date", by="customer_id")
        .set_index("index")
        .reindex(snapshots.index)
    )
    out = snapshots.copy()
    for name in values:
        out[PREFIX + name] = joined[name].astype(float).to_numpy()
    return out
