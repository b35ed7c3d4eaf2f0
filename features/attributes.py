"""Attributes: ready-made numeric fields (bureau scores, ratios) joined point in time."""

from __future__ import annotations

import pandas as pd

from features.catalogue import FeatureSpec

PREFIX = "attr_"
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


def attribute_spec(name: str) -> FeatureSpec:
    """Catalogue entry of an attribute feature: unconstrained, its own reason code."""
    if not name.startswith(PREFIX):
        raise KeyError(f"{name!r} is not an attribute feature (they start with {PREFIX!r})")
    field = name.removeprefix(PREFIX)
    return FeatureSpec(
        name=name,
        family="attributes",
        description=f"Attribute {field!r} supplied with the data, latest value known at t",
        unit="as supplied",
        direction=0,
        reason_code=f"ATTR_{field.upper()}",
        template=f"{field} is {{value:.4g}}",
        missing_text=f"{field} not available",
    )
