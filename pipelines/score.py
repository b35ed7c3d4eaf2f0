"""Score stage: the book at a month end through the champion's pyfunc, under the credit policy.

Each customer of the book gets a PD, a grade, reasons worded with its sector's median, the
policy's limit, terms, prepayment and actions, its exposure and expected loss, and what changed
since the previous month's book (kept in ``data/scored/history``), with alerts. A customer in
default is not scored but stays in the book's exposure, with its expected loss at PD 1 and the
policy's recovery actions; a customer that cannot be scored otherwise is a reject, with why.

Inputs:
    data/features/snapshots.parquet (rows of the as-of date; sector medians),
    data/features/default_dates.parquet (who is in default), data/raw/customers.parquet (the
    book), data/raw/invoices.parquet and events.parquet (optional: exposure, overdue amounts,
    new events), data/raw/manifest.json, data/reports/promotion.json (the gate's decision: the
    model is the registry's champion),
    configs/policy.yaml (the credit policy and alert rules), data/scored/history/ (earlier books).
Outputs:
    data/scored/scores.csv, defaulted.csv, rejects.csv, alerts.csv (for people; columns in
    pipelines/book/export.py; every customer of the book is in one of the first three),
    data/scored/book.xlsx (the same four tables and a data dictionary, for the risk team;
    pipelines/book/workbook.py),
    data/scored/summary.json (as-of and previous dates, language, counts, exposure and expected
    loss: performing, defaulted and total; the loss distribution, pipelines/book/loss.py; the
    lifetime expected credit loss and the provision matrix, pipelines/book/ecl.py; the outlook
    3 and 6 months ahead by region and sector, pipelines/book/outlook.py; a DVC metrics file),
    data/scored/history/<as_of>.parquet (this book; with an empty history, also the
    ``score.backfill_months`` month ends before, re-scored, so that there is a comparison).
Params:
    score.as_of_date, score.language, score.backfill_months, score.csv_bom, score.chunk_rows,
    score.loss_distribution, score.outlook, engine and dask (score.n_reasons is the registered
    model's).
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from functools import partial

import pandas as pd

from models.monitoring import IN_DEFAULT, SCORED
from models.portfolio import book_totals
from models.reasons import no_adverse_factor
from pipelines.book.ecl import ecl_summary, lifetime_ecl
from pipelines.book.export import (
    alerts_table,
    defaulted_table,
    rejects_table,
    scores_table,
    write_people_csv,
)
from pipelines.book.history import book_path, months_to_backfill, write_book
from pipelines.book.loss import loss_summary
from pipelines.book.month import choose_as_of, read_inputs, score_month
from pipelines.book.outlook import outlook_summary
from pipelines.book.rows import score_rows
from pipelines.book.workbook import workbook_bytes
from pipelines.io.artifacts import load_policy
from pipelines.io.files import StageError, run_stage, write_bytes, write_json
from pipelines.io.paths import Paths
from pipelines.modelstore.champion import champion
from pipelines.modelstore.registry import load_model
from pipelines.runtime.cluster import engine_client
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines.score")


def run(cfg: Config, paths: Paths, experiment: str | None = None) -> None:
    """Score the as-of month with the champion (back-filling an empty history first).

    Under ``dvc exp run`` (``experiment``) the outputs are written but the production history
    is left as it is.
    """
    opts, policy = cfg.score, load_policy(paths.policy)
    inputs = read_inputs(paths, cfg.features.max_fact_age_months)
    as_of = choose_as_of(inputs.snapshots, opts.as_of_date, inputs.manifest)
    uri = paths.tracking_uri(cfg.register_.tracking_uri)
    record = champion(cfg.register_.model_name, cfg.promote.champion_alias, uri, paths)
    inputs = replace(inputs, registry=record)
    model = load_model(record["model_uri"], uri)
    log.info("scoring with the %s, %s", cfg.promote.champion_alias, record["model_uri"])
    dates = list(pd.to_datetime(inputs.snapshots["as_of_date"]).unique())
    keep = experiment is None
    with engine_client(cfg) as client:
        score = partial(score_rows, model=model, chunk_rows=opts.chunk_rows, client=client)
        backfill = months_to_backfill(dates, as_of, opts.backfill_months, paths.history)
        for month in backfill if keep else []:
            book, _, _ = score_month(inputs, score, policy, month, opts.language, False)
            write_book(book, month, paths.history)
            log.info("back-filled the history with %s", f"{month:%Y-%m-%d}")
        # the month itself gets each customer's cheapest change up one grade; the back-fill not
        month_score = partial(score, what_it_would_take=True)
        book, alerts, before = score_month(inputs, month_score, policy, as_of, opts.language)
    book, open_ecl = lifetime_ecl(book, inputs.invoices, as_of, policy.lgd)
    tables = {
        "scores": scores_table(book),
        "alerts": alerts_table(alerts, book, as_of, before),
        "defaulted": defaulted_table(book),
        "rejects": rejects_table(book),
    }
    everyone = [tables[name] for name in ("scores", "defaulted", "rejects")]
    account_for_everyone(book, everyone, inputs.customers)
    for name, table in tables.items():
        write_people_csv(table, getattr(paths, name), opts.csv_bom)
    write_bytes(workbook_bytes(tables, as_of, inputs.currency), paths.workbook)
    if keep:
        write_book(book, as_of, paths.history)
    totals = summary(book, alerts, as_of, before, paths, opts.language)
    totals["loss_distribution"] = loss_summary(book, policy.lgd, opts.loss_distribution)
    totals |= outlook_summary(
        book, inputs.snapshots, inputs.defaults, as_of, opts.outlook, opts.loss_distribution
    )
    totals |= ecl_summary(book, open_ecl, inputs.invoices, inputs.defaults, as_of, policy.lgd)
    write_json(totals, paths.scored_summary)
    log.info(
        "as of %s (previous %s): %d scored, %d in default (exposure %.0f), %d rejected, %d alerts",
        f"{as_of:%Y-%m-%d}", "none" if before is None else f"{before:%Y-%m-%d}", totals["scored"],
        totals["defaulted"], totals["defaulted_exposure"], totals["rejected"], len(alerts),
    )  # fmt: skip


def account_for_everyone(
    book: pd.DataFrame, tables: list[pd.DataFrame], customers: pd.DataFrame
) -> None:
    """Check that every customer is in exactly one of the scored, defaulted and rejects tables.

    Raises:
        StageError: The tables' rows do not add up to the customer book, or the book's
            customers are not the customer book's.
    """
    scored, defaulted, rejects = (len(t) for t in tables)
    ids = book["customer_id"]
    same = ids.is_unique and set(ids) == set(customers["customer_id"])
    if scored + defaulted + rejects != len(customers) or not same:
        raise StageError(
            f"{scored} scored + {defaulted} in default + {rejects} rejected != "
            f"{len(customers)} customers in the book"
        )


def summary(
    book: pd.DataFrame, alerts: pd.DataFrame, as_of: pd.Timestamp, before: pd.Timestamp | None,
    paths: Paths, language: str,
) -> dict:  # fmt: skip
    """Dates, language and totals of the run, for the report and for a quick look.

    ``exposure`` and ``expected_loss`` are the whole book's: the performing (scored) and the
    defaulted customers' (``performing_*``, ``defaulted_*``).
    """
    status = book["status"]
    version = int(book["model_version"].iloc[0]) if len(book) else None
    rescored = before is not None and book_path(before, paths.history, version).is_file()
    return {
        "as_of_date": f"{as_of:%Y-%m-%d}",
        "previous_as_of_date": None if before is None else f"{before:%Y-%m-%d}",
        "model_version": version,
        # the previous month as re-scored by this model: the comparison is on one model
        "previous_rescored": bool(rescored),
        "language": language,
        "scored": int((status == SCORED).sum()),
        "defaulted": int((status == IN_DEFAULT).sum()),
        "rejected": int((~status.isin([SCORED, IN_DEFAULT])).sum()),
        # scored customers given no reason (reason_1 empty): no material adverse factor
        **no_adverse_factor(book[status == SCORED]),
        **{k: round(v, 2) for k, v in book_totals(book).items()},
        "alerts": {s: int((alerts["severity"] == s).sum()) for s in ("high", "medium", "low")},
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.score --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    experiment = os.environ.get("DVC_EXP_NAME") or None
    run_stage(lambda: run(load_config(args.config), Paths(), experiment))


if __name__ == "__main__":
    main()
