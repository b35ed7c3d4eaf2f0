"""When each open invoice will be paid: a discrete-time hazard of payment on invoice-week rows.

At a month end ``t`` every invoice then open (issued by ``t``, not paid by ``t``) of a customer
not in default becomes up to ``horizon_weeks`` + 1 rows: the weeks after ``t``, the one that
holds the due date split at it (:func:`period_ends`), event 1 where the payment falls in the
period, having not been paid before. Rows after the payment period are dropped, and so are the
periods that end after ``observed_until`` (censored: an invoice still open at the training
cutoff contributes the periods observed, it is not thrown away). An invoice never paid (its
customer defaulted first) stays at risk to the horizon, so ``1 - F(W)`` is the probability it
is not paid within it; the outputs per invoice are read off by
:mod:`models.payment_distribution`, which also combines them with the customer's PD.

Features are what was known at ``t`` only: the invoice's amount, age, days to its due date, its
terms and dispute flag; the customer's own payment habits over the 12 months before ``t``
(:func:`customer_habits`: signed days late, their spread, the share paid by the due date); and
the customer's point-in-time features at ``t`` (the catalogue's, as the stage passes them). Per
row: the period's end (in weeks), the days past due then and the period's length, so that one
LightGBM learns where payments bunch around the due date.

As :mod:`models.hazard` does for customer defaults: non-events may be subsampled
(``negative_share``, the log-odds shifted back by ``log(negative_share)``); the cumulative
``F = 1 - prod (1 - h)`` over the periods is non-decreasing by construction; a day between
period ends is read off it linearly (:func:`models.payment_distribution.curve_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.incremental import invoices_known_at
from models.hazard import fit_periods
from models.payment_distribution import curve_at, timing_outputs
from models.payment_history import (
    NO_RECORDS,
    PaymentRecords,
    customer_habits,
    disputed_flags,
    invoice_state,
    run_habits,
)
from models.payment_periods import (
    CALENDAR,
    RUN_DAY,
    day_positions,
    epoch_days,
    period_calendar,
    period_ends,
    run_kind,
    run_splits,
)
from models.receivables import open_at

WEEK = "week_at_risk"
DPD_AT_WEEK_END = "days_past_due_at_week_end"
PERIOD_DAYS = "period_days"
EVENT = "paid"
DAY = pd.Timedelta(days=1)
INVOICE_FEATURES = ["amount", "age_days", "days_to_due", "terms_days", "disputed"]
PERIOD_CALENDAR = [*CALENDAR, RUN_DAY]  # what each period's calendar holds, as the booster reads


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
            "disputed": disputed_flags(known).astype(float),
        }
    )


def invoice_rows(
    invoices: pd.DataFrame, snapshots: pd.DataFrame, as_of: pd.Timestamp, features: Sequence[str],
    records: PaymentRecords = NO_RECORDS,
) -> pd.DataFrame:  # fmt: skip
    """The open invoices at ``as_of`` of the customers with a snapshot then, not in default.

    Args:
        invoices: The ledger (contract columns). Not modified.
        snapshots: Point-in-time feature rows: ``customer_id``, ``as_of_date``,
            ``default_date`` (NaT: none) and ``features``.
        as_of: The month end.
        features: The snapshot features to carry.
        records: The ledger's payments and payment plans, where it has them.

    Returns:
        :func:`open_invoices` with :func:`customer_habits`, the customer's payment run
        (``models.payment_history.run_habits``), the invoice's payments and the customer's
        plan (``models.payment_history.invoice_state``: NaN without the tables) and
        ``features`` joined.
    """
    as_of = pd.Timestamp(as_of)
    at = snapshots[pd.to_datetime(snapshots["as_of_date"]) == as_of]
    at = at[~(pd.to_datetime(at["default_date"]) <= as_of)]
    customer = at.set_index("customer_id")[list(features)]
    rows = open_invoices(invoices, as_of)
    rows = rows[rows["customer_id"].isin(customer.index)]
    rows = rows.join(customer_habits(invoices, as_of), on="customer_id")
    rows = rows.join(run_habits(invoices, as_of), on="customer_id")
    rows = pd.concat([rows, invoice_state(rows, as_of, records)], axis=1)
    return rows.join(customer, on="customer_id").reset_index(drop=True)


def with_outcome(
    rows: pd.DataFrame, invoices: pd.DataFrame, observed_until: pd.Timestamp
) -> pd.DataFrame:
    """``rows`` with ``paid_date``: each invoice's payment as known at ``observed_until``."""
    known = invoices_known_at(invoices, pd.Timestamp(observed_until))
    paid = known.set_index("invoice_id")["paid_date"]
    return rows.assign(paid_date=rows["invoice_id"].map(paid).to_numpy())


def _days_after(rows: pd.DataFrame, dates: pd.Series | pd.Timestamp) -> np.ndarray:
    days = (pd.to_datetime(dates) - pd.to_datetime(rows["as_of_date"])).dt.days
    return days.to_numpy(float)


def expand_invoice_weeks(
    rows: pd.DataFrame, features: Sequence[str], horizon: int, observed_until: pd.Timestamp
) -> pd.DataFrame:
    """Invoice-period rows at risk, none after the payment period nor ending after the cutoff.

    The periods are the weeks after the as-of date, the one holding the due date split at it
    (:func:`period_ends`). Columns: ``customer_id``, ``features`` (float32), :data:`WEEK` (the
    period's end in weeks), :data:`DPD_AT_WEEK_END`, :data:`PERIOD_DAYS` and :data:`EVENT`
    (1: paid in that period).

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
    ends = grid(rows, horizon)
    starts = np.column_stack([np.zeros(len(rows), np.int64), ends[:, :-1]])
    observed = _days_after(rows, pd.Series(pd.Timestamp(observed_until), index=rows.index))
    paid = np.nan_to_num(_days_after(rows, rows["paid_date"]), nan=np.inf)[:, None]
    paid = np.where(paid <= observed[:, None], paid, np.inf)  # unknown at the cutoff
    keep = (ends > starts) & (ends <= observed[:, None]) & (starts < paid)
    source, period = np.nonzero(keep)
    out = period_rows(rows, features, source, starts[source, period], ends[source, period])
    out.insert(0, "customer_id", rows["customer_id"].to_numpy()[source])
    out[EVENT] = (paid[source, 0] <= ends[source, period]).astype(np.int8)
    return out


def grid(rows: pd.DataFrame, horizon: int) -> np.ndarray:
    """The period ends of each row (:func:`period_ends`), its customer's run days split out."""
    month_end, weekday = run_kind(rows)
    splits = run_splits(epoch_days(rows["as_of_date"]), month_end, weekday, horizon)
    return period_ends(rows["days_to_due"].to_numpy(float), horizon, splits)


def period_rows(
    rows: pd.DataFrame, features: Sequence[str], source: np.ndarray, start: np.ndarray,
    end: np.ndarray,
) -> pd.DataFrame:  # fmt: skip
    """The periods ``(start, end]`` of ``rows[source]``: ``features`` and the period's own.

    The period's own: :data:`WEEK` (its end in weeks), :data:`DPD_AT_WEEK_END`,
    :data:`PERIOD_DAYS` and its calendar (``models.payment_periods.period_calendar``).
    """
    out = pd.DataFrame(rows[list(features)].to_numpy(np.float32)[source], columns=list(features))
    out[WEEK] = (end / 7).astype(np.float32)
    out[DPD_AT_WEEK_END] = (end - rows["days_to_due"].to_numpy()[source]).astype(np.float32)
    out[PERIOD_DAYS] = (end - start).astype(np.float32)
    month_end, weekday = run_kind(rows)
    as_of = epoch_days(rows["as_of_date"])[source]
    calendar = period_calendar(as_of, start, end, month_end[source], weekday[source])
    for name in PERIOD_CALENDAR:
        out[name] = calendar[name]
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
        """The booster's inputs: the row features and the period's own (:func:`period_rows`)."""
        return [*self.features, WEEK, DPD_AT_WEEK_END, PERIOD_DAYS, *PERIOD_CALENDAR]

    def _params(self) -> dict:
        s = self.settings
        return {
            "objective": "binary", "learning_rate": s.learning_rate, "num_leaves": s.num_leaves,
            "min_data_in_leaf": s.min_child_samples, "feature_fraction": s.feature_fraction,
            "max_bin": s.max_bin,
            "seed": s.seed, "deterministic": True, "force_col_wise": True, "num_threads": 2,
            "verbosity": -1,
        }  # fmt: skip

    def distribution(self, rows: pd.DataFrame) -> Curves:
        """P(paid within ``w`` weeks), P(paid by the due date) and the day paid in each week.

        All read off the periods (:func:`grid`): the due date is a period end, so P(paid by
        the due date) is not interpolated inside its week (0 where the invoice is past due);
        a customer's run days are periods of their own, so the day of a payment inside a week
        (``models.payment_periods.day_positions``) is where the hazard puts it.
        """
        h = self.settings.horizon_weeks
        to_due = rows["days_to_due"].to_numpy(float)
        ends = grid(rows, h)
        starts = np.column_stack([np.zeros(len(rows), np.int64), ends[:, :-1]])
        source, period = np.nonzero(ends > starts)
        X = period_rows(rows, self.features, source, starts[source, period], ends[source, period])
        raw = self.booster_.predict(X[self.columns()].to_numpy(np.float32), raw_score=True)
        hazard = np.zeros(ends.shape)
        hazard[source, period] = 1 / (1 + np.exp(-(raw + self.offset_)))
        cumulative = 1 - np.cumprod(1 - hazard, axis=1)
        weekly = cumulative[(ends > 0) & (ends % 7 == 0)].reshape(len(rows), h)
        return Curves(
            weekly, curve_at(ends, cumulative, to_due), day_positions(ends, cumulative, h)
        )

    def curves(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """P(paid within ``w`` weeks), ``(n, horizon_weeks)``, and P(paid by the due date)."""
        return self.distribution(rows)[:2]

    def cumulative(self, rows: pd.DataFrame) -> np.ndarray:
        """P(paid within ``w`` weeks of the as-of date), ``(n, horizon_weeks)``, non-decreasing."""
        return self.curves(rows)[0]

    def predict_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The outputs per invoice of ``rows`` (:func:`timing_outputs`)."""
        return timing_outputs(rows, *self.distribution(rows))


class Curves(NamedTuple):
    """What :meth:`PaymentTimingModel.distribution` gives, per invoice."""

    weekly: np.ndarray  # P(paid within w weeks), (n, W)
    by_due: np.ndarray  # P(paid by the due date)
    days: np.ndarray  # the mean day after the as-of date of a payment in each week, (n, W)
