"""Score stage: the book at a month end through the registered pyfunc, under the credit policy.

Each customer of the book gets a PD, a grade, reasons worded with its sector's median, the
policy's limit, terms, prepayment and actions, its exposure and expected loss, and what changed
since the previous month's book (kept in ``data/scored/history``), with alerts.

Inputs:
    data/features/snapshots.parquet (rows of the as-of date; sector medians),
    data/features/default_dates.parquet (who is in default), data/raw/customers.parquet (the
    book), data/raw/invoices.parquet and events.parquet (optional: exposure, overdue amounts,
    new events), data/raw/manifest.json, data/reports/registry.json (the model to load),
    configs/policy.yaml (the credit policy and alert rules), data/scored/history/ (earlier books).
Outputs:
    data/scored/scores.csv, rejects.csv, alerts.csv (for people; columns in pipelines/export.py),
    data/scored/summary.json (as-of and previous dates, totals),
    data/scored/history/<as_of>.parquet (this book; with an empty history, also the
    ``score.backfill_months`` month ends before, re-scored, so that there is a comparison).
Params:
    score.as_of_date, score.language, score.backfill_months, score.csv_bom, score.chunk_rows,
    engine and dask (score.n_reasons is the registered model's).
"""

from __future__ import annotations

import logging
from functools import partial

import pandas as pd

from pipelines.book.export import alerts_table, rejects_table, scores_table, write_people_csv
from pipelines.book.history import months_to_backfill, write_book
from pipelines.book.month import choose_as_of, read_inputs, score_month
from pipelines.book.rows import score_rows
from pipelines.io.artifacts import load_policy
from pipelines.io.files import StageError, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.modelstore.registry import load_model
from pipelines.runtime.cluster import engine_client
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines.score")


def run(cfg: Config, paths: Paths) -> None:
    """Score the as-of month (back-filling an empty history first); write the outputs."""
    opts, inputs, policy = cfg.score, read_inputs(paths), load_policy(paths.policy)
    as_of = choose_as_of(inputs.snapshots, opts.as_of_date, inputs.manifest)
    model = load_model(inputs.registry["model_uri"], paths.tracking_uri(cfg.register_.tracking_uri))
    dates = list(pd.to_datetime(inputs.snapshots["as_of_date"]).unique())
    with engine_client(cfg) as client:
        score = partial(score_rows, model=model, chunk_rows=opts.chunk_rows, client=client)
        for month in months_to_backfill(dates, as_of, opts.backfill_months, paths.history):
            book, _, _ = score_month(inputs, score, policy, month, opts.language, False)
            write_book(book, month, paths.history)
            log.info("back-filled the history with %s", f"{month:%Y-%m-%d}")
        book, alerts, before = score_month(inputs, score, policy, as_of, opts.language)
    scores, rejects = scores_table(book), rejects_table(book)
    if len(scores) + len(rejects) != len(inputs.customers):
        raise StageError(
            f"{len(scores)} scored + {len(rejects)} rejected != {len(inputs.customers)} in book"
        )
    write_people_csv(scores, paths.scores, opts.csv_bom)
    write_people_csv(rejects, paths.rejects, opts.csv_bom)
    write_people_csv(alerts_table(alerts, book, as_of, before), paths.alerts, opts.csv_bom)
    write_book(book, as_of, paths.history)
    write_json(summary(book, alerts, as_of, before), paths.scored_summary)
    log.info(
        "as of %s (previous %s): %d scored, %d rejected, %d alerts", f"{as_of:%Y-%m-%d}",
        "none" if before is None else f"{before:%Y-%m-%d}", len(scores), len(rejects), len(alerts),
    )  # fmt: skip


def summary(
    book: pd.DataFrame, alerts: pd.DataFrame, as_of: pd.Timestamp, before: pd.Timestamp | None
) -> dict:
    """Dates and totals of the run, for the report and for a quick look."""
    scored = book[book["status"] == "scored"]
    return {
        "as_of_date": f"{as_of:%Y-%m-%d}",
        "previous_as_of_date": None if before is None else f"{before:%Y-%m-%d}",
        "model_version": book["model_version"].iloc[0] if len(book) else None,
        "scored": len(scored),
        "rejected": int((book["status"] != "scored").sum()),
        "exposure": round(float(scored["exposure"].sum()), 2),
        "expected_loss": round(float(scored["expected_loss"].sum()), 2),
        "alerts": {s: int((alerts["severity"] == s).sum()) for s in ("high", "medium", "low")},
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.score --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
