"""Assemble the snapshot table: grid, labels and every feature family the data allows.

The build has two parts, so that the first can run on customer partitions of the book:

* :func:`build_customer_features` uses only each customer's own rows (and the shared industry
  index): default dates, the snapshot grid and labels, late payment, industry cycle,
  financials, events, attributes and profile. Run on any split of the customers, it gives
  the same rows as on the whole book (``features.partitions``).
* :func:`add_cross_sectional_features` needs every customer at once: the sector default rate
  and the comparisons with the sector median at the same date.

:func:`build_features` composes the two on the whole book.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.attributes import PREFIX as ATTRIBUTE_PREFIX
from features.attributes import attribute_feature_columns, is_text
from features.catalogue import CATALOGUE, is_model_feature
from features.events import event_columns
from features.facts import DATED_FACTS as DATED_FACTS  # pipelines.ingest reads them here
from features.facts import first_snapshot_month, is_stale, last_fact_dates
from features.facts import with_relationship_start as with_relationship_start
from features.financials import financial_columns
from features.industry import industry_columns, sector_default_rate_columns
from features.labels import default_dates, snapshot_grid
from features.late_payment import late_payment_columns
from features.partitions import customer_codes, decoded
from features.payment_behaviour import joined_payments, payment_columns, plan_columns
from features.peers import peer_columns
from features.profile import profile_columns
from features.timeline import month_index

ID_COLUMNS = ["customer_id", "as_of_date", "month", "industry", "region", "default_date", "label"]
FAMILY_TABLE = {
    "late_payment": "invoices",
    "industry": "industry_index",
    "financials": "financials",
    "events": "events",
    "attributes": "attributes",
    "partial_payments": "payments",
    "payment_plans": "payment_plans",
}
GROUPS = ("industry", "region")  # what customers are grouped by (sector medians, the report)
NOT_GIVEN = "(not given)"  # the group of customers whose book row leaves it blank


@dataclass(frozen=True)
class FeatureSettings:
    """Scalars the feature build needs (see ``features`` in params.yaml)."""

    horizon_months: int = 12
    warmup_months: int = 6
    index_publication_lag_months: int = 1
    financials_lag_days: int = 120
    default_days_past_due: int = 90
    default_materiality: float = 500.0
    snapshot_dates: tuple[pd.Timestamp, ...] = ()  # only these month ends (one-date data sets)
    max_fact_age_months: int | None = 24  # older last fact: the customer is stale, not scored


def snapshot_months(
    tables: dict[str, pd.DataFrame], as_of_date: pd.Timestamp, settings: FeatureSettings
) -> list[int]:
    """Month indices of the snapshot grid, from the whole book's tables.

    The configured snapshot dates if any, else every month from :func:`first_snapshot_month`
    to the as-of date. A partitioned build computes them once, before splitting the tables.
    """
    if settings.snapshot_dates:
        return sorted(int(m) for m in month_index(pd.DatetimeIndex(settings.snapshot_dates)))
    first = first_snapshot_month(tables, settings.warmup_months)
    return list(range(first, int(month_index(pd.DatetimeIndex([as_of_date]))[0]) + 1))


def skipped_families(tables: dict[str, pd.DataFrame]) -> list[str]:
    """One line per feature family left out because its table is absent."""
    return [
        f"no {table}: {family} features skipped"
        for family, table in FAMILY_TABLE.items()
        if table not in tables
    ]


def build_customer_features(
    tables: dict[str, pd.DataFrame],
    as_of_date: pd.Timestamp,
    settings: FeatureSettings,
    months: list[int],
    first_new_month: int | None = None,
) -> tuple[pd.DataFrame, ...]:
    """Default dates, snapshots and every feature that uses only the customer's own rows.

    Args:
        tables: Canonical contract tables, ``customers`` required; those of a set of customers
            (with the whole ``industry_index``) give those customers' rows of the whole book.
        as_of_date: The data's as-of date (nothing after it is used).
        settings: Windows, lags and the default definition.
        months: Month indices of the snapshots, from :func:`snapshot_months` of the whole book.
        first_new_month: Build the snapshots of this month index on only (an incremental
            build takes the earlier ones' features from the last build:
            :func:`features.incremental.with_cached_rows`).

    Returns:
        ``(snapshots, defaults)``: the snapshots in book order then month, with the per-customer
        features, and each defaulted customer's default date and trigger. With
        ``first_new_month``, ``(snapshots, defaults, rows)``: the snapshots of the new
        months only, and every row's :data:`ID_COLUMNS` in the table's order (the earlier
        months' with no staleness rule applied).
    """
    customers = with_groups(tables["customers"])
    defaults = default_dates(
        tables.get("invoices"), tables.get("events"), tables.get("defaults"), as_of_date,
        settings.default_days_past_due, settings.default_materiality,
    )  # fmt: skip
    # one unit whatever triggers a partition's customers have (their dates may come in us or ns)
    defaults = defaults.astype({"default_date": "datetime64[ns]"})
    snaps, row = snapshot_grid(customers, defaults, months, as_of_date, settings.horizon_months)
    for column in GROUPS:  # each customer's text once, taken to its rows by position
        snaps[column] = customers[column].astype(str).array.take(row)
    snaps = snaps[ID_COLUMNS]
    new = np.ones(len(snaps), dtype=bool)
    if first_new_month is not None:
        new = (snaps["month"] >= first_new_month).to_numpy()
    if settings.max_fact_age_months is not None:
        at = snaps if new.all() else snaps[new]
        stale = is_stale(
            at["as_of_date"], last_fact_dates(tables, at), settings.max_fact_age_months
        )
        if stale.any():
            keep = np.ones(len(snaps), dtype=bool)
            keep[np.flatnonzero(new)[stale.to_numpy()]] = False
            snaps, new = snaps[keep].reset_index(drop=True), new[keep]
    if first_new_month is None:
        return add_customer_features(snaps, tables, customers, settings), defaults
    fresh = add_customer_features(snaps[new].reset_index(drop=True), tables, customers, settings)
    return fresh, defaults, snaps


def add_customer_features(
    snaps: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    customers: pd.DataFrame,
    settings: FeatureSettings,
) -> pd.DataFrame:
    """``snaps`` with every per-customer feature family its tables allow.

    Each family gives its columns as arrays; the frame is assembled once, at the end.
    """
    if snaps.empty:  # all in default or not yet customers: no snapshot to add features to
        return snaps
    columns: dict[str, np.ndarray] = {}
    if "invoices" in tables:
        columns |= late_payment_columns(snaps, tables["invoices"], customers)
    if "industry_index" in tables:
        columns |= industry_columns(
            snaps, tables["industry_index"], settings.index_publication_lag_months
        )
    if "financials" in tables:
        columns |= financial_columns(snaps, tables["financials"], settings.financials_lag_days)
    if "events" in tables:
        columns |= event_columns(snaps, tables["events"])
    if "attributes" in tables:
        columns |= attribute_feature_columns(snaps, tables["attributes"])
    if "payments" in tables:
        columns |= payment_columns(snaps, joined_payments(tables))
    if "payment_plans" in tables:
        columns |= plan_columns(snaps, tables["payment_plans"])
    columns |= profile_columns(snaps, customers)
    return with_columns(snaps, columns)


def with_columns(frame: pd.DataFrame, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """``frame`` (a default index) and ``columns`` beside it, the arrays not copied.

    Each column stays an array of its own, so that combining blocks can free a block's column
    as soon as it is copied (:func:`combine_partitions`).
    """
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index, copy=False)], axis=1)


def with_groups(customers: pd.DataFrame) -> pd.DataFrame:
    """The book with every customer in a sector and a region: :data:`NOT_GIVEN` where blank.

    Sector comparisons and the report group by them; customers without one form a group.
    """
    return customers.assign(
        **{c: customers[c].fillna(NOT_GIVEN) if c in customers else NOT_GIVEN for c in GROUPS}
    )


def drop_empty_features(snapshots: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The snapshots without the features that have no value at all, and those features.

    A feature whose input the data lacks (a book without credit limits has no limit
    utilisation) says nothing; it is left out rather than carried as an empty column.
    """
    empty = [c for c in snapshots.columns if is_model_feature(c) and snapshots[c].isna().all()]
    return snapshots.drop(columns=empty), empty


def add_cross_sectional_features(
    snapshots: pd.DataFrame, defaults: pd.DataFrame, customers: pd.DataFrame
) -> pd.DataFrame:
    """Add the features that compare customers, and order and type the columns.

    Args:
        snapshots: Every customer's snapshots from :func:`build_customer_features`.
        defaults: Every customer's default dates.
        customers: The whole book (each defaulted customer's sector).

    Returns:
        A new frame: ID_COLUMNS, then the features in catalogue order as float64, then the
        attribute features by name (float64, or text for a categorical one).
    """
    columns = sector_default_rate_columns(snapshots, defaults, with_groups(customers))
    columns |= peer_columns(snapshots)
    features = [spec.name for spec in CATALOGUE if spec.name in snapshots or spec.name in columns]
    attributes = sorted(c for c in snapshots.columns if c.startswith(ATTRIBUTE_PREFIX))
    out = {name: snapshots[name].array for name in ID_COLUMNS}
    for name in features + attributes:
        values = columns[name] if name in columns else snapshots[name].to_numpy()
        text = name in attributes and is_text(snapshots[name])
        out[name] = values if text else values.astype(np.float64, copy=False)
    # the per-customer columns are taken as they are, not copied into a new block (the peak)
    return pd.DataFrame(out, copy=False)


def frame_of(
    ids: pd.DataFrame, names: list[str], block: np.ndarray, more: dict | None = None
) -> pd.DataFrame:
    """``ids``, then a float block's rows as the columns ``names`` (not copied), then ``more``."""
    parts = [ids.reset_index(drop=True), pd.DataFrame(block.T, columns=names, copy=False)]
    if more:
        parts.append(pd.DataFrame(more))
    return pd.concat(parts, axis=1)


def build_features(
    tables: dict[str, pd.DataFrame], as_of_date: pd.Timestamp, settings: FeatureSettings
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Build labelled month-end snapshots with point-in-time features.

    Args:
        tables: Canonical contract tables; ``customers`` is required, the others optional.
        as_of_date: The data's as-of date (nothing after it is used).
        settings: Windows, lags and the default definition.

    Returns:
        ``(snapshots, defaults, skipped)``: the snapshot table (ID_COLUMNS then features in
        catalogue order), each defaulted customer's default date and trigger, and one line per
        feature family left out because its table is absent.
    """
    if "customers" not in tables:
        raise ValueError("the customers table is required")
    months = snapshot_months(tables, as_of_date, settings)
    coded, ids = customer_codes(tables)
    snaps, defaults = decoded(build_customer_features(coded, as_of_date, settings, months), ids)
    snaps = add_cross_sectional_features(snaps, defaults, tables["customers"])
    return snaps, defaults, skipped_families(tables)
