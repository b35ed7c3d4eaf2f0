"""Validate stage: Great Expectations suites, generated from the data contract, per raw table.

Every row is either kept or rejected with the first rule it broke; nothing disappears.

Inputs:
    data/raw/<table>.parquet: each contract table ingest wrote (customers always).
    data/raw/manifest.json: ``as_of_date`` (nothing that happened lies after it), the tables,
        ``currency`` (the book's, where configured).
    data/raw/unparsed.parquet: cells ingest could not parse (optional; rule ``type``).
Outputs:
    data/reports/validation/summary.json: per table rows in, kept and rejected (per rule), the
        rules evaluated and failed, each failure with sample rows; ``flags``: kept rows that
        contradict another table (``pipelines.checks.flags``), each with sample rows.
    data/reports/validation/rejects_<table>.csv: each rejected row (``row`` = its 1-based data
        row in the file) with the first rule it broke, all rules it broke, and its values.
    data/reports/data_docs/: Great Expectations Data Docs (open ``index.html``); not a DVC
        output, as GX stamps every build with its time.
    data/validated/<table>.parquet + manifest.json: the kept rows, which the features stage
        reads (equal to data/raw when nothing is rejected).
Params:
    validate.sample_rows, validate.on_bad_rows (fail: stop on any broken rule; quarantine:
    reject the broken rows and go on; a table-level rule such as a missing column always stops).
"""

from __future__ import annotations

import logging
import shutil
from functools import partial
from typing import Any, NamedTuple

import pandas as pd

from features.contract import TABLES
from pipelines.checks.flags import consistency_flags
from pipelines.checks.gx import build_data_docs, validate_tables
from pipelines.checks.results import TableResult, ValidationReport, no_cells
from pipelines.io.files import (
    StageError,
    atomic_folder,
    neutralise_formulas,
    read_json,
    read_parquet,
    run_stage,
    write_json,
)
from pipelines.io.paths import Paths, staged
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines")


def rejects_frame(
    result: TableResult, frame: pd.DataFrame, unparsed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The rejects file of one table: why, then the row's values (unparsed cells as given)."""
    rows = frame.reset_index(drop=True).loc[result.rejected.index].copy()
    for name in rows.columns[[pd.api.types.is_datetime64_any_dtype(t) for t in rows.dtypes]]:
        rows[name] = rows[name].dt.strftime("%Y-%m-%d").astype(object)
    cells = unparsed if unparsed is not None else no_cells()
    for column, given in cells.groupby("column"):
        given = given.set_index(given["row"].astype(int))["value"]
        given = given[given.index.isin(rows.index)]
        rows[column] = rows[column].astype(object)
        rows.loc[given.index, column] = given
    return pd.concat([result.rejected, rows], axis=1).reset_index(drop=True)


def write_outputs(
    report: ValidationReport,
    tables: dict[str, pd.DataFrame],
    paths: Paths,
    unparsed: pd.DataFrame | None = None,
    flags: list[dict] | None = None,
) -> None:
    """Write summary and rejects, then the Data Docs, each folder beside and swapped in whole."""
    with atomic_folder(paths.validation) as staging:
        place = partial(staged, folder=paths.validation, staging=staging)
        write_json(report.to_dict() | {"flags": flags or []}, place(paths.validation_summary))
        for name, result in report.tables.items():
            mine = None if unparsed is None else unparsed[unparsed["table"] == name]
            rejects = rejects_frame(result, tables[name], mine)
            neutralise_formulas(rejects).to_csv(place(paths.validation_rejects(name)), index=False)
    with atomic_folder(paths.data_docs) as staging:
        build_data_docs(report, staging)


def write_validated(
    report: ValidationReport, tables: dict[str, pd.DataFrame], manifest: dict, paths: Paths
) -> None:
    """Write the kept rows and their manifest (raw files copied when all rows are kept)."""
    with atomic_folder(paths.validated) as staging:
        place = partial(staged, folder=paths.validated, staging=staging)
        for name, frame in tables.items():
            result, path = report.tables[name], paths.raw_table(name)
            if result.rejected.empty and path.is_file():
                shutil.copyfile(path, place(paths.validated_table(name)))
            else:
                kept = frame.reset_index(drop=True).drop(index=result.rejected.index)
                kept = kept.reset_index(drop=True)
                kept.to_parquet(place(paths.validated_table(name)), index=False)
        kept_manifest = manifest | {
            "tables": {n: r.rows_kept for n, r in report.tables.items()},
            "validation": {
                "on_bad_rows": report.on_bad_rows,
                "rows_in": {n: r.rows_in for n, r in report.tables.items()},
                "rows_rejected": {n: len(r.rejected) for n, r in report.tables.items()},
            },
        }
        write_json(kept_manifest, place(paths.validated_manifest))


class RawData(NamedTuple):
    """What validation reads from data/raw."""

    tables: dict[str, pd.DataFrame]
    as_of_date: pd.Timestamp
    manifest: dict[str, Any]
    unparsed: pd.DataFrame


def load_tables(paths: Paths) -> RawData:
    """Read the raw contract tables that exist, the manifest and the unparsed cells."""
    manifest = read_json(paths.manifest)
    try:
        as_of_date = pd.Timestamp(manifest["as_of_date"])
    except (KeyError, TypeError, ValueError) as err:
        raise StageError(f"{paths.manifest} needs an as_of_date YYYY-MM-DD: re-run ingest") from err
    wanted = {"customers"} | set(manifest.get("tables", {}))  # listed but missing: an error
    tables = {
        name: read_parquet(paths.raw_table(name))
        for name in TABLES
        if name in wanted or paths.raw_table(name).is_file()
    }
    path = paths.unparsed
    unparsed = pd.read_parquet(path) if path.is_file() else no_cells()
    return RawData(tables, as_of_date, manifest, unparsed)


def stop_message(report: ValidationReport, paths: Paths) -> str:
    """The stage's error: one line per blocking rule, and where the offending rows are."""
    blocking = report.blocking
    lines = [f.message(report.tables[f.table].rows_in) for f in blocking]
    text = f"{len(lines)} validation rule(s) failed:\n" + "\n".join(lines)
    if any(not f.table_level for f in blocking):
        text += (
            f"\nevery offending row is in {paths.validation_rejects('<table>')}; to set such "
            "rows aside and go on, set validate.on_bad_rows: quarantine"
        )
    return text


def reject_share_message(report: ValidationReport, max_share: float) -> str | None:
    """Why quarantine stops: the first table whose rejected share is above ``max_share``."""
    for name, result in report.tables.items():
        rejected = len(result.rejected)
        if not rejected or rejected <= max_share * result.rows_in:
            continue
        rule, count = max(result.rejected_by_rule().items(), key=lambda kv: kv[1])
        return (
            f"validate: {name}: {rejected} of {result.rows_in} rows "
            f"({rejected / result.rows_in:.0%}) would be set aside, more than "
            f"validate.max_reject_share {max_share:.0%}; most by {rule} ({count} rows): fix the "
            "data or its ingest settings, or raise validate.max_reject_share"
        )
    return None


def run(cfg: Config, paths: Paths) -> ValidationReport:
    """Validate the raw tables; write reports, then the kept rows (or stop on broken rules)."""
    raw = load_tables(paths)
    settings = cfg.validate_
    log.info("validate: %d tables as of %s", len(raw.tables), raw.as_of_date.date())
    report = validate_tables(
        raw.tables,
        raw.as_of_date,
        settings.sample_rows,
        settings.on_bad_rows,
        unparsed=raw.unparsed,
        currency=raw.manifest.get("currency"),
    )
    kept = {n: f.drop(index=report.tables[n].rejected.index) for n, f in raw.tables.items()}
    flags = consistency_flags(kept, settings.sample_rows)
    write_outputs(report, raw.tables, paths, raw.unparsed, flags)
    log.info("validate: wrote %s", paths.validation)
    for flag in flags:
        log.warning("validate: %s", flag["message"])
    if report.blocking:
        raise StageError(stop_message(report, paths))
    too_many = reject_share_message(report, settings.max_reject_share)
    if too_many:
        raise StageError(too_many)
    if report.tables["customers"].rows_kept == 0:
        rejects = paths.validation_rejects("customers")
        raise StageError(f"no customer passed validation: see {rejects}")
    write_validated(report, raw.tables, raw.manifest, paths)
    for name, result in report.tables.items():
        if len(result.rejected):
            log.warning(
                "validate: %s: %d of %d rows rejected %s -> %s",
                name,
                len(result.rejected),
                result.rows_in,
                result.rejected_by_rule(),
                paths.validation_rejects(name),
            )
    log.info("validate: wrote %s", paths.validated)
    return report


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.validate --config configs/params.yaml``."""
    args = parse_args(argv, description=__doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
