"""What the collections stage records: the out-of-time evaluation, the back-test, the forecast.

:func:`evaluate_out_of_time` fits the payment-timing model on the month ends before a cutoff
with the payments known by the cutoff only, and judges it on the latest month ends whose
``horizon_weeks`` are observed (the first of them is the cutoff): the invoice figures of
``pipelines.book.collections_eval`` against the customer-habit anchor, and the weekly cash-in
forecast against the receipts realised and the naive forecast (due date + average days late).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from models.payment_timing import PaymentTimingModel, invoice_rows, timing_outputs, with_outcome
from pipelines.book.collections_cash import (
    backtest_errors,
    cash_forecast,
    naive_receipts,
    realised_receipts,
)  # fmt: skip
from pipelines.book.collections_eval import anchor_predictions, timing_metrics
from pipelines.runtime.config import CollectionsConfig

Fit = Callable[[list[pd.Timestamp], pd.Timestamp], PaymentTimingModel]


def evaluate_out_of_time(
    invoices: pd.DataFrame, snapshots: pd.DataFrame, ends: list[pd.Timestamp],
    features: list[str], opts: CollectionsConfig, fit: Fit,
) -> dict:  # fmt: skip
    """``evaluation`` and ``cash_backtest`` of a model that knows nothing after the cutoff.

    Args:
        invoices: The ledger.
        snapshots: The feature rows.
        ends: The month ends up to the as-of date (the last), oldest first.
        features: The snapshot features the model uses.
        opts: The ``collections`` params.
        fit: ``fit(month_ends, observed_until)`` -> a fitted model.
    """
    horizon = pd.Timedelta(weeks=opts.horizon_weeks)
    test = [d for d in ends if d + horizon <= ends[-1]][-opts.test_months :]
    train = [d for d in ends if test and d < test[0]][-opts.train_months :]
    if not test or not train:
        why = f"fewer than {opts.horizon_weeks} weeks observed after a month end with history"
        return {"evaluation": {"skipped": why}, "cash_backtest": {"skipped": why}}
    model = fit(train, test[0])
    rows = pd.concat([invoice_rows(invoices, snapshots, t, features) for t in test])
    rows = with_outcome(rows.reset_index(drop=True), invoices, ends[-1])
    late = rows["paid_date"] > rows["as_of_date"] + horizon  # beyond the horizon: never paid
    rows = rows.assign(paid_date=rows["paid_date"].mask(late))
    cumulative = model.cumulative(rows)
    predicted = timing_outputs(rows, cumulative)
    evaluation = {
        "cutoff": f"{test[0]:%Y-%m-%d}",
        "horizon_weeks": opts.horizon_weeks,
        "train_month_ends": [f"{d:%Y-%m-%d}" for d in (train[0], train[-1])],
        "test_month_ends": [f"{d:%Y-%m-%d}" for d in test],
        "invoices": len(rows),
        "model": timing_metrics(rows, predicted),
        "anchor_customer_habit": timing_metrics(rows, anchor_predictions(rows)),
        "fit": model.fit_record_,
    }
    return {"evaluation": evaluation, "cash_backtest": backtest(rows, cumulative, opts)}


def backtest(rows: pd.DataFrame, cumulative: np.ndarray, opts: CollectionsConfig) -> dict:
    """The weekly cash-in forecast at each month end of ``rows`` against what came in."""
    by_month, totals = {}, {"model": 0.0, "naive": 0.0, "realised": 0.0}
    for t, at in rows.groupby("as_of_date").indices.items():
        part = rows.iloc[at]
        forecast = cash_forecast(part, cumulative[at], opts.forecast_weeks)
        naive = naive_receipts(part, opts.forecast_weeks)
        realised = realised_receipts(part, opts.forecast_weeks)
        by_month[f"{pd.Timestamp(t):%Y-%m-%d}"] = backtest_errors(forecast, naive, realised)
        totals["model"] += float(np.abs(forecast["expected"].to_numpy() - realised).sum())
        totals["naive"] += float(np.abs(naive - realised).sum())
        totals["realised"] += float(realised.sum())
    months = list(by_month.values())
    return {
        "weeks": opts.forecast_weeks,
        "scope": "receipts of the invoices open at each month end",
        "model_mae": float(np.mean([m["model_mae"] for m in months])),
        "naive_mae": float(np.mean([m["naive_mae"] for m in months])),
        "model_wape": totals["model"] / totals["realised"] if totals["realised"] else None,
        "naive_wape": totals["naive"] / totals["realised"] if totals["realised"] else None,
        "coverage_80": float(np.mean([m["coverage_80"] for m in months])),
        "by_month": by_month,
    }


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


def term_structure_check(predicted: pd.DataFrame, book: pd.DataFrame) -> dict:
    """The invoices' P(never paid) against the customer's PD within 6 months (about 26 weeks).

    An invoice is never paid when its customer defaults before paying it, so a customer's
    P(never paid) should follow, and mostly stay below, its PD within the horizon. Per scored
    customer with an open invoice: the mean P(never paid) of its invoices and its ``pd_6m``;
    empty where the book has no term structure.
    """
    if "pd_6m" not in book:
        return {"skipped": "the scored book has no term structure (pd_6m)"}
    never = predicted.groupby("customer_id")["p_never_paid"].mean()
    pd_6m = book.set_index("customer_id")["pd_6m"].reindex(never.index)
    both = pd.DataFrame({"never": never, "pd_6m": pd_6m}).dropna()
    return {
        "customers": len(both),
        "mean_p_never_paid": float(both["never"].mean()),
        "mean_pd_6m": float(both["pd_6m"].mean()),
        "spearman": float(both["never"].corr(both["pd_6m"], method="spearman")),
        "share_above_pd_6m": float((both["never"] > both["pd_6m"]).mean()),
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in out.to_dict("records")]  # fmt: skip
