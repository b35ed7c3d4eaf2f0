"""PD term structure: a discrete-time hazard model on customer-month rows.

Each snapshot (customer, month end ``t``, features known at ``t``) becomes up to ``horizon``
*person-period* rows: month at risk ``k = 1..horizon``, event 1 where the customer defaults in
month ``t + k`` having survived to ``t + k - 1``. Rows after the default month are dropped, and
so are the months after ``observed_until`` (censored): a default dated after it is unknown, so
a snapshot of the last 12 months contributes the months observed so far instead of being
thrown away as unlabelled, and no row looks past the date its fit may know.

One LightGBM (binary, the catalogue's monotone constraints on the features, the month at risk
unconstrained) learns the monthly hazard ``h_k``; the cumulative PD
``F(k) = 1 - prod_{j<=k} (1 - h_j)`` is non-decreasing in ``k`` by construction. Every tree
first splits the month at risk at fixed months (``month_splits``, LightGBM's forced splits:
:func:`forced_month_splits`), so the near months, few among the rows, get branches of their
own. Non-events may be subsampled (``negative_share``); the log-odds are then shifted by
``log(negative_share)``, which restores the base rate exactly for a subsample drawn
independently of the features.

Calibration per horizon: on a window whose ``horizon``-month outcome is fully observed, one
:class:`models.calibration.PDCalibrator` per ``k`` maps the log-odds of ``F(k)`` to the
observed rate of "default within ``k`` months". Separate maps may cross, so the calibrated
curve is made non-decreasing again by a running maximum over ``k`` (a PD within ``k`` months
can never be below the PD within fewer).

Served with the 12-month model (:func:`models.term_curve.served_curve`): the PD within 12
months stays the champion's; the PD within ``k`` months starts from the hazard model's own at
one month and moves, log-linearly in ``k``, onto the curve timed by the hazard and anchored to
the champion (``pd_12m x F(k) / F(12)``), which it reaches at 12 months.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.catalogue import monotone_constraints
from features.timeline import month_index
from models.calibration import PDCalibrator
from models.horizons import default_within
from models.term_curve import served_curve

MONTH_AT_RISK = "month_at_risk"
EVENT = "event"
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, kw_only=True)
class HazardSettings:
    """How :class:`HazardModel` fits (fixed settings: no grid search on the expanded rows).

    Attributes:
        horizon: Months of the term structure.
        learning_rate, num_leaves, max_depth, min_child_samples, reg_lambda, feature_fraction,
            bagging_fraction: LightGBM's.
        num_boost_round: Most trees; early stopping on ``validation_share`` of the customers.
        early_stopping_rounds: Stop after this many rounds without improvement.
        validation_share: Share of the customers (seeded) held out of fitting to stop early.
        negative_share: Share of the non-event rows kept (1: all); the base rate is restored.
        calibration: :data:`models.calibration.METHODS` method of the per-horizon maps.
        pd_floor: Smallest PD the calibrators give.
        seed: Seed of the subsample, the held-out customers and LightGBM.
        grace_days: ``pd_terms`` is the PD within the payment terms plus this many days.
        default_terms_days: The terms of a row whose ``payment_terms_days`` is unknown.
        month_splits: Months at risk every tree splits at first (:func:`forced_month_splits`),
            so that the near months get branches of their own; empty: none forced.
    """

    horizon: int = 12
    learning_rate: float = 0.03
    num_leaves: int = 31
    max_depth: int = -1
    min_child_samples: int = 100
    reg_lambda: float = 1.0
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    num_boost_round: int = 1500
    early_stopping_rounds: int = 100
    validation_share: float = 0.2
    negative_share: float = 1.0
    calibration: str = "platt"
    pd_floor: float = 0.0003
    seed: int = 42
    grace_days: float = 15.0
    default_terms_days: float = 30.0
    month_splits: tuple[int, ...] = (1, 3, 6)


def expand_person_periods(
    rows: pd.DataFrame, features: Sequence[str], horizon: int, observed_until: pd.Timestamp
) -> pd.DataFrame:
    """Customer-month rows at risk, none after the default month nor after ``observed_until``.

    Columns: ``customer_id``, ``month`` (as-of month), the features (float32), the month at
    risk ``k`` (:data:`MONTH_AT_RISK`) and :data:`EVENT` (1: defaults in month ``t + k``).

    Args:
        rows: Snapshots with ``customer_id``, ``as_of_date``, ``month``, ``default_date`` (NaT:
            none known) and ``features``. Not modified.
        features: Feature columns to carry.
        horizon: Months at risk per snapshot, at most.
        observed_until: The last month end whose defaults the fit may know.
    """
    missing = [c for c in ("customer_id", "as_of_date", "month", "default_date") if c not in rows]
    if missing:
        raise KeyError(f"the snapshots lack {missing}")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    t = month_index(rows["as_of_date"])
    cutoff = month_index(pd.Series([observed_until]))[0]
    d = month_index(rows["default_date"])
    d = np.where((d < 0) | (d > cutoff), np.iinfo(np.int64).max, d)  # unknown as of the cutoff
    if (d <= t).any():
        raise ValueError("a snapshot is dated at or after its customer's default")
    last = np.minimum.reduce([t + horizon, np.full_like(t, cutoff), d]) - t  # months at risk
    n = np.clip(last, 0, None)
    source = np.repeat(np.arange(len(rows)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 1
    out = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].to_numpy()[source],
            "month": rows["month"].to_numpy()[source],
        }
    )
    values = rows[list(features)].to_numpy(np.float32)[source]
    out = pd.concat([out, pd.DataFrame(values, columns=list(features))], axis=1)
    out[MONTH_AT_RISK] = k.astype(np.float32)
    out[EVENT] = (t[source] + k == d[source]).astype(np.int8)
    return out


def interpolate_terms(cumulative: np.ndarray, months: np.ndarray) -> np.ndarray:
    """PD within ``months`` (fractional) of each row, linear between the month points.

    ``cumulative``: ``(n, H)`` PDs within 1..H months; ``F(0) = 0``; beyond ``H``: ``F(H)``.
    """
    cumulative = np.asarray(cumulative, float)
    months = np.clip(np.asarray(months, float), 0, cumulative.shape[1])
    curve = np.hstack([np.zeros((len(cumulative), 1)), cumulative])
    low = np.minimum(np.floor(months).astype(int), cumulative.shape[1] - 1)
    share = months - low
    rows = np.arange(len(curve))
    return curve[rows, low] + share * (curve[rows, low + 1] - curve[rows, low])


def fit_periods(
    periods: pd.DataFrame, names: list[str], params: dict, settings: object, event: str = EVENT
) -> tuple[lgb.Booster, float, dict]:
    """One LightGBM on person-period rows (the ``event`` column the label), stopped early.

    The non-events are subsampled (``settings.negative_share``; the returned log-odds offset
    ``log(negative_share)`` restores the base rate); ``settings.validation_share`` of the
    customers (seeded) are held out to stop early. ``settings`` also gives ``num_boost_round``,
    ``early_stopping_rounds`` and ``seed``: :class:`HazardSettings` or a model of the same
    form (``models.payment_timing``).

    Returns:
        The booster cut at its best iteration, the offset, and ``periods``, ``fitted_rows``,
        ``events`` and ``best_iteration``.

    Raises:
        ValueError: Fewer than 2 customers: none can be held out to stop early.
    """
    s = settings
    rng = np.random.default_rng(s.seed)
    keep = (periods[event].to_numpy() == 1) | (rng.random(len(periods)) < s.negative_share)
    periods = periods[keep]
    customers = periods["customer_id"].unique()
    if len(customers) < 2:
        raise ValueError(f"the rows hold {len(customers)} customer(s): 2 are needed to stop early")
    n_held = min(max(1, round(s.validation_share * len(customers))), len(customers) - 1)
    held = rng.permutation(customers)[:n_held]
    valid = periods["customer_id"].isin(held).to_numpy()
    fit = lgb.Dataset(periods.loc[~valid, names], label=periods.loc[~valid, event])
    stop = lgb.Dataset(periods.loc[valid, names], label=periods.loc[valid, event], reference=fit)
    booster = lgb.train(
        params, fit, s.num_boost_round, valid_sets=[stop],
        callbacks=[lgb.early_stopping(s.early_stopping_rounds, verbose=False)],
    )  # fmt: skip
    best = booster.best_iteration or s.num_boost_round
    record = {
        "periods": int(keep.size),
        "fitted_rows": int((~valid).sum()),
        "events": int(periods[event].sum()),
        "best_iteration": int(best),
    }
    cut = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return cut, float(np.log(s.negative_share)), record


def forced_month_splits(feature: int, months: Sequence[int]) -> dict:
    """LightGBM's forced splits of the month at risk: months ``<= m`` against later ones.

    The middle one of ``months`` at the root, the shorter ones below it on the left, the longer
    on the right: ``(1, 3, 6)`` splits every tree at 3 months, then months 1..3 at 1 and months
    4.. at 6. A monthly hazard pooled over all months is otherwise learnt mostly from the many
    later months; the splits give the near months branches of their own, so their hazard can
    depend on the features in its own way (the default book: the PDs within 1, 3 and 6 months
    rank better, README "PD term structure").

    Args:
        feature: Position of the month at risk among the booster's columns.
        months: Months at risk, each split between ``m`` and ``m + 1``; empty: ``{}``.
    """
    months = sorted(set(months))
    if not months:
        return {}
    middle = len(months) // 2
    split = {"feature": feature, "threshold": months[middle] + 0.5}
    for side, part in (("left", months[:middle]), ("right", months[middle + 1 :])):
        if part:
            split[side] = forced_month_splits(feature, part)
    return split


def term_columns(horizon: int) -> list[str]:
    """``pd_1m`` .. ``pd_<horizon>m``: the cumulative PD within each month."""
    return [f"pd_{k}m" for k in range(1, horizon + 1)]


class HazardModel(BaseEstimator):
    """Discrete-time hazard model giving the PD within every month 1..``horizon``.

    Args:
        settings: :class:`HazardSettings`.
        features: Catalogue features, in order.
    """

    def __init__(self, settings: HazardSettings, features: Sequence[str]) -> None:
        self.settings = settings
        self.features = features

    def fit(self, rows: pd.DataFrame, observed_until: pd.Timestamp) -> HazardModel:
        """Fit the monthly hazard on ``rows`` with the defaults known by ``observed_until``."""
        s = self.settings
        periods = expand_person_periods(rows, self.features, s.horizon, observed_until)
        names = [*self.features, MONTH_AT_RISK]
        with tempfile.TemporaryDirectory() as folder:  # LightGBM reads forced splits from a file
            params = self._params(names)
            if s.month_splits:
                forced = Path(folder) / "forced_splits.json"
                forced.write_text(json.dumps(forced_month_splits(len(names) - 1, s.month_splits)))
                params["forcedsplits_filename"] = str(forced)
            booster, self.offset_, record = fit_periods(periods, names, params, s)
        # the model keeps its parameters: the file's passing name would make each fit's bytes
        # differ (same inputs, same bytes)
        text = booster.model_to_string().replace(
            f"[forcedsplits_filename: {params.get('forcedsplits_filename', '')}]",
            "[forcedsplits_filename: ]",
        )
        self.booster_ = lgb.Booster(model_str=text)
        self.fit_record_ = {
            "person_periods": record["periods"],
            "fitted_rows": record["fitted_rows"],
            "events": record["events"],
            "best_iteration": record["best_iteration"],
            "observed_until": str(pd.Timestamp(observed_until).date()),
        }
        self.calibrators_: list[PDCalibrator] | None = None
        return self

    def _params(self, names: list[str]) -> dict:
        s = self.settings
        return {
            "objective": "binary",
            "learning_rate": s.learning_rate,
            "num_leaves": s.num_leaves,
            "max_depth": s.max_depth,
            "min_data_in_leaf": s.min_child_samples,
            "lambda_l2": s.reg_lambda,
            "feature_fraction": s.feature_fraction,
            "bagging_fraction": s.bagging_fraction,
            "bagging_freq": 1 if s.bagging_fraction < 1 else 0,
            "monotone_constraints": [*monotone_constraints(list(self.features)), 0],
            "monotone_constraints_method": "intermediate",
            "seed": s.seed,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def hazards(self, rows: pd.DataFrame) -> np.ndarray:
        """Monthly hazards ``(n, horizon)`` of each snapshot row (uncalibrated)."""
        h = self.settings.horizon
        X = np.repeat(rows[list(self.features)].to_numpy(np.float32), h, axis=0)
        k = np.tile(np.arange(1, h + 1, dtype=np.float32), len(rows))[:, None]
        raw = self.booster_.predict(np.hstack([X, k]), raw_score=True) + self.offset_
        return (1 / (1 + np.exp(-raw))).reshape(len(rows), h)

    def cumulative_raw(self, rows: pd.DataFrame) -> np.ndarray:
        """Uncalibrated PDs within 1..horizon months, ``(n, horizon)``, non-decreasing."""
        return 1 - np.cumprod(1 - self.hazards(rows), axis=1)

    def calibrate(self, rows: pd.DataFrame, observed_until: pd.Timestamp) -> HazardModel:
        """One map per month ``k`` on ``rows`` whose ``k``-month outcome is known."""
        raw = self.cumulative_raw(rows)
        self.calibrators_ = []
        for k in range(1, self.settings.horizon + 1):
            y = default_within(rows, k, observed_until).to_numpy()
            known = ~np.isnan(y)
            calibrator = PDCalibrator(self.settings.calibration, self.settings.pd_floor)
            self.calibrators_.append(calibrator.fit(_log_odds(raw[known, k - 1]), y[known]))
        return self

    def predict_cumulative(self, rows: pd.DataFrame) -> np.ndarray:
        """PDs within 1..horizon months, ``(n, horizon)``: calibrated if calibrated, monotone."""
        raw = self.cumulative_raw(rows)
        if self.calibrators_ is None:
            return raw
        mapped = [c.predict(_log_odds(raw[:, i])) for i, c in enumerate(self.calibrators_)]
        return np.maximum.accumulate(np.column_stack(mapped), axis=1)

    def predict_frame(self, rows: pd.DataFrame, pd_last: np.ndarray | None = None) -> pd.DataFrame:
        """``pd_1m`` .. ``pd_<horizon>m`` and ``pd_terms`` of each row.

        ``pd_last``: the 12-month PD the curve ends at
        (:func:`models.term_curve.served_curve`); ``None``: the hazard model's own.
        ``pd_terms``: within the row's ``payment_terms_days`` (a column of ``rows``; unknown:
        ``default_terms_days``) plus ``grace_days``.
        """
        cumulative = self.predict_cumulative(rows)
        if pd_last is not None:
            cumulative = served_curve(cumulative, pd_last)
        out = pd.DataFrame(
            cumulative, index=rows.index, columns=term_columns(self.settings.horizon)
        )
        terms = rows["payment_terms_days"] if "payment_terms_days" in rows else np.nan
        days = pd.Series(terms, index=rows.index, dtype=float)
        days = days.fillna(self.settings.default_terms_days) + self.settings.grace_days
        out["pd_terms"] = interpolate_terms(cumulative, days.to_numpy() / DAYS_PER_MONTH)
        return out

    def state(self) -> dict:
        """What :meth:`from_state` needs besides the booster, JSON-able."""
        return {
            "settings": vars(self.settings),
            "features": list(self.features),
            "offset": self.offset_,
            "calibrators": [c.to_dict() for c in self.calibrators_ or []],
            "fit": self.fit_record_,
        }

    @classmethod
    def from_state(cls, state: dict, booster: lgb.Booster) -> HazardModel:
        """The model :meth:`state` and its booster describe."""
        settings = {
            **state["settings"],
            "month_splits": tuple(state["settings"].get("month_splits", ())),
        }
        model = cls(HazardSettings(**settings), list(state["features"]))
        model.booster_, model.offset_ = booster, float(state["offset"])
        model.fit_record_ = state.get("fit", {})
        calibrators = [PDCalibrator.from_dict(c) for c in state.get("calibrators", [])]
        model.calibrators_ = calibrators or None
        return model


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))
