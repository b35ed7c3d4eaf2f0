"""Out-of-time evaluation of the payment-timing model against its anchors.

Anchors, measured on the same invoices, each known at the as-of date:

1. The customer's habit over the 12 months before (``models.payment_timing.customer_habits``):
   it pays by the due date with its share of invoices paid by the due date, more than 30 days
   late with its share paid that late, on the due date plus its average days late (not before
   the next day), within its 10th..90th percentile of days late. A customer without history
   gets the pooled rates of the others and its due date.
2. The ageing-bucket rates of the provision matrix (:func:`ageing_curves`): the book's own
   history of P(paid within w weeks) per ageing bucket (``models.receivables.AGEING_BUCKETS``)
   of the invoices open at the training month ends, by amount, censored at the cutoff.
3. The oracle, on synthetic data: the ledger's true payment distribution.

Figures of each (:func:`timing_metrics`): AUC and expected calibration error of P(paid by the
due date) over the invoices not yet due, and of P(paid more than 30 days late) over those not
yet 30 days past due; mean absolute error in days of the expected pay date and the 80 %
interval's coverage over the invoices paid within the horizon; amount-weighted accuracy of the
lateness bucket (:data:`BUCKETS`); Harrell's concordance of the expected days to payment with
the days observed, the invoices not paid within the horizon censored at its end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.metrics import auc, expected_calibration_error
from models.receivables import AGEING_BUCKETS, ageing_bucket

# days late at most (inclusive) of each lateness bucket; the last: over 60 days late or never
BUCKETS = {"early": -8, "on_time": 0, "late_1_30": 30, "late_31_60": 60, "late_over_60": np.inf}
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


def ageing_curves(rows: pd.DataFrame, observed_until: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """P(paid within ``w`` weeks of the month end) per ageing bucket, by amount (Kaplan-Meier).

    Args:
        rows: Invoices open at the training month ends (``as_of_date``, ``days_to_due``,
            ``amount``, ``paid_date`` as known at ``observed_until``).
        observed_until: The cutoff: a week ending after it is not observed (censored).
        weeks: Weeks of the curve.

    Returns:
        One row per bucket of ``AGEING_BUCKETS`` (index), columns ``1 .. weeks``; a bucket
        without history: the pooled curve.
    """
    as_of = pd.to_datetime(rows["as_of_date"])
    seen = ((pd.Timestamp(observed_until) - as_of).dt.days.to_numpy() // 7).clip(0, weeks)
    days = (pd.to_datetime(rows["paid_date"]) - as_of).dt.days.to_numpy(float)
    paid = np.nan_to_num(np.ceil(days / 7), nan=np.inf)
    paid = np.where(paid <= seen, paid, np.inf)
    w = np.arange(1, weeks + 1)
    at_risk = (w <= seen[:, None]) & (w <= paid[:, None])
    event = w == paid[:, None]
    amount = rows["amount"].to_numpy(float)[:, None]
    bucket = ageing_bucket(-rows["days_to_due"].to_numpy(float))
    frame = pd.DataFrame(np.hstack([at_risk * amount, event * amount]))
    sums = frame.groupby(bucket).sum()
    sums.loc["_all"] = frame.sum()
    risk, paid_amount = sums.iloc[:, :weeks].to_numpy(), sums.iloc[:, weeks:].to_numpy()
    hazard = np.divide(paid_amount, risk, out=np.zeros_like(risk), where=risk > 0)
    curves = pd.DataFrame(1 - np.cumprod(1 - hazard, axis=1), index=sums.index, columns=w)
    labels = [label for label, _, _ in AGEING_BUCKETS]
    return curves.reindex(labels).fillna(curves.loc["_all"])


def ageing_anchor(rows: pd.DataFrame, curves: pd.DataFrame) -> np.ndarray:
    """Each invoice's weekly distribution: its ageing bucket's curve (:func:`ageing_curves`)."""
    return curves.loc[ageing_bucket(-rows["days_to_due"].to_numpy(float))].to_numpy()


def timing_metrics(
    rows: pd.DataFrame, predicted: pd.DataFrame, horizon_days: int, bins: int = 10
) -> dict:
    """The evaluation's figures of one set of predictions on ``rows`` with their outcome.

    Args:
        rows: Open invoices with ``paid_date`` as observed to the end of the horizon (NaT:
            never paid within it), ``as_of_date``, ``due_date``, ``days_to_due``, ``amount``.
        predicted: The model's (or an anchor's) outputs, aligned to ``rows``.
        horizon_days: The horizon's days: the censoring time of an invoice not paid within it.
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
    observed = (paid - rows["as_of_date"]).dt.days.to_numpy(float)
    return {
        "paid_by_due": _binary(by_due[not_due], p_by_due[not_due], bins),
        "late_over_30": _binary(late_30[not_late_30], p_late_30[not_late_30], bins),
        "pay_date_mae_days": float(np.mean(error)) if len(error) else None,
        "interval_80_coverage": coverage,
        "bucket_accuracy": bucket_accuracy(rows, predicted),
        "concordance": harrell_c(
            np.nan_to_num(observed, nan=horizon_days), was_paid,
            expected_days_to_pay(rows, predicted, horizon_days),
        ),
    }  # fmt: skip


def lateness_bucket(days_late: np.ndarray) -> np.ndarray:
    """The :data:`BUCKETS` index of each number of days late (NaN: never paid, the last)."""
    late = np.asarray(days_late, float)
    index = np.searchsorted(list(BUCKETS.values()), late, side="left")
    return np.where(np.isnan(late), len(BUCKETS) - 1, index)


def bucket_accuracy(rows: pd.DataFrame, predicted: pd.DataFrame) -> float | None:
    """Amount-weighted share of invoices whose predicted lateness bucket is the observed one.

    Predicted: never paid where ``p_never_paid`` is above one half, else the bucket of
    ``expected_days_late``; observed: the bucket of the payment's days late.
    """
    observed = lateness_bucket((rows["paid_date"] - rows["due_date"]).dt.days.to_numpy(float))
    guess = lateness_bucket(predicted["expected_days_late"].to_numpy(float))
    guess = np.where(predicted["p_never_paid"].to_numpy(float) > 0.5, len(BUCKETS) - 1, guess)
    amount = rows["amount"].to_numpy(float)
    return float(amount[guess == observed].sum() / amount.sum()) if amount.sum() > 0 else None


def expected_days_to_pay(
    rows: pd.DataFrame, predicted: pd.DataFrame, horizon_days: int
) -> np.ndarray:
    """Expected days to payment within the horizon: never paid counts as its end.

    ``(1 - p_never_paid) x days to the expected pay date + p_never_paid x horizon_days``.
    """
    days = (predicted["expected_pay_date"] - rows["as_of_date"]).dt.days.to_numpy(float)
    never = predicted["p_never_paid"].to_numpy(float)
    return np.where(np.isnan(days), horizon_days, (1 - never) * days + never * horizon_days)


def harrell_c(time: np.ndarray, event: np.ndarray, predicted: np.ndarray) -> float | None:
    """Harrell's concordance of predicted and observed times to an event, with censoring.

    A pair is comparable where one had its event first (``time`` smaller, or equal with the
    other censored); concordant where that one's ``predicted`` time is smaller too; a tie in
    ``predicted`` counts one half. ``None``: no comparable pair.
    """
    time, predicted = np.asarray(time, float), np.asarray(predicted, float)
    event = np.asarray(event, bool)
    concordant = comparable = 0.0
    for t in np.unique(time[event]):
        later = np.sort(predicted[(time > t) | ((time == t) & ~event)])
        mine = predicted[(time == t) & event]
        above = len(later) - np.searchsorted(later, mine, side="right")
        ties = np.searchsorted(later, mine, side="right") - np.searchsorted(later, mine)
        concordant += float(above.sum() + 0.5 * ties.sum())
        comparable += float(len(later) * len(mine))
    return concordant / comparable if comparable else None


def _binary(y: np.ndarray, p: np.ndarray, bins: int) -> dict:
    out = {"invoices": int(len(y)), "observed_rate": float(y.mean()) if len(y) else None,
           "mean_p": float(p.mean()) if len(p) else None}  # fmt: skip
    if len(np.unique(y)) < 2:
        return out | {"auc": None, "ece": None}
    return out | {"auc": auc(y, p), "ece": expected_calibration_error(y, p, bins)}
