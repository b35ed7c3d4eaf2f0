"""Features stage: month-end snapshots, labels and point-in-time features.

Inputs:
    data/validated/ (the rows validation kept, and the manifest with the data's as-of date,
    and for one-date data sets their snapshot dates and label horizon); of the tables, those
    the features read (``FEATURE_TABLES``: the customer tables, payments and payment plans
    included, and the industry index)
Outputs:
    data/features/snapshots.parquet: one row per (customer, month end) in the book and not in
        default, with ``label`` (default within the horizon; empty where not yet observed).
    data/features/default_dates.parquet: first default date and trigger per customer.
    data/features/summary.json: rows, labelled rows, default rate, families skipped, and the
        user's attributes as the schema describes them (``attributes``).
Params:
    features (``engine`` and ``dask`` choose where the build runs; the result is the same)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features.build import (
    ID_COLUMNS,
    FeatureSettings,
    add_cross_sectional_features,
    build_customer_features,
    drop_empty_features,
    skipped_families,
    snapshot_months,
)
from features.contract import TABLES
from features.incremental import (
    History,
    cached_features,
    code_fingerprint,
    last_month_end,
    settings_record,
    with_cached_rows,
)
from features.partitions import (
    CUSTOMER_TABLES,
    SHARED_TABLES,
    combine_partitions,
    customer_codes,
    decoded,
    partition_tables,
)
from features.timeline import month_index
from pipelines.io.files import (
    atomic_path,
    read_json,
    read_parquet,
    run_stage,
    write_json,
    write_parquet,
)
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config, load_config, parse_args

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger("pipelines")
STATE = "state.json"  # under Paths.features_cache, beside the parts it names
# (function, partitions, keyword arguments for every call, what) -> results in partition order
Mapper = Callable[[Callable[..., Any], list, dict[str, Any], str], list[Any]]


# the tables the feature build reads (the customer tables, payments and plans, and the index)
FEATURE_TABLES = (*CUSTOMER_TABLES, *SHARED_TABLES)


def load_validated(paths: Paths) -> tuple[dict[str, pd.DataFrame], dict]:
    """The validated tables the features read (:data:`FEATURE_TABLES`) and the manifest."""
    manifest = read_json(paths.validated_manifest)
    tables = {
        name: read_parquet(paths.validated_table(name))
        for name in manifest["tables"]
        if name in TABLES and name in FEATURE_TABLES
    }
    return tables, manifest


def feature_settings(cfg: Config, manifest: dict) -> FeatureSettings:
    """The configured settings, with the snapshot dates and horizon a data set may define."""
    how = {"block_customers", "incremental"}  # how the build runs, not what it gives
    settings = FeatureSettings(**cfg.features.model_dump(exclude=how))
    horizon = manifest.get("horizon_months")
    if horizon and horizon != settings.horizon_months:
        log.info("the %s data defines its label horizon: %d months", manifest["source"], horizon)
        settings = replace(settings, horizon_months=int(horizon))
    dates = tuple(pd.Timestamp(d) for d in manifest.get("snapshot_dates") or ())
    if dates:
        log.info(
            "snapshots only at %s (the data is observed at that date)",
            ", ".join(map(str, manifest["snapshot_dates"])),
        )
    return replace(settings, snapshot_dates=dates)


def build_features_on_dask(
    tables: dict[str, pd.DataFrame],
    as_of_date: pd.Timestamp,
    settings: FeatureSettings,
    client: Client,
    partitions: int,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """:func:`build_in_partitions` with the partitions built on the Dask workers.

    Each worker builds its blocks' snapshots and default dates from their rows (shipped from
    here); the sector comparisons run here on the gathered result.
    """
    from pipelines.runtime.cluster import (
        map_partitions,  # distributed is imported for engine: dask only
    )

    return build_in_partitions(
        tables, as_of_date, settings, partitions, partial(map_partitions, client)
    )


def build_in_partitions(
    tables: dict[str, pd.DataFrame],
    as_of_date: pd.Timestamp,
    settings: FeatureSettings,
    partitions: int,
    mapper: Mapper | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """:func:`~features.build.build_features`, one block of customers at a time.

    The book is split into ``partitions`` blocks of customers; ``mapper`` builds each block's
    per-customer part (default: here, one after the other, so that only one block's working
    memory is held at a time); the sector comparisons then run once on the combined table.
    The output equals ``build_features``' exactly.
    """
    per_customer, defaults = customer_parts(tables, as_of_date, settings, partitions, mapper)
    snapshots = add_cross_sectional_features(per_customer, defaults, tables["customers"])
    return snapshots, defaults, skipped_families(tables)


def customer_parts(
    tables: dict[str, pd.DataFrame],
    as_of_date: pd.Timestamp,
    settings: FeatureSettings,
    partitions: int,
    mapper: Mapper | None = None,
    first_new_month: int | None = None,
) -> tuple[pd.DataFrame, ...]:
    """The per-customer part of :func:`build_in_partitions`: snapshots and default dates.

    With ``first_new_month``, only the snapshots from that month index on are built, and every
    row's id columns come third (:func:`~features.build.build_customer_features`).
    """
    if "customers" not in tables:
        raise ValueError("the customers table is required")
    months = snapshot_months(tables, as_of_date, settings)  # from all tables, once
    coded, ids = customer_codes(tables)  # integer customer codes, assigned once per book
    parts = partition_tables(coded, partitions)
    del coded  # the blocks hold their rows (copies, when there are several)
    shared = {
        "shared_tables": {name: tables[name] for name in SHARED_TABLES if name in tables},
        "as_of_date": as_of_date,
        "settings": settings,
        "months": months,
        "first_new_month": first_new_month,
    }
    log.info("features in %d customer partitions", len(parts))
    results = (mapper or _one_by_one)(_customer_part, parts, shared, "feature partitions")
    del parts  # the blocks' tables, before their results are combined (the peak)
    return decoded(combine_partitions(results), ids)


def _one_by_one(
    func: Callable[..., Any], parts: list, shared: dict[str, Any], what: str
) -> list[Any]:
    results, customers, started = [], 0, time.perf_counter()
    for done in range(1, len(parts) + 1):
        part, parts[done - 1] = parts[done - 1], None  # a block's tables go once it is built
        results.append(func(part, **shared))
        customers += len(part["customers"])
        del part
        elapsed = time.perf_counter() - started
        log.info(
            "%s: %d of %d done, %d customers in %.0f s (%.0f a second)",
            what, done, len(parts), customers, elapsed, customers / max(elapsed, 1e-9),
        )  # fmt: skip
    return results


def _customer_part(
    part: dict[str, pd.DataFrame],
    shared_tables: dict[str, pd.DataFrame],
    as_of_date: pd.Timestamp,
    settings: FeatureSettings,
    months: list[int],
    first_new_month: int | None,
) -> tuple[pd.DataFrame, ...]:
    tables = part | shared_tables
    return build_customer_features(tables, as_of_date, settings, months, first_new_month)


def build_per_customer(
    cfg: Config,
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    settings: FeatureSettings,
    first_new_month: int | None = None,
) -> tuple[pd.DataFrame, ...]:
    """:func:`customer_parts` with the configured engine (``engine``, ``dask``)."""
    if cfg.engine == "pandas":
        blocks = max(1, math.ceil(len(tables["customers"]) / cfg.features.block_customers))
        if first_new_month is not None:  # a month end's features: one month of rows, one block
            blocks = 1
        log.info("engine: pandas (this process), %d block(s) of customers", blocks)
        return customer_parts(tables, as_of, settings, blocks, None, first_new_month)
    from pipelines.runtime.cluster import dask_client, map_partitions, n_partitions

    log.info("engine: dask")
    with dask_client(cfg.dask) as client:
        n, mapper = n_partitions(cfg.dask, client), partial(map_partitions, client)
        return customer_parts(tables, as_of, settings, n, mapper, first_new_month)


def build(
    cfg: Config, tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, settings: FeatureSettings
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Every feature with the configured engine: what ``build_features`` gives."""
    per_customer, defaults = build_per_customer(cfg, tables, as_of, settings)
    snapshots = add_cross_sectional_features(per_customer, defaults, tables["customers"])
    return snapshots, defaults, skipped_families(tables)


@dataclass(frozen=True)
class Reuse:
    """An earlier build whose features are still right up to its last month end."""

    features: list[pd.DataFrame]  # features.incremental.cached_features of that build, by part
    first_new_month: int  # month index of the first month end to build now
    parts: list[str]  # the cache files that hold them (one per build, appended)


def reusable_build(
    cfg: Config, paths: Paths, history: History, settings: FeatureSettings
) -> tuple[Reuse | None, str]:
    """The last build to extend, or ``None``; and why, in words for the log."""
    state_path = paths.features_cache / STATE
    if not cfg.features.incremental:
        return None, "features.incremental is false"
    if settings.snapshot_dates:
        return None, "the data set defines its snapshot dates"
    if not state_path.is_file():
        return None, f"no earlier build in {paths.features_cache}"
    state = read_json(state_path)
    if state.get("code") != code_fingerprint():
        return None, "the feature code changed since the last build"
    if state.get("settings") != settings_record(settings):
        return None, "the feature settings changed since the last build"
    last = pd.Timestamp(state["last_month_end"])
    if history.fingerprint(last) != state["fingerprint"]:
        return None, f"the data as known at {last.date()} changed since the last build"
    try:
        cached = [read_part(paths.features_cache / name) for name in state["parts"]]
    except (OSError, ValueError, pa.ArrowException) as err:  # gone, or unreadable: build all
        return None, f"the last build's rows cannot be read ({err})"
    first_new = int(month_index(pd.DatetimeIndex([last]))[0]) + 1
    reuse = Reuse(cached, first_new, state["parts"])
    return reuse, f"the data up to {last.date()} is unchanged"


def build_incrementally(
    cfg: Config,
    paths: Paths,
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    settings: FeatureSettings,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """:func:`build`, reusing the last build's rows up to its last month end where it can.

    The rows of this build and the state to reuse them go to ``paths.features_cache``: a full
    build writes all its rows as one part, an incremental one appends its new rows as another.
    The result equals a full build's.
    """
    history = History(tables, settings)  # the ledger hashed once for both views
    reuse, why = reusable_build(cfg, paths, history, settings)
    snapshots = None
    if reuse is not None:
        started, customers = time.perf_counter(), tables["customers"]
        fresh, defaults, rows = build_per_customer(
            cfg, tables, as_of, settings, reuse.first_new_month
        )
        if len(fresh):
            fresh = add_cross_sectional_features(fresh, defaults, customers)
        snapshots = with_cached_rows(
            rows, fresh, reuse.features, reuse.first_new_month, customers["customer_id"]
        )
        if snapshots is None:
            why = "the last build's rows or features do not fit this one"
        else:
            log.info(
                "incremental build: %s; built %d rows of the month end(s) after it, reused %d "
                "(%.1f s)", why, len(fresh), len(snapshots) - len(fresh),
                time.perf_counter() - started,
            )  # fmt: skip
            parts, added = reuse.parts, fresh
    if snapshots is None:
        log.info("full build: %s", why)
        snapshots, defaults, _ = build(cfg, tables, as_of, settings)
        parts, added = [], snapshots
    last = last_month_end(snapshots)
    if last is not None:  # what the next build may reuse
        keep_cache(paths, parts, added, last, history.fingerprint(last), settings)
    return snapshots, defaults, skipped_families(tables)


def keep_cache(
    paths: Paths,
    parts: list[str],
    added: pd.DataFrame,
    last: pd.Timestamp,
    fingerprint: str,
    settings: FeatureSettings,
) -> None:
    """Write ``added``'s rows as one more part beside ``parts``, then the state naming them all.

    With no ``parts`` (a full build) the parts the old state named are removed afterwards.
    """
    folder, state_path = paths.features_cache, paths.features_cache / STATE
    old = read_json(state_path).get("parts", []) if state_path.is_file() and not parts else []
    if len(added):
        name = f"rows-{str(added['as_of_date'].min().date())}.arrow"
        write_part(cached_features(added), folder / name)
        parts = [*parts, name]
    state = {
        "last_month_end": str(last.date()),
        "fingerprint": fingerprint,
        "code": code_fingerprint(),
        "settings": settings_record(settings),
        "parts": parts,
    }
    write_json(state, state_path)
    for name in set(old) - set(parts):  # the parts of the build this one replaced
        (folder / name).unlink(missing_ok=True)


def write_part(frame: pd.DataFrame, path: Path) -> None:
    """Write cached rows as an uncompressed Arrow file, NaN kept as NaN (read without a copy)."""
    arrays = [
        pa.array(frame[c].to_numpy()) if frame[c].dtype == np.float64 else pa.array(frame[c])
        for c in frame.columns
    ]
    table = pa.table(arrays, names=list(frame.columns))
    with atomic_path(path) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


def read_part(path: Path) -> pd.DataFrame:
    """The rows :func:`write_part` wrote, memory-mapped: the float columns are not copied."""
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    return table.to_pandas(split_blocks=True)


def run(cfg: Config, paths: Paths) -> None:
    """Build and write the snapshot table."""
    tables, manifest = load_validated(paths)
    settings = feature_settings(cfg, manifest)
    as_of = pd.Timestamp(manifest["as_of_date"])
    snapshots, defaults, skipped = build_incrementally(cfg, paths, tables, as_of, settings)
    snapshots, empty = drop_empty_features(snapshots)
    if empty:
        skipped = [*skipped, f"no values in the data for {', '.join(empty)}: left out"]
    for line in skipped:
        log.info(line)
    labelled = snapshots["label"].notna()
    summary = {
        "rows": len(snapshots),
        "customers": int(snapshots["customer_id"].nunique()),
        "labelled_rows": int(labelled.sum()),
        "default_rate": float(snapshots.loc[labelled, "label"].mean()),
        "first_as_of": str(snapshots["as_of_date"].min().date()),
        "last_as_of": str(snapshots["as_of_date"].max().date()),
        "defaults_by_trigger": defaults["default_trigger"].value_counts().to_dict(),
        "features": [c for c in snapshots.columns if c not in ID_COLUMNS],
        "horizon_months": settings.horizon_months,  # what every later stage labels and names
        "skipped": skipped,
        # each attribute's label, type, unit, direction and sentences, as ingest resolved them
        "attributes": manifest.get("attributes", {}),
    }
    log.info(
        "%d snapshots, %d labelled, default rate %.4f",
        summary["rows"],
        summary["labelled_rows"],
        summary["default_rate"],
    )
    write_parquet(snapshots, paths.snapshots)
    write_parquet(defaults, paths.default_dates)
    write_json(summary, paths.features_summary)


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.featurize --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
