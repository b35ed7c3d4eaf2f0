"""Collections stage: when each open invoice will be paid, cash in by week, DSO ahead, worklist.

The payment-timing model (``models.payment_timing``) learns from the invoices open at the
``collections.train_months`` month ends before the as-of date, with their payments known by it;
it forecasts every open invoice of the scored customers at the as-of date. Out of time, a
second fit on the month ends before the first of the ``collections.test_months`` latest month
ends whose ``horizon_weeks`` are observed is judged on those month ends against the customer's
own habit (``pipelines.book.collections_eval``), and its 13-week cash-in forecast is back-tested
against the receipts realised (``pipelines.book.collections_cash``).

Inputs:
    data/scored/summary.json (as-of date), data/scored/history/<as_of>.parquet (the scored
    book: grades, PDs, reasons, pd_terms where the term structure is there),
    data/features/snapshots.parquet (the customers' point-in-time features),
    data/validated/invoices.parquet (the ledger; absent: empty outputs, and why),
    configs/policy.yaml (lgd, collections), data/raw/invoice_truth.parquet and truth.parquet
    (the synthetic source's truth: the oracle of the evaluation; absent: no oracle).
Outputs:
    data/scored/invoices.csv, collections.csv, cash_forecast.csv, cash_forecast_customers.csv
    (for people; columns in pipelines/book/collections_worklist.py and the README),
    data/reports/payment_timing.json (evaluation, back-test, forecast and DSO; DVC metrics).
Params:
    collections, score.language, score.csv_bom.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from features.catalogue import FAMILIES as CATALOGUE_FAMILIES
from features.catalogue import feature_names
from models.hazard import term_columns
from models.payment_distribution import (
    daily_outputs,
    paid_within_days_past_due,
    timing_outputs,
    with_default_risk,
)
from models.payment_history import HABIT_FEATURES, STATE_FEATURES, PaymentRecords
from models.payment_periods import RUN_FEATURES
from models.payment_timing import (
    INVOICE_FEATURES,
    PaymentTimingModel,
    TimingSettings,
    invoice_rows,
)  # fmt: skip
from pipelines.book.collections_cash import cash_forecast, customer_forecast, dso_forecast
from pipelines.book.collections_report import (
    Predictor,
    evaluate_out_of_time,
    forecast_summary,
    outcome_rows,
    seen_shock,
    term_structure_check,
)
from pipelines.book.collections_worklist import (
    COLLECTIONS_SCHEMA,
    INVOICES_SCHEMA,
    rounded,
    worklist,
)
from pipelines.book.export import write_people_csv
from pipelines.book.history import read_book
from pipelines.io.artifacts import load_policy
from pipelines.io.files import read_json, read_parquet, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.runtime.config import CollectionsConfig, Config, load_config, parse_args
from pipelines.sources.ledger_truth import oracle_cumulative, oracle_days

log = logging.getLogger("pipelines.collections")
# the customer's snapshot features the model uses: every family of the catalogue (its health
# moves its delays; with the late-payment and profile families only, the out-of-time pay-date
# error was 4.23 days, with all 4.08, the oracle's 3.21)
FAMILIES = CATALOGUE_FAMILIES


def run(cfg: Config, paths: Paths) -> None:
    """Fit, judge and apply the payment-timing model at the scored book's as-of date."""
    opts, policy, score = cfg.collections, load_policy(paths.policy), cfg.score
    rules = policy.collections
    as_of = pd.Timestamp(read_json(paths.scored_summary)["as_of_date"])
    book = read_book(as_of, paths.history).assign(
        customer_id=lambda b: b["customer_id"].astype(str)
    )
    if not paths.validated_table("invoices").is_file():
        log.warning("no invoices table: no payment timing, cash forecast or worklist")
        return write_empty(paths, as_of, score.csv_bom, "no invoices table")
    invoices = read_parquet(paths.validated_table("invoices")).astype({"customer_id": str})
    snapshots = read_parquet(paths.snapshots).astype({"customer_id": str})
    features = [f for f in feature_names(FAMILIES) if f in snapshots]
    if "pd_1m" not in book:
        log.info("the scored book has no term structure (pd_1m..pd_12m): P(never paid) is "
                 "the timing model's own, collections.csv leaves pd_terms empty")  # fmt: skip
    ends = sorted(d for d in pd.to_datetime(snapshots["as_of_date"]).unique() if d <= as_of)
    fit = lambda rows, until: fit_model(rows, until, features, opts)  # noqa: E731
    train = [d for d in ends if d < as_of][-opts.train_months :]
    rows = invoice_rows(invoices, snapshots, as_of, features, payment_records_of(paths))
    rows = rows[rows["customer_id"].isin(book.loc[book["status"] == "scored", "customer_id"])]
    rows = rows.reset_index(drop=True)
    if not train or rows.empty:
        why = "no earlier month end to learn from" if not train else "no open invoice to forecast"
        log.warning("%s: no payment timing, cash forecast or worklist", why)
        return write_empty(paths, as_of, score.csv_bom, why)
    oracle, records = oracle_of(paths, opts.horizon_weeks), payment_records_of(paths)
    report = evaluate_out_of_time(invoices, snapshots, ends, features, opts, fit, oracle, records)
    learn = outcome_rows(invoices, snapshots, train, features, as_of, records)
    model = fit(learn, as_of)
    shock = seen_shock(model, learn, as_of, opts.forecast_weeks)
    weekly, by_due, days = model.distribution(rows)
    cumulative, by_due = with_default_risk(rows, weekly, by_due, pd_terms_of(book, rows))
    predicted = predict_open(rows, (cumulative, by_due, days), book, rules.missed_after_days)
    weekly = cash_forecast(rows, cumulative, opts.forecast_weeks, shock)
    customers = customer_forecast(rows, cumulative, opts.forecast_weeks)
    customers.insert(1, "name", customers["customer_id"].map(book.set_index("customer_id")["name"]))
    dso = dso_forecast(rows, cumulative, invoices_of(invoices, rows, as_of), opts.dso_months)
    work = worklist(predicted, book, rules, policy.lgd, score.language)
    bom = score.csv_bom
    write_people_csv(rounded(predicted, list(INVOICES_SCHEMA)), paths.open_invoices, bom)
    write_people_csv(work, paths.collections, bom)
    for table, path in ((weekly, paths.cash_forecast), (customers, paths.cash_forecast_customers)):
        write_people_csv(rounded(table, list(table.columns)), path, bom)
    fit_record = model.fit_record_ | {"shock_sd": shock**0.5}
    report |= forecast_summary(as_of, weekly, dso, work, fit_record)
    report["term_structure_check"] = term_structure_check(predicted, book, opts.horizon_weeks)
    write_json(report, paths.payment_timing)
    log.info("as of %s: %d open invoices, %.0f expected in %d weeks, worklist top %s",
             f"{as_of:%Y-%m-%d}", len(rows), weekly["expected"].sum(), opts.forecast_weeks,
             work["invoice_id"].head(3).tolist())  # fmt: skip


def predict_open(
    rows: pd.DataFrame, curves: tuple[np.ndarray, np.ndarray, np.ndarray], book: pd.DataFrame,
    missed_after_days: int,
) -> pd.DataFrame:  # fmt: skip
    """The open invoices with their outputs, ``p_missed``, days past due, currency and name.

    ``curves``: the weekly cumulative, P(paid by the due date) and the day paid in each week.
    """
    cumulative = curves[0]
    predicted = pd.concat([rows, timing_outputs(rows, *curves)], axis=1).assign(
        p_missed=1 - paid_within_days_past_due(rows, cumulative, missed_after_days),
        days_past_due=-rows["days_to_due"], currency=_currency(book),
    )  # fmt: skip
    return predicted.join(book.set_index("customer_id")["name"], on="customer_id")


def fit_model(
    rows: pd.DataFrame, observed_until: pd.Timestamp, features: list[str],
    opts: CollectionsConfig,
) -> PaymentTimingModel:  # fmt: skip
    """The model fitted on ``rows`` (open invoices), payments known by ``observed_until``."""
    settings = TimingSettings(
        horizon_weeks=opts.horizon_weeks, learning_rate=opts.learning_rate,
        num_leaves=opts.num_leaves, min_child_samples=opts.min_child_samples,
        negative_share=opts.negative_share, seed=opts.seed,
    )  # fmt: skip
    model = PaymentTimingModel(
        settings, [*INVOICE_FEATURES, *HABIT_FEATURES, *RUN_FEATURES, *STATE_FEATURES, *features]
    )
    return model.fit(rows, observed_until)


def oracle_of(paths: Paths, weeks: int) -> Predictor | None:
    """The true payment distribution where the synthetic source wrote its truth, else ``None``."""
    if not (paths.invoice_truth.is_file() and paths.truth.is_file()):
        return None
    invoice_truth = read_parquet(paths.invoice_truth).astype({"invoice_id": str})
    truth = read_parquet(paths.truth).astype({"customer_id": str})
    payments_path = paths.validated_table("payments")  # which invoices had a part paid by t
    payments = read_parquet(payments_path).astype({"invoice_id": str}) if (
        payments_path.is_file()
    ) else None  # fmt: skip

    def predict(rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        daily = oracle_days(rows, invoice_truth, truth, 7 * weeks, payments)
        return daily_outputs(rows, daily), oracle_cumulative(daily, weeks)

    return predict


def payment_records_of(paths: Paths) -> PaymentRecords:
    """The validated payments and payment plans, each ``None`` where the book has none."""
    found = [paths.validated_table(name) for name in ("payments", "payment_plans")]
    payments, plans = (
        read_parquet(p).astype({"customer_id": str}) if p.is_file() else None for p in found
    )
    if payments is not None:
        payments = payments.astype({"invoice_id": str})
    return PaymentRecords(payments, plans)


def pd_terms_of(book: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Each row's customer's PD within 1..12 months from the scored book (NaN: none there)."""
    columns = term_columns(12)
    if not set(columns) <= set(book.columns):
        return np.full((len(rows), len(columns)), np.nan)
    terms = book.set_index("customer_id")[columns].astype(float)
    return terms.reindex(rows["customer_id"]).to_numpy()


def invoices_of(invoices: pd.DataFrame, rows: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The ledger of ``rows``' customers as known at ``as_of`` (payments after it blanked)."""
    mine = invoices[invoices["customer_id"].isin(rows["customer_id"])]
    return mine.assign(paid_date=mine["paid_date"].where(mine["paid_date"] <= as_of))


def write_empty(paths: Paths, as_of: pd.Timestamp, bom: bool, why: str) -> None:
    """Empty outputs (the invoices and the worklist with their headers) and a report saying why."""
    headers = {
        paths.open_invoices: list(INVOICES_SCHEMA),
        paths.collections: list(COLLECTIONS_SCHEMA),
    }
    for path in (paths.open_invoices, paths.collections, paths.cash_forecast,
                 paths.cash_forecast_customers):  # fmt: skip
        write_people_csv(pd.DataFrame(columns=headers.get(path, [])), path, bom)
    write_json({"as_of_date": f"{as_of:%Y-%m-%d}", "skipped": why}, paths.payment_timing)


def _currency(book: pd.DataFrame) -> str:
    known = book["currency"].dropna() if "currency" in book else pd.Series(dtype=str)
    return str(known.mode().iloc[0]) if len(known) else ""


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.collections --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
