"""Assemble the snapshot table: grid, labels and every feature family the data allows.

The build has two parts, so that the first can run on customer partitions of the book:

* :func:`build_customer_features` uses only each customer's own rows (and the shared industry
  index): default dates, the snapshot grid and labels, late payment, industry cycle,
  financials, events, attributes and profile. Run on any split of the customers, it gives
  the same rows as on the whole book (:func:`partition_tables`, :func:`combine_partitions`).
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
from features.financials import financial_columns
from features.industry import industry_columns, sector_default_rate_columns
from features.labels import default_dates, snapshot_grid
from features.late_payment import late_payment_columns
from features.peers import peer_columns
from features.profile import profile_columns
from features.timeline import month_index, positions

ID_COLUMNS = ["customer_id", "as_of_date", "month", "industry", "region", "default_date", "label"]
FAMILY_TABLE = {
    "late_payment": "invoices",
    "industry": "industry_index",
    "financials": "financials",
    "events": "events",
    "attributes": "attributes",
}
# tables split by customer for a partitioned build; every partition gets the shared ones whole
GROUPS = ("industry", "region")  # what customers are grouped by (sector medians, the report)
NOT_GIVEN = "(not given)"  # the group of customers whose book row leaves it blank
CUSTOMER_TABLES = ("customers", "invoices", "financials", "events", "attributes", "defaults")
# the invoice columns the features read; the build leaves the others (invoice ids, currency,
# paid amounts) behind, so that splitting the ledger into blocks does not copy their text. A
# feature that reads another invoice column adds it here.
LEDGER_COLUMNS = ("customer_id", "issue_date", "due_date", "amount", "paid_date", "disputed")
SHARED_TABLES = ("industry_index",)


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


# what dates the data: the first month any table of the first group with rows has data starts
# the snapshots; a book with none of them (customers, attributes and defaults only) is dated by
# its attributes' known dates and its default dates
DATED_FACTS = (
    (("invoices", "issue_date"), ("events", "event_date"), ("financials", "period_end")),
    (("attributes", "known_date"), ("defaults", "default_date")),
)


def fact_dates(
    tables: dict[str, pd.DataFrame], more: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """``customer_id, fact``: every date of :data:`DATED_FACTS` (and ``more``) on record."""
    dated = [(name, column) for facts in DATED_FACTS for name, column in facts]
    frames = [
        tables[name][["customer_id", column]].set_axis(["customer_id", "fact"], axis=1)
        for name, column in [*dated, *(more or [])]
        if name in tables and len(tables[name])
    ]
    empty = pd.DataFrame({"customer_id": pd.Series(dtype=str), "fact": pd.Series(dtype="M8[ns]")})
    facts = pd.concat(frames).dropna() if frames else empty
    return facts.astype({"customer_id": str, "fact": "datetime64[ns]"})


def with_relationship_start(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """The customers, a blank ``relationship_start`` taken as the customer's first dated fact.

    The first invoice, event, statement, attribute row (or default) on record: a customer is
    in the book from when the data first knows it, not from the first month of the data.

    Returns:
        ``(customers, filled)``: the book and how many starts were filled in.
    """
    customers = tables["customers"]
    blank = customers["relationship_start"].isna()
    if not blank.any():
        return customers, 0
    first = fact_dates(tables).groupby("customer_id")["fact"].min()
    start = customers["relationship_start"].fillna(customers["customer_id"].map(first))
    filled = int((blank & start.notna()).sum())
    return customers.assign(relationship_start=start.astype("datetime64[ns]")), filled


def last_fact_dates(tables: dict[str, pd.DataFrame], at: pd.DataFrame) -> pd.Series:
    """The date of each customer's latest dated fact on or before each row's ``as_of_date``.

    Facts: the dates of :data:`DATED_FACTS` (invoices issued, events, statements, attribute
    rows, defaults) and invoices paid. NaT where the customer has none yet.

    Args:
        tables: The contract tables.
        at: ``customer_id`` and ``as_of_date`` rows.

    Returns:
        Aligned to ``at``.
    """
    customers = pd.unique(at["customer_id"])
    row_code, row_day = positions(at["customer_id"], customers), _days(at["as_of_date"])
    days = np.unique(row_day)  # the rows' dates (month ends): a few
    # each customer's latest fact before each of the rows' dates, in one (customer, date) grid:
    # a fact goes to the first date on or after it, then a running maximum along the dates
    latest = np.full(len(customers) * len(days), NO_DAY, dtype=np.int64)
    dated = [(name, column) for facts in DATED_FACTS for name, column in facts]
    for name, column in [*dated, ("invoices", "paid_date")]:
        if name in tables and len(tables[name]):  # as integers: no text copied
            table = tables[name]
            code, day = positions(table["customer_id"], customers), _days(table[column])
            date = np.searchsorted(days, day)
            known = (code >= 0) & (day != NO_DAY) & (date < len(days))
            np.maximum.at(latest, code[known] * len(days) + date[known], day[known])
    latest = np.maximum.accumulate(latest.reshape(len(customers), len(days)), axis=1)
    last = latest[row_code, np.searchsorted(days, row_day)]
    return pd.Series(last.astype("datetime64[D]").astype("datetime64[ns]"), index=at.index)


NO_DAY = np.iinfo(np.int64).min  # NaT as days


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def is_stale(as_of: pd.Series, last_fact: pd.Series, max_age_months: int) -> pd.Series:
    """Whether the latest fact lies more than ``max_age_months`` before the as-of date.

    A customer with no fact yet is not stale (it is new; its features say it has no history).
    """
    limit = pd.to_datetime(as_of).astype("datetime64[ns]") - pd.DateOffset(months=max_age_months)
    return last_fact.notna() & (last_fact < limit)


def first_snapshot_month(tables: dict[str, pd.DataFrame], warmup_months: int) -> int:
    """Month index of the first snapshot: the first month with data plus the warm-up."""
    for facts in DATED_FACTS:
        starts = [
            _first_month(tables[name][col])
            for name, col in facts
            if name in tables and len(tables[name])
        ]
        if starts:
            break
    else:
        names = ", ".join(name for facts in DATED_FACTS for name, _ in facts)
        raise ValueError(f"no dated table ({names}) to build snapshots from")
    return int(min(starts)) + warmup_months


def _first_month(dates: pd.Series) -> int:
    """The smallest month index of ``dates`` (-1 when one is missing): of the earliest only."""
    return -1 if dates.isna().any() else int(month_index(pd.Series([dates.min()]))[0])


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


def customer_codes(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """The tables with every ``customer_id`` as an integer code, assigned once per book.

    A customer's code is its position in the book; ids found only in other tables (validation
    rejects them, but they still give default dates) come after, in order of appearance. The
    feature build then looks customers up as integers, never as text.

    Returns:
        ``(coded, ids)``: the CUSTOMER_TABLES with codes (the others as they are), and the id
        of each code (for :func:`decoded`).
    """
    book = tables["customers"]["customer_id"]
    coded, unknown = dict(tables), [pd.Series([], dtype=book.dtype)]
    codes = {}
    for name in CUSTOMER_TABLES:
        if name in tables:
            codes[name] = positions(tables[name]["customer_id"], book)
            unknown.append(tables[name]["customer_id"][codes[name] < 0])
    others = pd.Series(pd.unique(pd.concat(unknown, ignore_index=True)))
    ids = pd.concat([book, others.astype(book.dtype)], ignore_index=True)
    for name, code in codes.items():
        ids_of = tables[name]["customer_id"]
        if (code < 0).any():  # the ids not in the book: codes after the book's
            code = code.copy()
            code[code < 0] = len(book) + positions(ids_of[code < 0], others)
        table = tables[name]
        if name == "invoices":
            table = table[[c for c in table.columns if c in LEDGER_COLUMNS]]
        coded[name] = table.assign(customer_id=code)
    return coded, ids


def decoded(frames: tuple[pd.DataFrame, ...], ids: pd.Series) -> tuple[pd.DataFrame, ...]:
    """:func:`build_customer_features`' frames with each customer's id for its code.

    The defaults (the second frame) are sorted by customer id, as the build on ids gives them.
    """
    out = [
        frame.assign(customer_id=ids.array.take(frame["customer_id"].to_numpy(dtype=np.int64)))
        for frame in frames
    ]
    out[1] = out[1].sort_values("customer_id", kind="stable").reset_index(drop=True)
    return tuple(out)


def partition_tables(
    tables: dict[str, pd.DataFrame], n_partitions: int
) -> list[dict[str, pd.DataFrame]]:
    """Split the customer-keyed tables into blocks of consecutive customers of the book.

    The blocks follow the book's row order, so the partitions' snapshots, concatenated in
    partition order, are in the order of the whole book's build. Rows of customers missing
    from the book (validation rejects them) go to the first partition, where they still give
    default dates, as in the whole build. Every row keeps its relative order.

    Args:
        tables: Canonical contract tables, ``customers`` required; tables other than
            CUSTOMER_TABLES (the shared ``industry_index``) are left out.
        n_partitions: Partitions wanted; a book with fewer customers gets one per customer.

    Returns:
        The partitions, none of them empty (one when the book is), each with the
        CUSTOMER_TABLES present in ``tables``.
    """
    if "customers" not in tables:
        raise ValueError("the customers table is required")
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be at least 1, got {n_partitions}")
    book = pd.Index(tables["customers"]["customer_id"])
    if not book.is_unique:
        raise ValueError("customers.customer_id has duplicates; partitions need a unique key")
    n = max(1, min(n_partitions, len(book)))
    if n == 1:  # the whole book, every row in its place: nothing to copy
        return [{name: tables[name] for name in CUSTOMER_TABLES if name in tables}]
    parts: list[dict[str, pd.DataFrame]] = [{} for _ in range(n)]
    for name in CUSTOMER_TABLES:
        if name not in tables:
            continue
        table = tables[name]
        position = positions(table["customer_id"], book)
        block = np.where(position < 0, 0, position * n // max(len(book), 1))
        order = np.argsort(block, kind="stable")
        bounds = np.searchsorted(block[order], np.arange(n + 1))
        for k in range(n):
            parts[k][name] = table.iloc[order[bounds[k] : bounds[k + 1]]]
    return parts


def combine_partitions(
    results: list[tuple[pd.DataFrame, ...]],
) -> tuple[pd.DataFrame, ...]:
    """Concatenate the outputs of :func:`build_customer_features` on :func:`partition_tables`.

    Args:
        results: ``(snapshots, defaults)`` of each partition (``(snapshots, defaults,
            rows)`` of an incremental build), in partition order.

    Returns:
        What :func:`build_customer_features` gives on the whole book: snapshots (and rows)
        in partition order, defaults sorted by customer. The partitions' frames are emptied,
        a column at a time, as they are combined (so that the blocks and the whole table are
        not held at once).
    """
    if not results:
        raise ValueError("no partitions to combine")
    combined = [_concat([result[k] for result in results]) for k in range(len(results[0]))]
    defaults = combined[1].sort_values("customer_id", kind="stable").reset_index(drop=True)
    return combined[0], defaults, *combined[2:]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under the other, a column at a time, each block's column freed once copied.

    The blocks' results and the combined table are never all held at once (the build's peak).
    """
    # empty frames may lack columns (no snapshot got features) or type them differently
    filled = [frame for frame in frames if len(frame)] or frames[:1]
    names = list(filled[0].columns)
    if len(filled) == 1 or any(list(frame.columns) != names for frame in filled):
        return pd.concat(filled, ignore_index=True)
    columns = {}
    for name in names:
        columns[name] = pd.concat([frame.pop(name) for frame in filled], ignore_index=True)
    return pd.DataFrame(columns, copy=False)
