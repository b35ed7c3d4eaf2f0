"""Out-of-time evaluation of the payment-timing model against the customer's own habit.

The anchor, measured on the same invoices: the customer's payment habit over the 12 months
before the as-of date (``models.payment_timing.customer_habits``, known then): it pays by the
due date with its share of invoices paid by the due date, more than 30 days late with its share
paid that late, on the due date plus its average days late (not before the next day), within
its 10th..90th percentile of days late. A customer without history gets the pooled rates of the
others and its due date.

Figures (each for the model and the anchor): AUC and expected calibration error of P(paid by the
due date) over the invoices not yet due, and of P(paid more than 30 days late) over those not
yet 30 days past due; mean absolute error in days of the expected pay date and the 80 %
interval's coverage over the invoices paid within the horizon; amount-weighted accuracy of the
lateness bucket (by due date, 1-30, 31-60, over 60 days late or never paid).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.metrics import auc, expected_calibration_error

BUCKETS = (0, 30, 60)  # days late: by due | 1-30 | 31-60 | > 60 or never paid
DAY = pd.Timedelta(1, "D")


def anchor_predictions(rows: pd.DataFrame) -> pd.DataFrame:
    """The customer-habit anchor's outputs per invoice (columns as the model's)."""
    by_due = rows["habit_paid_by_due"].fillna(rows["habit_paid_by_due"].mean())
    late_30 = rows["habit_late_30"].fillna(rows["habit_late_30"].mean())
    earliest = rows["as_of_date"] + DAY

    def date(days: pd.Series) -> pd.Series:
        shifted = rows["due_date"] + pd.to_timedelta(days.fillna(0).round(), unit="D")
        return shifted.where(shifted >= earliest, earliest)

    expected = date(rows["habit_days_late"])
    return pd.DataFrame(
        {
            "p_paid_by_due": np.where(rows["days_to_due"] >= 0, by_due, 0.0),
            "p_paid_within_30dpd": np.where(rows["days_to_due"] + 30 >= 0, 1 - late_30, 0.0),
            "p_never_paid": 0.0,
            "expected_pay_date": expected,
            "early_pay_date": date(rows["habit_days_late_p10"]),
            "late_pay_date": date(rows["habit_days_late_p90"]),
            "expected_days_late": (expected - rows["due_date"]).dt.days.astype(float),
        },
        index=rows.index,
    )


def timing_metrics(rows: pd.DataFrame, predicted: pd.DataFrame, bins: int = 10) -> dict:
    """The evaluation's figures of one set of predictions on ``rows`` with their outcome.

    Args:
        rows: Open invoices with ``paid_date`` as observed to the end of the horizon (NaT:
            never paid within it), ``due_date``, ``days_to_due``, ``amount``.
        predicted: The model's (or the anchor's) outputs, aligned to ``rows``.
        bins: Equal-frequency bins of the calibration error.
    """
    paid, due = rows["paid_date"], rows["due_date"]
    by_due = (paid <= due).to_numpy(float)
    late_30 = (~(paid <= due + 30 * DAY)).to_numpy(float)
    not_due = rows["days_to_due"].to_numpy() >= 0
    not_late_30 = rows["days_to_due"].to_numpy() + 30 >= 0
    was_paid = paid.notna().to_numpy()
    p_late_30 = 1 - predicted["p_paid_within_30dpd"].to_numpy(float)
    error = (predicted["expected_pay_date"] - paid).dt.days.abs().to_numpy()[was_paid]
    inside = (paid >= predicted["early_pay_date"]) & (paid <= predicted["late_pay_date"])
    p_by_due = predicted["p_paid_by_due"].to_numpy(float)
    coverage = float(inside.to_numpy()[was_paid].mean()) if was_paid.any() else None
    return {
        "paid_by_due": _binary(by_due[not_due], p_by_due[not_due], bins),
        "late_over_30": _binary(late_30[not_late_30], p_late_30[not_late_30], bins),
        "pay_date_mae_days": float(np.mean(error)) if len(error) else None,
        "interval_80_coverage": coverage,
        "bucket_accuracy": bucket_accuracy(rows, predicted),
    }  # fmt: skip


def bucket_accuracy(rows: pd.DataFrame, predicted: pd.DataFrame) -> float | None:
    """Amount-weighted share of invoices whose predicted lateness bucket is the observed one.

    Predicted: never paid where ``p_never_paid`` is above one half, else the bucket of
    ``expected_days_late``; observed: the bucket of the payment's days late, never paid: the last.
    """
    late = (rows["paid_date"] - rows["due_date"]).dt.days.to_numpy(float)
    observed = np.where(np.isnan(late), len(BUCKETS), np.searchsorted(BUCKETS, late))
    expected = np.nan_to_num(predicted["expected_days_late"].to_numpy(float), nan=np.inf)
    guess = np.searchsorted(BUCKETS, expected)
    guess = np.where(predicted["p_never_paid"].to_numpy(float) > 0.5, len(BUCKETS), guess)
    amount = rows["amount"].to_numpy(float)
    return float(amount[guess == observed].sum() / amount.sum()) if amount.sum() > 0 else None


def _binary(y: np.ndarray, p: np.ndarray, bins: int) -> dict:
    out = {"invoices": int(len(y)), "observed_rate": float(y.mean()) if len(y) else None,
           "mean_p": float(p.mean()) if len(p) else None}  # fmt: skip
    if len(np.unique(y)) < 2:
        return out | {"auc": None, "ece": None}
    return out | {"auc": auc(y, p), "ece": expected_calibration_error(y, p, bins)}
