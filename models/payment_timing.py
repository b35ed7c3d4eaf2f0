"""When each open invoice will be paid: a discrete-time hazard of payment on invoice-week rows.

At a month end ``t`` every invoice then open (issued by ``t``, not paid by ``t``) of a customer
not in default becomes up to ``horizon_weeks`` rows: week at risk ``w = 1..W``, event 1 where
the payment falls in ``(t + 7(w - 1), t + 7w]`` days, having not been paid before. Rows after
the payment week are dropped, and so are the weeks that end after ``observed_until`` (censored:
an invoice still open at the training cutoff contributes the weeks observed, it is not thrown
away). An invoice never paid (its customer defaulted first) stays at risk to the horizon, so
``1 - F(W)`` is the probability it is never paid.

Features are what was known at ``t`` only: the invoice's amount, age, days to its due date, its
terms and dispute flag; the customer's own payment habits over the 12 months before ``t``
(:func:`customer_habits`: signed days late, their spread, the share paid by the due date); and
the customer's point-in-time features at ``t`` (the catalogue's late-payment and profile
families). Per row: the week at risk and the days past due at the week's end, so that one
LightGBM learns where payments bunch around the due date.

As :mod:`models.hazard` does for customer defaults: non-events may be subsampled
(``negative_share``, the log-odds shifted back by ``log(negative_share)``); the cumulative
``F(w) = 1 - prod_{j<=w} (1 - h_j)`` is non-decreasing by construction; fractional horizons
are read off it linearly (:func:`models.hazard.interpolate_terms`, whose unit here is weeks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.incremental import invoices_known_at
from models.hazard import fit_periods, interpolate_terms
from models.receivables import open_at

WEEK = "week_at_risk"
DPD_AT_WEEK_END = "days_past_due_at_week_end"
EVENT = "paid"
DAY = pd.Timedelta(days=1)
INVOICE_FEATURES = ["amount", "age_days", "days_to_due", "terms_days", "disputed"]
HABIT_FEATURES = [
    "habit_days_late", "habit_days_late_p10", "habit_days_late_p90", "habit_paid_by_due",
    "habit_late_30", "habit_invoices",
]  # fmt: skip
LATE_DAYS = (30, 60, 90)  # P(paid within N days past due) for each N
INTERVAL = 0.8  # the pay date's central interval


@dataclass(frozen=True, kw_only=True)
class TimingSettings:
    """How :class:`PaymentTimingModel` fits (fixed LightGBM settings, early stopping).

    Attributes:
        horizon_weeks: Weeks after the as-of date the payment distribution covers; an invoice
            open after them counts as never paid.
        learning_rate, num_leaves, min_child_samples, feature_fraction, max_bin: LightGBM's.
        num_boost_round, early_stopping_rounds: Most trees; stop after this many without gain.
        validation_share: Share of the customers (seeded) held out of fitting to stop early.
        negative_share: Share of the non-event rows kept (1: all); the base rate is restored.
        seed: Seed of the subsample, the held-out customers and LightGBM.
    """

    horizon_weeks: int = 26
    learning_rate: float = 0.1
    num_leaves: int = 31
    min_child_samples: int = 200
    feature_fraction: float = 0.8
    max_bin: int = 63
    num_boost_round: int = 300
    early_stopping_rounds: int = 20
    validation_share: float = 0.2
    negative_share: float = 0.15
    seed: int = 42


def open_invoices(invoices: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The invoices open at ``as_of`` with their features as known then (no payment date).

    Columns: ``invoice_id``, ``customer_id``, ``as_of_date``, ``issue_date``, ``due_date`` and
    :data:`INVOICE_FEATURES` (``days_to_due`` negative: past due).
    """
    missing = [c for c in ("invoice_id", "customer_id", "issue_date", "due_date", "amount",
                           "paid_date") if c not in invoices]  # fmt: skip
    if missing:
        raise KeyError(f"the invoices lack {missing}")
    as_of = pd.Timestamp(as_of)
    known = open_at(invoices, as_of)
    disputed = known["disputed"] if "disputed" in known else pd.Series(False, index=known.index)
    return pd.DataFrame(
        {
            "invoice_id": known["invoice_id"].to_numpy(),
            "customer_id": known["customer_id"].to_numpy(),
            "as_of_date": as_of,
            "issue_date": known["issue_date"].to_numpy(),
            "due_date": known["due_date"].to_numpy(),
            "amount": known["amount"].to_numpy(float),
            "age_days": (as_of - known["issue_date"]).dt.days.to_numpy(float),
            "days_to_due": (known["due_date"] - as_of).dt.days.to_numpy(float),
            "terms_days": (known["due_date"] - known["issue_date"]).dt.days.to_numpy(float),
            "disputed": disputed.fillna(False).astype(float).to_numpy(),
        }
    )


def customer_habits(invoices: pd.DataFrame, as_of: pd.Timestamp, days: int = 365) -> pd.DataFrame:
    """Each customer's payment habits over the invoices due in the ``days`` before ``as_of``.

    Days late are signed (negative: paid early); an invoice past due and open at ``as_of``
    counts as late until ``as_of``, however it was settled later. Indexed by ``customer_id``:
    :data:`HABIT_FEATURES` (mean, 10th and 90th percentile of days late, share paid by the due
    date, share paid more than 30 days late, number of invoices).
    """
    as_of = pd.Timestamp(as_of)
    known = invoices_known_at(invoices, as_of)
    due = known["due_date"]
    known = known[(due > as_of - pd.Timedelta(days=days)) & (due <= as_of)]
    late = (known["paid_date"].fillna(as_of) - known["due_date"]).dt.days.astype(float)
    frame = pd.DataFrame(
        {"customer_id": known["customer_id"].to_numpy(), "late": late.to_numpy(),
         "by_due": (late <= 0).to_numpy(float), "late_30": (late > 30).to_numpy(float)}
    )  # fmt: skip
    groups = frame.groupby("customer_id")
    return pd.DataFrame(
        {
            "habit_days_late": groups["late"].mean(),
            "habit_days_late_p10": groups["late"].quantile(0.1),
            "habit_days_late_p90": groups["late"].quantile(0.9),
            "habit_paid_by_due": groups["by_due"].mean(),
            "habit_late_30": groups["late_30"].mean(),
            "habit_invoices": groups.size().astype(float),
        }
    )


def invoice_rows(
    invoices: pd.DataFrame, snapshots: pd.DataFrame, as_of: pd.Timestamp, features: Sequence[str]
) -> pd.DataFrame:
    """The open invoices at ``as_of`` of the customers with a snapshot then, not in default.

    Args:
        invoices: The ledger (contract columns). Not modified.
        snapshots: Point-in-time feature rows: ``customer_id``, ``as_of_date``,
            ``default_date`` (NaT: none) and ``features``.
        as_of: The month end.
        features: The snapshot features to carry.

    Returns:
        :func:`open_invoices` with :func:`customer_habits` and ``features`` joined.
    """
    as_of = pd.Timestamp(as_of)
    at = snapshots[pd.to_datetime(snapshots["as_of_date"]) == as_of]
    at = at[~(pd.to_datetime(at["default_date"]) <= as_of)]
    customer = at.set_index("customer_id")[list(features)]
    rows = open_invoices(invoices, as_of)
    rows = rows[rows["customer_id"].isin(customer.index)]
    rows = rows.join(customer_habits(invoices, as_of), on="customer_id")
    return rows.join(customer, on="customer_id").reset_index(drop=True)


def with_outcome(
    rows: pd.DataFrame, invoices: pd.DataFrame, observed_until: pd.Timestamp
) -> pd.DataFrame:
    """``rows`` with ``paid_date``: each invoice's payment as known at ``observed_until``."""
    known = invoices_known_at(invoices, pd.Timestamp(observed_until))
    paid = known.set_index("invoice_id")["paid_date"]
    return rows.assign(paid_date=rows["invoice_id"].map(paid).to_numpy())


def weeks_observed(rows: pd.DataFrame, observed_until: pd.Timestamp) -> np.ndarray:
    """Whole weeks after each row's ``as_of_date`` that end by ``observed_until``."""
    days = (pd.Timestamp(observed_until) - pd.to_datetime(rows["as_of_date"])).dt.days
    return np.floor(days.to_numpy() / 7).astype(np.int64)


def payment_week(rows: pd.DataFrame) -> np.ndarray:
    """The week after ``as_of_date`` that ``paid_date`` falls in (0: none)."""
    days = (pd.to_datetime(rows["paid_date"]) - pd.to_datetime(rows["as_of_date"])).dt.days
    return np.ceil(days.fillna(0).to_numpy() / 7).astype(np.int64)


def expand_invoice_weeks(
    rows: pd.DataFrame, features: Sequence[str], horizon: int, observed_until: pd.Timestamp
) -> pd.DataFrame:
    """Invoice-week rows at risk, none after the payment week nor ending after the cutoff.

    Columns: ``customer_id``, ``features`` (float32), :data:`WEEK`, :data:`DPD_AT_WEEK_END`
    and :data:`EVENT` (1: paid in that week).

    Args:
        rows: :func:`invoice_rows` with ``paid_date`` (:func:`with_outcome`). Not modified.
        features: Feature columns to carry.
        horizon: Weeks at risk per invoice, at most.
        observed_until: The last date whose payments the fit may know.
    """
    if "paid_date" not in rows:
        raise KeyError("the rows lack paid_date (with_outcome)")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 week, got {horizon}")
    observed = np.minimum(weeks_observed(rows, observed_until), horizon)
    paid = payment_week(rows)
    paid = np.where((paid >= 1) & (paid <= observed), paid, 0)
    n = np.clip(np.where(paid > 0, paid, observed), 0, None)
    source = np.repeat(np.arange(len(rows)), n)
    w = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 1
    values = rows[list(features)].to_numpy(np.float32)[source]
    out = pd.DataFrame(values, columns=list(features))
    out.insert(0, "customer_id", rows["customer_id"].to_numpy()[source])
    out[WEEK] = w.astype(np.float32)
    out[DPD_AT_WEEK_END] = (7 * w - rows["days_to_due"].to_numpy()[source]).astype(np.float32)
    out[EVENT] = (paid[source] == w).astype(np.int8)
    return out


class PaymentTimingModel(BaseEstimator):
    """Weekly hazard of payment per open invoice; :meth:`predict_frame` gives the outputs.

    Args:
        settings: :class:`TimingSettings`.
        features: Row features (invoice, habits, customer), in order.
    """

    def __init__(self, settings: TimingSettings, features: Sequence[str]) -> None:
        self.settings = settings
        self.features = features

    def fit(self, rows: pd.DataFrame, observed_until: pd.Timestamp) -> PaymentTimingModel:
        """Fit the weekly hazard on ``rows`` with the payments known by ``observed_until``."""
        s = self.settings
        periods = expand_invoice_weeks(rows, self.features, s.horizon_weeks, observed_until)
        self.booster_, self.offset_, record = fit_periods(
            periods, self.columns(), self._params(), s, EVENT
        )
        self.fit_record_ = {
            "invoices": len(rows),
            "invoice_weeks": record["periods"],
            "fitted_rows": record["fitted_rows"],
            "payments": record["events"],
            "best_iteration": record["best_iteration"],
            "observed_until": f"{pd.Timestamp(observed_until):%Y-%m-%d}",
        }
        return self

    def columns(self) -> list[str]:
        """The booster's inputs: the row features, the week at risk, days past due then."""
        return [*self.features, WEEK, DPD_AT_WEEK_END]

    def _params(self) -> dict:
        s = self.settings
        return {
            "objective": "binary", "learning_rate": s.learning_rate, "num_leaves": s.num_leaves,
            "min_data_in_leaf": s.min_child_samples, "feature_fraction": s.feature_fraction,
            "max_bin": s.max_bin,
            "seed": s.seed, "deterministic": True, "force_col_wise": True, "num_threads": 2,
            "verbosity": -1,
        }  # fmt: skip

    def cumulative(self, rows: pd.DataFrame) -> np.ndarray:
        """P(paid within ``w`` weeks of the as-of date), ``(n, horizon_weeks)``, non-decreasing."""
        h = self.settings.horizon_weeks
        X = np.repeat(rows[list(self.features)].to_numpy(np.float32), h, axis=0)
        w = np.tile(np.arange(1, h + 1, dtype=np.float32), len(rows))
        dpd = 7 * w - np.repeat(rows["days_to_due"].to_numpy(np.float32), h)
        raw = self.booster_.predict(np.column_stack([X, w, dpd]), raw_score=True) + self.offset_
        hazard = (1 / (1 + np.exp(-raw))).reshape(len(rows), h)
        return 1 - np.cumprod(1 - hazard, axis=1)

    def predict_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The outputs per invoice of ``rows`` (:func:`timing_outputs`)."""
        return timing_outputs(rows, self.cumulative(rows))


def timing_outputs(rows: pd.DataFrame, cumulative: np.ndarray) -> pd.DataFrame:
    """What the payment distribution says of each invoice, aligned to ``rows``.

    Columns: ``p_paid_by_due`` (0 for an invoice already past due), ``p_paid_within_<N>dpd``
    for :data:`LATE_DAYS`, ``p_never_paid`` (not within the horizon: the customer defaults
    first), ``expected_days_to_pay`` and ``days_to_pay_low`` / ``_high`` (the central
    :data:`INTERVAL` interval), all given that it is paid, ``expected_pay_date``,
    ``early_pay_date``, ``late_pay_date`` and ``expected_days_late`` (negative: early).
    """
    to_due = rows["days_to_due"].to_numpy(float)
    weeks = cumulative.shape[1]
    out = {"p_paid_by_due": paid_within_days_past_due(rows, cumulative, 0)}
    for n in LATE_DAYS:
        out[f"p_paid_within_{n}dpd"] = paid_within_days_past_due(rows, cumulative, n)
    paid = cumulative[:, -1]
    out["p_never_paid"] = 1 - paid
    density = np.diff(cumulative, axis=1, prepend=0.0)
    mid = 7 * np.arange(1, weeks + 1) - 3.5
    share = np.divide(density, paid[:, None], out=np.zeros_like(density), where=paid[:, None] > 0)
    out["expected_days_to_pay"] = np.where(paid > 0, share @ mid, np.nan)
    tail = (1 - INTERVAL) / 2
    out["days_to_pay_low"] = conditional_quantile(cumulative, tail)
    out["days_to_pay_high"] = conditional_quantile(cumulative, 1 - tail)
    frame = pd.DataFrame(out, index=rows.index)
    as_of = pd.to_datetime(rows["as_of_date"])
    for name, days in (
        ("expected_pay_date", "expected_days_to_pay"),
        ("early_pay_date", "days_to_pay_low"),
        ("late_pay_date", "days_to_pay_high"),
    ):
        frame[name] = as_of + pd.to_timedelta(frame[days].round(), unit="D")  # fmt: skip
    frame["expected_days_late"] = frame["expected_days_to_pay"] - to_due
    return frame


def paid_within_days_past_due(
    rows: pd.DataFrame, cumulative: np.ndarray, days: float
) -> np.ndarray:
    """P(paid by the due date plus ``days``): 0 where that date is already past."""
    left = rows["days_to_due"].to_numpy(float) + days
    return np.where(left >= 0, interpolate_terms(cumulative, np.clip(left, 0, None) / 7), 0.0)


def conditional_quantile(cumulative: np.ndarray, q: float) -> np.ndarray:
    """Days to the ``q`` quantile of the pay date given payment within the horizon.

    The distribution within a week is uniform (linear between the week ends); NaN where the
    invoice is never paid within the horizon.
    """
    paid = cumulative[:, -1]
    scaled = np.divide(cumulative, paid[:, None], out=np.zeros_like(cumulative),
                       where=paid[:, None] > 0)  # fmt: skip
    curve = np.hstack([np.zeros((len(scaled), 1)), scaled])
    week = np.clip((curve < q).sum(axis=1), 1, scaled.shape[1])  # first week end reaching q
    rows = np.arange(len(curve))
    low, high = curve[rows, week - 1], curve[rows, week]
    share = np.divide(q - low, high - low, out=np.ones_like(low), where=high > low)
    return np.where(paid > 0, 7 * (week - 1 + np.clip(share, 0, 1)), np.nan)
