"""What the collections stage records: the out-of-time evaluation, the back-test, the forecast.

:func:`evaluate_out_of_time` fits the payment-timing model on the month ends before a cutoff
with the payments known by the cutoff only, and judges it on the latest month ends whose
``horizon_weeks`` are observed (the first of them is the cutoff): the invoice figures of
``pipelines.book.collections_eval`` against its anchors (the customer's habit, the ageing
buckets' rates, the oracle where the data has one), and each one's weekly cash-in forecast
against the receipts realised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.hazard import DAYS_PER_MONTH, interpolate_terms, term_columns
from models.payment_distribution import timing_outputs
from models.payment_history import NO_RECORDS, PaymentRecords
from models.payment_timing import PaymentTimingModel, invoice_rows, with_outcome
from pipelines.book.collections_cash import (
    cash_forecast,
    realised_receipts,
    receipts_on,
    shock_variance,
    week_probabilities,
)  # fmt: skip
from pipelines.book.collections_eval import (
    ageing_anchor,
    ageing_curves,
    anchor_predictions,
    timing_metrics,
)
from pipelines.runtime.config import CollectionsConfig

Fit = Callable[[pd.DataFrame, pd.Timestamp], PaymentTimingModel]  # (rows, cutoff) -> model
# an extra predictor (the oracle): open invoices -> (outputs as timing_outputs', weekly cumulative)
Predictor = Callable[[pd.DataFrame], tuple[pd.DataFrame, np.ndarray | None]]


@dataclass(frozen=True)
class Predictions:
    """One predictor's outputs on the test invoices and its weekly distribution.

    ``cumulative`` ``None``: its receipts fall on the expected pay date.
    """

    outputs: pd.DataFrame
    cumulative: np.ndarray | None


def evaluate_out_of_time(
    invoices: pd.DataFrame, snapshots: pd.DataFrame, ends: list[pd.Timestamp],
    features: list[str], opts: CollectionsConfig, fit: Fit, oracle: Predictor | None = None,
    records: PaymentRecords = NO_RECORDS,
) -> dict:  # fmt: skip
    """``evaluation`` and ``cash_backtest`` of a model that knows nothing after the cutoff.

    Args:
        invoices: The ledger.
        snapshots: The feature rows.
        ends: The month ends up to the as-of date (the last), oldest first.
        features: The snapshot features the model uses.
        opts: The ``collections`` params.
        fit: ``fit(rows, cutoff)``: the model fitted on ``rows`` (invoices open at the training
            month ends, payments known by ``cutoff``).
        oracle: The true distribution where the data has one (synthetic), judged as anchor 3.
        records: The ledger's payments and payment plans, where it has them.
    """
    horizon = pd.Timedelta(weeks=opts.horizon_weeks)
    test = [d for d in ends if d + horizon <= ends[-1]][-opts.test_months :]
    train = [d for d in ends if test and d < test[0]][-opts.train_months :]
    if not test or not train:
        why = f"fewer than {opts.horizon_weeks} weeks observed after a month end with history"
        return {"evaluation": {"skipped": why}, "cash_backtest": {"skipped": why}}
    learn = outcome_rows(invoices, snapshots, train, features, test[0], records)
    model = fit(learn, test[0])
    rows = outcome_rows(invoices, snapshots, test, features, ends[-1], records)
    late = rows["paid_date"] > rows["as_of_date"] + horizon  # beyond the horizon: never paid
    rows = rows.assign(paid_date=rows["paid_date"].mask(late))
    curves = model.distribution(rows)
    ageing = ageing_anchor(rows, ageing_curves(learn, test[0], opts.horizon_weeks))
    predictors = {
        "model": Predictions(timing_outputs(rows, *curves), curves.weekly),
        "anchor_customer_habit": Predictions(anchor_predictions(rows), None),
        "anchor_ageing_buckets": Predictions(timing_outputs(rows, ageing), ageing),
    }
    if oracle is not None:
        predictors["oracle"] = Predictions(*oracle(rows))
    days = 7 * opts.horizon_weeks
    evaluation = {
        "cutoff": f"{test[0]:%Y-%m-%d}",
        "horizon_weeks": opts.horizon_weeks,
        "train_month_ends": [f"{d:%Y-%m-%d}" for d in (train[0], train[-1])],
        "test_month_ends": [f"{d:%Y-%m-%d}" for d in test],
        "invoices": len(rows),
        **{k: timing_metrics(rows, p.outputs, days) for k, p in predictors.items()},
        "fit": model.fit_record_,
    }
    shock = seen_shock(model, learn, test[0], opts.forecast_weeks)
    return {"evaluation": evaluation, "cash_backtest": backtest(rows, predictors, opts, shock)}


def seen_shock(
    model: PaymentTimingModel, rows: pd.DataFrame, cutoff: pd.Timestamp, weeks: int
) -> float:
    """The common shock's variance on the model's own month ends whose ``weeks`` are known."""
    seen = rows[pd.to_datetime(rows["as_of_date"]) + pd.Timedelta(weeks=weeks) <= cutoff]
    if seen.empty:
        return 0.0
    seen = seen.reset_index(drop=True)
    return shock_variance(seen, model.curves(seen)[0], weeks)


def outcome_rows(
    invoices: pd.DataFrame, snapshots: pd.DataFrame, months: list[pd.Timestamp],
    features: list[str], observed_until: pd.Timestamp, records: PaymentRecords = NO_RECORDS,
) -> pd.DataFrame:  # fmt: skip
    """The invoices open at ``months`` with their payments as known at ``observed_until``."""
    rows = pd.concat([invoice_rows(invoices, snapshots, m, features, records) for m in months])
    return with_outcome(rows.reset_index(drop=True), invoices, observed_until)


def backtest(
    rows: pd.DataFrame, predictors: dict[str, Predictions], opts: CollectionsConfig,
    shock: float = 0.0,
) -> dict:  # fmt: skip
    """Each predictor's weekly cash-in forecast at each month end of ``rows`` against receipts.

    The customer-habit anchor's receipts fall on its expected pay date (the due date plus the
    average days late); the others' are their weekly distributions'. The model's 80 % interval,
    with the common ``shock`` (``coverage_80``) and without (``coverage_80_independent``), is
    held against the realised weeks.
    """
    weeks = opts.forecast_weeks
    errors = {name: 0.0 for name in predictors}
    by_month, realised_total = {}, 0.0
    for t, at in rows.groupby("as_of_date").indices.items():
        part, realised = rows.iloc[at], realised_receipts(rows.iloc[at], weeks)
        month = {"realised": float(realised.sum())}
        for name, p in predictors.items():
            expected = receipts(part, p, at, weeks)
            errors[name] += float(np.abs(expected - realised).sum())
            month[f"{name}_wape"] = _ratio(np.abs(expected - realised).sum(), realised.sum())
        for key, common in (("coverage_80", shock), ("coverage_80_independent", 0.0)):
            forecast = cash_forecast(part, predictors["model"].cumulative[at], weeks, common)
            inside = (realised >= forecast["low"]) & (realised <= forecast["high"])
            month[key] = float(inside.mean())
        by_month[f"{pd.Timestamp(t):%Y-%m-%d}"] = month
        realised_total += float(realised.sum())
    return {
        "weeks": weeks,
        "scope": "receipts of the invoices open at each month end",
        "wape": {name: _ratio(e, realised_total) for name, e in errors.items()},
        "shock_sd": float(np.sqrt(shock)),
        "coverage_80": float(np.mean([m["coverage_80"] for m in by_month.values()])),
        "coverage_80_independent": float(
            np.mean([m["coverage_80_independent"] for m in by_month.values()])
        ),
        "by_month": by_month,
    }


def receipts(part: pd.DataFrame, p: Predictions, at: np.ndarray, weeks: int) -> np.ndarray:
    """A predictor's expected receipts per week of one month end's invoices ``part``."""
    if p.cumulative is None:
        return receipts_on(part, p.outputs["expected_pay_date"].iloc[at], weeks)
    return part["amount"].to_numpy(float) @ week_probabilities(p.cumulative[at], weeks)


def _ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def forecast_summary(
    as_of: pd.Timestamp, weekly: pd.DataFrame, dso: pd.DataFrame, work: pd.DataFrame, fit: dict
) -> dict:
    """The as-of date's forecast for the report: weeks, DSO ahead, the worklist by action."""
    actions = work.groupby("action_code").agg(
        invoices=("invoice_id", "size"), amount=("amount", "sum"),
        expected_loss=("expected_loss", "sum"),
    )  # fmt: skip
    return {
        "as_of_date": f"{as_of:%Y-%m-%d}",
        "forecast": {
            "expected_total": float(weekly["expected"].sum()),
            "weeks": _records(weekly),
        },
        "dso": _records(dso),
        "worklist": {
            "invoices": len(work),
            "amount": float(work["amount"].sum()),
            "expected_loss": float(work["expected_loss"].sum()),
            "by_action": {a: {k: float(v) for k, v in r.items()} for a, r in actions.iterrows()},
        },
        "fit": fit,
    }


def term_structure_check(predicted: pd.DataFrame, book: pd.DataFrame, weeks: int) -> dict:
    """Each invoice's P(never paid) against its customer's PD within the horizon's ``weeks``.

    An invoice is never paid when its customer defaults before paying it
    (``models.payment_distribution.with_default_risk``), so its P(never paid) is at most the
    customer's PD within the horizon. Over the invoices of the customers with a term structure:
    the mean of both, their rank correlation by customer, the share of invoices above it and
    the largest excess; skipped where the book has no term structure.
    """
    if not set(term_columns(12)) <= set(book.columns):
        return {"skipped": "the scored book has no term structure (pd_1m..pd_12m)"}
    terms = book.set_index("customer_id")[term_columns(12)].astype(float)
    terms = terms.reindex(predicted["customer_id"]).to_numpy()
    months = np.full(len(predicted), 7 * weeks / DAYS_PER_MONTH)
    both = pd.DataFrame(
        {"customer_id": predicted["customer_id"].to_numpy(),
         "never": predicted["p_never_paid"].to_numpy(float),
         "pd_h": interpolate_terms(np.nan_to_num(terms), months)}
    )[~np.isnan(terms).any(axis=1)]  # fmt: skip
    by_customer = both.groupby("customer_id")[["never", "pd_h"]].mean()
    excess = both["never"] - both["pd_h"]
    return {
        "invoices": len(both),
        "customers": len(by_customer),
        "weeks": weeks,
        "mean_p_never_paid": float(both["never"].mean()),
        "mean_pd_within_horizon": float(both["pd_h"].mean()),
        "spearman": float(by_customer["never"].corr(by_customer["pd_h"], method="spearman")),
        "share_above_pd": float((excess > 1e-9).mean()),
        "max_excess": float(excess.max()),
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in out.to_dict("records")]  # fmt: skip
