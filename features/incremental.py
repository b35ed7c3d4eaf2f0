"""Incremental month-end: build only the new month ends, take the earlier ones from the last build.

Every feature at a month end t uses only what was known at t (the point-in-time test proves it).
So when the data as known at the last build's month end is unchanged, that build's per-customer
features of every month up to it are still right, and only the later month ends need building.
Labels, default dates and the sector comparisons (which look across customers, and whose rows
may change) are recomputed on the whole table every time.

:func:`known_at` is what the data knew at t; :func:`history_fingerprint` hashes it, so that a
later build can tell whether history changed (a restated invoice, a back-dated default, a
customer added with an earlier start: then everything is rebuilt). The fingerprint errs on the
side of rebuilding: anything dated at or before t, in any column, counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from features.build import ID_COLUMNS, FeatureSettings, with_relationship_start
from features.financials import available_dates
from features.timeline import month_end, month_index

KEYS = ["customer_id", "month"]
# the code whose output the cache holds: a change in it invalidates every cached feature
CODE = sorted(Path(__file__).resolve().parent.glob("*.py"))


def code_fingerprint() -> str:
    """SHA-256 of the feature code (every module of this package)."""
    digest = hashlib.sha256()
    for path in CODE:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def settings_record(settings: FeatureSettings) -> dict:
    """The settings as JSON-ready values (what a cached build was made with)."""
    record = asdict(settings)
    return record | {"snapshot_dates": [str(d) for d in settings.snapshot_dates]}


def known_at(
    tables: dict[str, pd.DataFrame], t: pd.Timestamp, settings: FeatureSettings
) -> dict[str, pd.DataFrame]:
    """The tables as they were known at ``t``: what any feature at ``t`` or before may use.

    Rows dated after ``t`` are left out (invoices issued, events, statements available,
    attribute rows known, defaults, index months published after it); a payment or an end of
    relationship after ``t`` is blanked; customers who joined after ``t`` are left out.
    """
    t = pd.Timestamp(t)
    out: dict[str, pd.DataFrame] = {}
    customers, _ = with_relationship_start(tables)
    start = customers["relationship_start"]
    customers = customers[start.isna() | (start <= t)]
    if "relationship_end" in customers:
        end = customers["relationship_end"]
        customers = customers.assign(relationship_end=end.where(end <= t))
    out["customers"] = customers
    if "invoices" in tables:
        inv = tables["invoices"]
        inv = inv[inv["issue_date"] <= t]
        later = ~(inv["paid_date"] <= t)
        blank = {c: inv[c].mask(later) for c in ("paid_date", "paid_amount") if c in inv}
        out["invoices"] = inv.assign(**blank)
    dated = {"events": "event_date", "attributes": "known_date", "defaults": "default_date"}
    for name, column in dated.items():
        if name in tables:
            out[name] = tables[name][tables[name][column] <= t]
    if "financials" in tables:
        fin = tables["financials"]
        known = available_dates(fin, settings.financials_lag_days) <= t
        out["financials"] = fin[known.to_numpy()]
    if "industry_index" in tables:
        idx = tables["industry_index"]
        published = month_index(idx["month"]) <= month_index(pd.DatetimeIndex([t]))[0] - (
            settings.index_publication_lag_months
        )
        out["industry_index"] = idx[published]
    return out


def history_fingerprint(
    tables: dict[str, pd.DataFrame], t: pd.Timestamp, settings: FeatureSettings
) -> str:
    """SHA-256 of :func:`known_at` ``t``: equal fingerprints, equal features up to ``t``."""
    digest = hashlib.sha256()
    for name, frame in sorted(known_at(tables, t, settings).items()):
        table = pa.Table.from_pandas(frame[sorted(frame.columns)], preserve_index=False)
        table = table.replace_schema_metadata(None).combine_chunks()
        sink = pa.BufferOutputStream()  # Arrow's own bytes: types, values and validity
        with pa.ipc.new_stream(sink, table.schema) as stream:
            stream.write_table(table)
        digest.update(name.encode() + b"\0")
        digest.update(sink.getvalue())
    return digest.hexdigest()


def last_month_end(snapshots: pd.DataFrame) -> pd.Timestamp | None:
    """The latest snapshot month end of a build (``None`` when it has no rows)."""
    if snapshots.empty:
        return None
    return month_end(int(snapshots["month"].max()))[0]


def cached_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """What a later build reuses: each row's keys and features (no labels, no groups)."""
    return snapshots.drop(columns=[c for c in ID_COLUMNS if c not in KEYS])


def with_cached_rows(
    built: pd.DataFrame,
    fresh: pd.DataFrame,
    cached: pd.DataFrame,
    first_new_month: int,
    book: pd.Series,
) -> pd.DataFrame | None:
    """The whole snapshot table: the earlier rows' features from the cache, the new ones built.

    Args:
        built: An incremental build's per-customer rows
            (``build_customer_features(..., first_new_month)``): the earlier ones with their
            id columns (labels as of now) and no staleness rule applied.
        fresh: The rows from ``first_new_month`` on with every feature (the sector comparisons
            of a month use only that month's rows).
        cached: :func:`cached_features` of the last build, whose month ends all come before
            ``first_new_month``.
        first_new_month: Month index of the first month end built now.
        book: The book's ``customer_id`` in order (the rows' order: book, then month).

    Returns:
        The table a full build gives, or ``None`` when the cache does not fit this build (a
        cached row the grid no longer has; other features or types): then build everything.
        A grid row that is not in the cache was stale at the last build, as it is now.
    """
    earlier = built.loc[(built["month"] < first_new_month).to_numpy(), ID_COLUMNS]
    joined = earlier.merge(cached, on=KEYS, how="inner", validate="one_to_one")
    if len(joined) != len(cached):
        return None
    if len(fresh) and not (
        list(fresh.columns) == list(joined.columns) and fresh.dtypes.equals(joined.dtypes)
    ):
        return None
    rows = pd.concat([joined, fresh], ignore_index=True) if len(fresh) else joined
    position = pd.Index(book).get_indexer(rows["customer_id"])
    order = np.lexsort((rows["month"].to_numpy(), position))
    return rows.iloc[order].reset_index(drop=True)
