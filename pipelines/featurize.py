"""Features stage: month-end snapshots, labels and point-in-time features.

Inputs:
    data/validated/ (the rows validation kept, and the manifest with the data's as-of date,
    and for one-date data sets their snapshot dates and label horizon)
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
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from features.build import (
    ID_COLUMNS,
    SHARED_TABLES,
    FeatureSettings,
    add_cross_sectional_features,
    build_customer_features,
    build_features,
    combine_partitions,
    drop_empty_features,
    partition_tables,
    skipped_families,
    snapshot_months,
)
from features.contract import TABLES
from pipelines.io.files import read_json, read_parquet, run_stage, write_json, write_parquet
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config, load_config, parse_args

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger("pipelines")
# (function, partitions, keyword arguments for every call, what) -> results in partition order
Mapper = Callable[[Callable[..., Any], list, dict[str, Any], str], list[Any]]


def load_validated(paths: Paths) -> tuple[dict[str, pd.DataFrame], dict]:
    """The validated tables (the rows of data/raw validation kept) and their manifest."""
    manifest = read_json(paths.validated_manifest)
    tables = {
        name: read_parquet(paths.validated_table(name))
        for name in manifest["tables"]
        if name in TABLES
    }
    return tables, manifest


def feature_settings(cfg: Config, manifest: dict) -> FeatureSettings:
    """The configured settings, with the snapshot dates and horizon a data set may define."""
    settings = FeatureSettings(**cfg.features.model_dump(exclude={"block_customers"}))
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
    if "customers" not in tables:
        raise ValueError("the customers table is required")
    months = snapshot_months(tables, as_of_date, settings)  # from all tables, once
    parts = partition_tables(tables, partitions)
    shared = {
        "shared_tables": {name: tables[name] for name in SHARED_TABLES if name in tables},
        "as_of_date": as_of_date,
        "settings": settings,
        "months": months,
    }
    log.info("features in %d customer partitions", len(parts))
    results = (mapper or _one_by_one)(_customer_part, parts, shared, "feature partitions")
    snapshots, defaults = combine_partitions(results)
    snapshots = add_cross_sectional_features(snapshots, defaults, tables["customers"])
    return snapshots, defaults, skipped_families(tables)


def _one_by_one(
    func: Callable[..., Any], parts: list, shared: dict[str, Any], what: str
) -> list[Any]:
    results, customers, started = [], 0, time.perf_counter()
    for done, part in enumerate(parts, start=1):
        results.append(func(part, **shared))
        customers += len(part["customers"])
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
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return build_customer_features(part | shared_tables, as_of_date, settings, months)


def build(
    cfg: Config, tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, settings: FeatureSettings
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Build the features with the configured engine (``engine``, ``dask``)."""
    if cfg.engine == "pandas":
        blocks = math.ceil(len(tables["customers"]) / cfg.features.block_customers)
        log.info("engine: pandas (this process), %d block(s) of customers", max(blocks, 1))
        if blocks <= 1:
            return build_features(tables, as_of, settings)
        return build_in_partitions(tables, as_of, settings, blocks)
    from pipelines.runtime.cluster import dask_client, n_partitions

    log.info("engine: dask")
    with dask_client(cfg.dask) as client:
        n = n_partitions(cfg.dask, client)
        return build_features_on_dask(tables, as_of, settings, client, n)


def run(cfg: Config, paths: Paths) -> None:
    """Build and write the snapshot table."""
    tables, manifest = load_validated(paths)
    settings = feature_settings(cfg, manifest)
    as_of = pd.Timestamp(manifest["as_of_date"])
    snapshots, defaults, skipped = build(cfg, tables, as_of, settings)
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
