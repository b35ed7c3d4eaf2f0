"""Assemble the snapshot table: grid, labels and every feature family the data allows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.attributes import PREFIX as ATTRIBUTE_PREFIX
from features.attributes import add_attribute_features
from features.catalogue import CATALOGUE
from features.events import add_event_features
from features.financials import add_financial_features
from features.industry import add_industry_features, add_sector_default_rate
from features.labels import build_snapshots, default_dates
from features.late_payment import add_late_payment_features
from features.peers import add_peer_features
from features.profile import add_profile_features
from features.timeline import month_index

ID_COLUMNS = ["customer_id", "as_of_date", "month", "industry", "region", "default_date", "label"]
FAMILY_TABLE = {
    "late_payment": "invoices",
    "industry": "industry_index",
    "financials": "financials",
    "events": "events",
    "attributes": "attributes",
}


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


def first_snapshot_month(tables: dict[str, pd.DataFrame], warmup_months: int) -> int:
    """Month index of the first snapshot: the first month with data plus the warm-up."""
    starts = [
        month_index(tables[name][col]).min()
        for name, col in (
            ("invoices", "issue_date"),
            ("events", "event_date"),
            ("financials", "period_end"),
        )
        if name in tables and len(tables[name])
    ]
    if not starts:
        raise ValueError("no dated table (invoices, events or financials) to build snapshots from")
    return int(min(starts)) + warmup_months


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
    customers = tables["customers"]
    defaults = default_dates(
        tables.get("invoices"), tables.get("events"), tables.get("defaults"), as_of_date,
        settings.default_days_past_due, settings.default_materiality,
    )  # fmt: skip
    if settings.snapshot_dates:
        months = sorted(int(m) for m in month_index(pd.DatetimeIndex(settings.snapshot_dates)))
    else:
        first = first_snapshot_month(tables, settings.warmup_months)
        months = list(range(first, int(month_index(pd.DatetimeIndex([as_of_date]))[0]) + 1))
    snaps = build_snapshots(customers, defaults, months, as_of_date, settings.horizon_months)
    book = customers.set_index("customer_id")
    snaps["industry"] = snaps["customer_id"].map(book["industry"]).astype(str)
    snaps["region"] = snaps["customer_id"].map(book["region"]).astype(str)
    skipped = [
        f"no {table}: {family} features skipped"
        for family, table in FAMILY_TABLE.items()
        if table not in tables
    ]
    if "invoices" in tables:
        snaps = add_late_payment_features(snaps, tables["invoices"], customers)
    if "industry_index" in tables:
        snaps = add_industry_features(
            snaps, tables["industry_index"], settings.index_publication_lag_months
        )
    snaps = add_sector_default_rate(snaps, defaults, customers)
    if "financials" in tables:
        snaps = add_financial_features(snaps, tables["financials"], settings.financials_lag_days)
    if "events" in tables:
        snaps = add_event_features(snaps, tables["events"])
    if "attributes" in tables:
        snaps = add_attribute_features(snaps, tables["attributes"])
    snaps = add_peer_features(add_profile_features(snaps, customers))
    features = [spec.name for spec in CATALOGUE if spec.name in snaps]
    features += sorted(c for c in snaps.columns if c.startswith(ATTRIBUTE_PREFIX))
    snaps[features] = snaps[features].astype(np.float64)
    return snaps[ID_COLUMNS + features], defaults, skipped
