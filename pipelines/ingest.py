"""Ingest stage: the configured source into typed canonical tables.

Inputs:
    ingest.source = synthetic: nothing (the seeded generator, features/synthetic.py).
    ingest.source = folder: ``<ingest.path>/<table>.parquet`` or ``.csv`` per contract table,
        named, spelled and encoded as ``ingest`` (and ``ingest.tables.<table>``) says.
Outputs:
    data/raw/<table>.parquet for each table present, data/raw/truth.parquet (synthetic only:
    the true PD within 12 months and within each horizon 1..12, the chance of distress by each
    month ahead), data/raw/invoice_truth.parquet (synthetic only: each invoice's true payment
    timing, ``pipelines.sources.ledger_truth``), data/raw/unparsed.parquet
    (folder only: cells that did not parse, for validation), data/raw/manifest.json (source,
    as-of date, rows, skipped tables, currency, every attribute's label, type, unit, direction
    and sentences: ``attributes``, and the customers fields left blank:
    ``blank_customer_fields``). A blank ``relationship_start`` is the customer's first dated
    fact (``relationship_start_filled`` counts them).
Params:
    ingest, synthetic
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd

from features.attributes import resolve_schema
from features.build import DATED_FACTS, FAMILY_TABLE, with_relationship_start
from features.contract import TABLES
from features.contract_doc import CUSTOMER_FIELD_USE
from pipelines.io.files import StageError, atomic_folder, file_md5, run_stage, write_json
from pipelines.io.paths import Paths, staged
from pipelines.runtime.config import Config, IngestConfig, load_config, parse_args
from pipelines.sources.adapters import Adapted
from pipelines.sources.folder import data_as_of, read_folder, read_schema
from pipelines.sources.public import read_adapter, real_industry_index, source_file
from pipelines.sources.synthetic import generate

log = logging.getLogger("pipelines")


def skipped_line(name: str) -> str:
    """What a missing optional table means, in one line."""
    families = [family for family, table in FAMILY_TABLE.items() if table == name]
    if families:
        return f"no {name}: {', '.join(families)} features skipped"
    return f"no {name} table in the source"


def blank_fields(customers: pd.DataFrame) -> list[str]:
    """The customers fields the book leaves blank for every customer."""
    return [c for c in CUSTOMER_FIELD_USE if c in customers and customers[c].isna().all()]


def blank_field_lines(blank: list[str]) -> list[str]:
    """One line per blank customers field: what it would have given, now left out."""
    lines = []
    for name in blank:
        features, use = CUSTOMER_FIELD_USE[name]
        made = f"features {', '.join(features)}; " if features else ""
        lines.append(f"customers.{name} not given: left out {made}{use}")
    return lines


def load_source(cfg: Config) -> tuple[Adapted, Path | None]:
    """Tables, as-of date and snapshot facts of the configured source, and its file.

    The file is the public data set's (:func:`source_file`); ``None`` for the synthetic book
    and a folder.
    """
    src: IngestConfig = cfg.ingest
    path = None
    if src.source == "synthetic":
        syn = cfg.synthetic
        log.info(
            "generating %d customers, %d months (seed %d)", syn.n_customers, syn.n_months, syn.seed
        )
        tables = generate(syn.n_customers, syn.n_months, syn.start, syn.seed)
        source = Adapted(tables, tables["industry_index"]["month"].max())
    elif src.source == "folder":
        schema = read_schema(Path(src.path), src)
        tables = read_folder(Path(src.path), src, schema)
        source = Adapted(tables, data_as_of(tables, src.as_of_date))
        known = single_date(tables)
        if known is not None:
            source = one_date_source(tables, known, src.as_of_date, cfg.features.horizon_months)
        source = replace(source, attribute_schema=schema)
    else:
        path = source_file(src.source, Path(src.path) if src.path else None, src.file)
        source = read_adapter(src.source, path)
    if src.industry_index == "industry_cycle":
        source = with_real_industry_index(source, src.industry_cycle_path)
    return source, path


def single_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The one date every attribute is known at, when that is all that dates the book.

    ``None`` unless the book has no ledger, events or statements, and its attributes all share
    one ``known_date``.
    """
    history = [name for name, _ in DATED_FACTS[0]]  # the tables that date a book month by month
    if any(len(tables.get(name, ())) for name in history):
        return None
    attributes = tables.get("attributes")
    if attributes is None or attributes.empty:
        return None
    dates = attributes["known_date"].dropna().unique()
    return pd.Timestamp(dates[0]) if len(dates) == 1 else None


def one_date_source(
    tables: dict[str, pd.DataFrame], known: pd.Timestamp, as_of: str | None, horizon: int
) -> Adapted:
    """One snapshot at the month end of ``known``; its label window the ``horizon`` after it.

    The defaults table is read as complete up to the end of that window (the as-of date),
    unless ``ingest.as_of_date`` says otherwise.
    """
    snapshot = known + pd.offsets.MonthEnd(0)
    as_of_date = pd.Timestamp(as_of) if as_of else snapshot + pd.offsets.MonthEnd(horizon)
    note = (
        f"one-date data: every attribute is known at {known.date()}: one snapshot at "
        f"{snapshot.date()}, labelled by the defaults up to {as_of_date.date()}"
    )
    log.info(note)
    return Adapted(tables, as_of_date, snapshot_dates=[snapshot], notes=[note])


def attribute_schema(source: Adapted) -> dict:
    """Every attribute's label, type, unit, direction and sentences (declared or default)."""
    if "attributes" not in source.tables:
        return {}
    try:
        return resolve_schema(source.attribute_schema, source.tables["attributes"])
    except ValueError as err:
        raise StageError(f"attributes schema: {err}") from None


def with_real_industry_index(source: Adapted, folder: str | None) -> Adapted:
    """Replace the source's industry index by the real Fama-French / OECD series."""
    tables = source.tables
    first = tables["invoices"]["issue_date"].min() if "invoices" in tables else source.as_of_date
    months = pd.date_range(first + pd.offsets.MonthEnd(0), source.as_of_date, freq="ME")
    industries = sorted(tables["customers"]["industry"].unique())
    index = real_industry_index(Path(folder) if folder else None, months, industries)
    note = "industry_index: real Fama-French 12 / OECD series laid on the book's calendar"
    return replace(source, tables=tables | {"industry_index": index}, notes=[*source.notes, note])


def run(cfg: Config, paths: Paths) -> None:
    """Write the canonical tables and the manifest; replace data/raw as a whole."""
    source, path = load_source(cfg)
    tables, as_of = source.tables, source.as_of_date
    blank = blank_fields(tables["customers"])
    customers, filled = with_relationship_start(tables)
    if filled:
        tables = tables | {"customers": customers}
        log.info("relationship_start blank for %d customers: their first dated fact", filled)
    skipped = sorted(set(TABLES) - set(tables))
    manifest = {
        "source": cfg.ingest.source,
        "as_of_date": as_of.date().isoformat(),
        "tables": {n: len(f) for n, f in tables.items() if n in TABLES},
        "skipped": skipped,
        "currency": cfg.ingest.currency,
        "snapshot_dates": [d.date().isoformat() for d in source.snapshot_dates],
        "horizon_months": source.horizon_months,
        "notes": source.notes,
        "attributes": attribute_schema(source),
        "blank_customer_fields": blank,
        "relationship_start_filled": filled,
    }
    if path is not None:  # which file of the public data set, exactly
        manifest |= {"source_file": path.name, "source_md5": file_md5(path)}
    with atomic_folder(paths.raw) as staging:
        place = partial(staged, folder=paths.raw, staging=staging)
        for name, frame in tables.items():
            frame.to_parquet(place(paths.raw_table(name)), index=False)
            log.info("%-15s %9d rows", name, len(frame))
        write_json(manifest, place(paths.manifest))
    for name in skipped:
        log.info(skipped_line(name))
    for line in blank_field_lines(blank):
        log.info(line)


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.ingest --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
