"""Ingest stage: the configured source into typed canonical tables.

Inputs:
    ingest.source = synthetic: nothing (the seeded generator, features/synthetic.py).
    ingest.source = folder: ``<ingest.path>/<table>.parquet`` or ``.csv`` per contract table.
Outputs:
    data/raw/<table>.parquet for each table present, data/raw/truth.parquet (synthetic only:
    true 12-month PDs), data/raw/manifest.json (source, as-of date, rows, skipped tables).
Params:
    ingest, synthetic
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from features.adapters import Adapted
from features.contract import REQUIRED_TABLES, TABLES, cast_table
from features.synthetic import generate
from pipelines.adapters import read_adapter, real_industry_index
from pipelines.config import Config, IngestConfig, load_config, parse_args
from pipelines.io import RAW, StageError, run_stage, write_json

log = logging.getLogger("pipelines")
DATE_SOURCES = {"invoices": "issue_date", "events": "event_date", "financials": "period_end"}


def read_folder(folder: Path) -> dict[str, pd.DataFrame]:
    """Read and type every contract table found in ``folder`` (Parquet preferred over CSV)."""
    if not folder.is_dir():
        raise StageError(f"ingest.path {folder} is not a folder")
    tables = {}
    for name, table in TABLES.items():
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        path = parquet if parquet.is_file() else csv if csv.is_file() else None
        if path is None:
            continue
        try:
            raw = (
                pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
            )
            tables[name] = cast_table(raw, table)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
            raise StageError(f"{path}: {err}") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise StageError(f"{folder}: required tables missing: {missing} (as .csv or .parquet)")
    return tables


def data_as_of(tables: dict[str, pd.DataFrame], configured: str | None) -> pd.Timestamp:
    """The configured as-of date, or the latest date in the dated tables."""
    if configured:
        return pd.Timestamp(configured)
    latest = [tables[t][c].max() for t, c in DATE_SOURCES.items() if t in tables and len(tables[t])]
    if not latest:
        raise StageError("cannot infer the as-of date: set ingest.as_of_date")
    return pd.Timestamp(max(latest)).normalize()


def load_source(cfg: Config) -> Adapted:
    """Tables, as-of date and snapshot facts of the configured source."""
    src: IngestConfig = cfg.ingest
    if src.source == "synthetic":
        syn = cfg.synthetic
        log.info(
            "generating %d customers, %d months (seed %d)", syn.n_customers, syn.n_months, syn.seed
        )
        tables = generate(syn.n_customers, syn.n_months, syn.start, syn.seed)
        source = Adapted(tables, tables["industry_index"]["month"].max())
    elif src.source == "folder":
        tables = read_folder(Path(src.path))
        source = Adapted(tables, data_as_of(tables, src.as_of_date))
    else:
        source = read_adapter(src.source, Path(src.path) if src.path else None)
    if src.industry_index == "industry_cycle":
        source = with_real_industry_index(source, src.industry_cycle_path)
    return source


def with_real_industry_index(source: Adapted, folder: str | None) -> Adapted:
    """Replace the source's industry index by the real Fama-French / OECD series."""
    tables = source.tables
    first = tables["invoices"]["issue_date"].min() if "invoices" in tables else source.as_of_date
    months = pd.date_range(first + pd.offsets.MonthEnd(0), source.as_of_date, freq="ME")
    industries = sorted(tables["customers"]["industry"].unique())
    index = real_industry_index(Path(folder) if folder else None, months, industries)
    note = "industry_index: real Fama-French 12 / OECD series laid on the book's calendar"
    return replace(source, tables=tables | {"industry_index": index}, notes=[*source.notes, note])


def run(cfg: Config) -> None:
    """Write the canonical tables and the manifest; replace data/raw as a whole."""
    source = load_source(cfg)
    tables, as_of = source.tables, source.as_of_date
    skipped = sorted(set(TABLES) - set(tables))
    RAW.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".raw.", dir=RAW.parent))
    for name, frame in tables.items():
        frame.to_parquet(staging / f"{name}.parquet", index=False)
        log.info("%-15s %9d rows", name, len(frame))
    manifest = {
        "source": cfg.ingest.source,
        "as_of_date": as_of.date().isoformat(),
        "tables": {n: len(f) for n, f in tables.items() if n in TABLES},
        "skipped": skipped,
        "snapshot_dates": [d.date().isoformat() for d in source.snapshot_dates],
        "horizon_months": source.horizon_months,
        "notes": source.notes,
    }
    write_json(manifest, staging / "manifest.json")
    for name in skipped:
        log.info("no %s table in the source", name)
    old = RAW.with_name(".raw.old")
    shutil.rmtree(old, ignore_errors=True)
    if RAW.exists():
        RAW.rename(old)
    staging.rename(RAW)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.ingest --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
