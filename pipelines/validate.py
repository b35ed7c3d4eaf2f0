"""Validate stage: Great Expectations suites, generated from the data contract, per raw table.

Every row is either kept or rejected with the first rule it broke; nothing disappears.

Inputs:
    data/raw/<table>.parquet: each contract table ingest wrote (customers always).
    data/raw/manifest.json: ``as_of_date`` (nothing that happened lies after it), the tables,
        ``currency`` (the book's, where configured).
    data/raw/unparsed.parquet: cells ingest could not parse (optional; rule ``type``).
Outputs:
    data/reports/validation/summary.json: per table rows in, kept and rejected (per rule), the
        rules evaluated and failed, each failure with sample rows.
    data/reports/validation/rejects_<table>.csv: each rejected row (``row`` = its 1-based data
        row in the file) with the first rule it broke, all rules it broke, and its values.
    data/reports/validation/docs/: Great Expectations Data Docs (open ``index.html``).
    data/validated/<table>.parquet + manifest.json: the kept rows, which the features stage
        reads (equal to data/raw when nothing is rejected).
Params:
    validate.sample_rows, validate.on_bad_rows (fail: stop on any broken rule; quarantine:
    reject the broken rows and go on; a table-level rule such as a missing column always stops).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from features.contract import TABLES
from pipelines.checks.gx import (
    TableResult,
    ValidationReport,
    build_data_docs,
    no_cells,
    validate_tables,
)
from pipelines.io.files import (
    RAW,
    REPORTS,
    VALIDATED,
    StageError,
    atomic_folder,
    read_json,
    read_parquet,
    run_stage,
    write_json,
)
from pipelines.runtime.config import Config, load_config, parse_args

OUT = REPORTS / "validation"
MANIFEST = RAW / "manifest.json"
UNPARSED = RAW / "unparsed.parquet"

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
    out: Path,
    unparsed: pd.DataFrame | None = None,
) -> None:
    """Write summary, rejects and Data Docs beside ``out``, then swap them in atomically."""
    with atomic_folder(out) as staging:
        write_json(report.to_dict(), staging / "summary.json")
        for name, result in report.tables.items():
            mine = None if unparsed is None else unparsed[unparsed["table"] == name]
            rejects = rejects_frame(result, tables[name], mine)
            rejects.to_csv(staging / f"rejects_{name}.csv", index=False)
        build_data_docs(report, staging / "docs")


def write_validated(
    report: ValidationReport, tables: dict[str, pd.DataFrame], manifest: dict, raw: Path, out: Path
) -> None:
    """Write the kept rows and their manifest to ``out`` (raw files copied when all are kept)."""
    with atomic_folder(out) as staging:
        for name, frame in tables.items():
            result, path = report.tables[name], Path(raw) / f"{name}.parquet"
            if result.rejected.empty and path.is_file():
                shutil.copyfile(path, staging / path.name)
            else:
                kept = frame.reset_index(drop=True).drop(index=result.rejected.index)
                kept.reset_index(drop=True).to_parquet(staging / f"{name}.parquet", index=False)
        kept_manifest = manifest | {
            "tables": {n: r.rows_kept for n, r in report.tables.items()},
            "validation": {
                "on_bad_rows": report.on_bad_rows,
                "rows_in": {n: r.rows_in for n, r in report.tables.items()},
                "rows_rejected": {n: len(r.rejected) for n, r in report.tables.items()},
            },
        }
        write_json(kept_manifest, staging / "manifest.json")


class RawData(NamedTuple):
    """What validation reads from data/raw."""

    tables: dict[str, pd.DataFrame]
    as_of_date: pd.Timestamp
    manifest: dict[str, Any]
    unparsed: pd.DataFrame


def load_tables(raw: Path = RAW) -> RawData:
    """Read the raw contract tables that exist, the manifest and the unparsed cells."""
    manifest = read_json(raw / MANIFEST.name)
    try:
        as_of_date = pd.Timestamp(manifest["as_of_date"])
    except (KeyError, TypeError, ValueError) as err:
        raise StageError(f"{MANIFEST} needs an as_of_date YYYY-MM-DD: re-run ingest") from err
    wanted = {"customers"} | set(manifest.get("tables", {}))  # listed but missing: an error
    tables = {
        name: read_parquet(raw / f"{name}.parquet")
        for name in TABLES
        if name in wanted or (raw / f"{name}.parquet").is_file()
    }
    path = raw / UNPARSED.name
    unparsed = pd.read_parquet(path) if path.is_file() else no_cells()
    return RawData(tables, as_of_date, manifest, unparsed)


def rejected_customers(out: Path = OUT) -> pd.DataFrame:
    """``customer_id, reason`` of each customer validation rejected, for the score's rejects.

    Empty when none was rejected or when ``rejects_customers.csv`` does not exist (outputs of
    a validation older than quarantine). A duplicated id is listed once.
    """
    path = Path(out) / "rejects_customers.csv"
    if not path.is_file():
        return pd.DataFrame({"customer_id": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})
    rejects = pd.read_csv(path, dtype=str, keep_default_na=False)
    reason = "rejected by validation: " + rejects["column"] + " " + rejects["rule"]
    reason += " (" + rejects["detail"] + "; row " + rejects["row"] + " of the customers file)"
    found = pd.DataFrame({"customer_id": rejects["customer_id"].str.strip(), "reason": reason})
    return found.drop_duplicates("customer_id").reset_index(drop=True)


def stop_message(report: ValidationReport) -> str:
    """The stage's error: one line per blocking rule, and where the offending rows are."""
    blocking = report.blocking
    lines = [f.message(report.tables[f.table].rows_in) for f in blocking]
    text = f"{len(lines)} validation rule(s) failed:\n" + "\n".join(lines)
    if any(not f.table_level for f in blocking):
        text += (
            f"\nevery offending row is in {OUT}/rejects_<table>.csv; to set such rows aside "
            "and go on, set validate.on_bad_rows: quarantine"
        )
    return text


def run(cfg: Config) -> ValidationReport:
    """Validate the raw tables; write reports, then the kept rows (or stop on broken rules)."""
    raw = load_tables()
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
    write_outputs(report, raw.tables, OUT, raw.unparsed)
    log.info("validate: wrote %s", OUT)
    if report.blocking:
        raise StageError(stop_message(report))
    if report.tables["customers"].rows_kept == 0:
        raise StageError(f"no customer passed validation: see {OUT}/rejects_customers.csv")
    write_validated(report, raw.tables, raw.manifest, RAW, VALIDATED)
    for name, result in report.tables.items():
        if len(result.rejected):
            log.warning(
                "validate: %s: %d of %d rows rejected %s -> %s/rejects_%s.csv",
                name,
                len(result.rejected),
                result.rows_in,
                result.rejected_by_rule(),
                OUT,
                name,
            )
    log.info("validate: wrote %s", VALIDATED)
    return report


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.validate --config configs/params.yaml``."""
    args = parse_args(argv, description=__doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
