"""Calibration of the booster's raw score (log-odds) to a probability."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

METHODS = ("isotonic", "platt")


class PDCalibrator(BaseEstimator):
    """Maps raw log-odds scores to calibrated probabilities.

    Args:
        method: ``"platt"`` (logistic on the score) or ``"isotonic"`` (monotone step function,
            interpolated linearly between steps so that ranks survive).
        pd_floor: Smallest PD given (a regulatory-style floor: no customer is riskless, and an
            isotonic step without defaults would otherwise say 0).
        min_step_events: Isotonic only: neighbouring steps are pooled until each holds at
            least this many defaults and as many non-defaults. A step fitted on a stretch of
            scores without a single default says PD 0 (the floor), one without a non-default
            says 1, though a few rows can support neither; 0 keeps the plain isotonic fit.
    """

    def __init__(
        self, method: str = "platt", pd_floor: float = 0.0003, min_step_events: int = 0
    ) -> None:
        self.method = method
        self.pd_floor = pd_floor
        self.min_step_events = min_step_events

    def fit(self, scores: np.ndarray, y: np.ndarray) -> PDCalibrator:
        """Learn the mapping from ``scores`` to the observed 0/1 outcomes ``y``."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 0 <= self.pd_floor < 0.5:
            raise ValueError(f"pd_floor must lie in [0, 0.5), got {self.pd_floor}")
        if self.min_step_events < 0:
            raise ValueError(f"min_step_events must be at least 0, got {self.min_step_events}")
        scores, y = _check(scores, y)
        if len(np.unique(y)) < 2:
            raise ValueError("calibration needs both defaults and non-defaults in the window")
        if self.method == "platt":
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)
            self.coef_ = float(lr.coef_[0, 0])
            self.intercept_ = float(lr.intercept_[0])
        else:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6)
            iso.fit(scores, y)
            self.x_ = np.asarray(iso.X_thresholds_, dtype=float)
            self.y_ = np.asarray(iso.y_thresholds_, dtype=float)
            if self.min_step_events > 0:
                self.x_, self.y_ = _pool_steps(scores, y, iso.predict(scores), self.min_step_events)
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw ``scores``."""
        scores = np.asarray(scores, dtype=float)
        if self.method == "platt":
            pd_values = 1.0 / (1.0 + np.exp(-(self.coef_ * scores + self.intercept_)))
        else:
            pd_values = np.interp(scores, self.x_, self.y_)
        return np.clip(pd_values, self.pd_floor, 1.0 - self.pd_floor)

    def to_dict(self) -> dict:
        """Return the fitted state as plain JSON-able values."""
        state = {
            "method": self.method,
            "pd_floor": self.pd_floor,
            "min_step_events": self.min_step_events,
        }
        if self.method == "platt":
            return state | {"coef": self.coef_, "intercept": self.intercept_}
        return state | {"x": self.x_.tolist(), "y": self.y_.tolist()}

    @classmethod
    def from_dict(cls, state: dict) -> PDCalibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output."""
        cal = cls(
            method=state["method"],
            pd_floor=float(state.get("pd_floor", 0.0)),
            min_step_events=int(state.get("min_step_events", 0)),
        )
        if cal.method == "platt":
            cal.coef_, cal.intercept_ = float(state["coef"]), float(state["intercept"])
        else:
            cal.x_, cal.y_ = np.asarray(state["x"], float), np.asarray(state["y"], float)
        return cal


def _pool_steps(
    scores: np.ndarray, y: np.ndarray, fitted: np.ndarray, min_events: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pool neighbouring isotonic steps until each has ``min_events`` of both outcomes.

    Steps are pooled from the lowest scores up; a short last pool joins the one below it. The
    pooled rate of neighbouring steps lies between theirs, so the result stays monotone.

    Returns:
        Thresholds and values in the form of ``IsotonicRegression``'s ``X_thresholds_`` and
        ``y_thresholds_``: each pool's lowest and highest score, both with the pool's rate.
    """
    order = np.argsort(scores, kind="stable")
    s, outcome, steps = scores[order], y[order], fitted[order]
    ends = np.r_[np.flatnonzero(np.diff(steps) != 0) + 1, len(s)]
    pools: list[tuple[int, int]] = []
    first = 0
    for end in ends:
        defaults = outcome[first:end].sum()
        if defaults >= min_events and (end - first) - defaults >= min_events:
            pools.append((first, end))
            first = end
    if first < len(s):
        pools[-1:] = [(pools[-1][0] if pools else 0, len(s))]
    x = np.ravel([(s[a], s[b - 1]) for a, b in pools])
    rates = np.repeat([outcome[a:b].mean() for a, b in pools], 2)
    return x.astype(float), np.clip(rates, 1e-6, 1 - 1e-6)


def _check(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=float)
    if scores.shape != y.shape or scores.ndim != 1:
        raise ValueError(f"scores and y must be 1-d of equal length, got {scores.shape}, {y.shape}")
    if np.isnan(scores).any() or np.isnan(y).any():
        raise ValueError("scores and y must not contain missing values")
    return scores, y


def cross_validated_brier(
    method: str,
    scores: np.ndarray,
    y: np.ndarray,
    folds: int,
    seed: int,
    pd_floor: float = 0.0,
    min_step_events: int = 0,
) -> float:
    """Brier score of ``method`` fitted on k-1 folds and scored on the held-out fold."""
    scores, y = _check(scores, y)
    pred = np.empty_like(y)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, out_idx in splitter.split(scores.reshape(-1, 1), y):
        cal = PDCalibrator(method, pd_floor, min_step_events)
        cal.fit(scores[fit_idx], y[fit_idx])
        pred[out_idx] = cal.predict(scores[out_idx])
    return float(np.mean((pred - y) ** 2))


def choose_method(
    scores: np.ndarray,
    y: np.ndarray,
    folds: int,
    seed: int,
    pd_floor: float = 0.0,
    min_step_events: int = 0,
) -> dict[str, float]:
    """Cross-validated Brier score of every method on the calibration window."""
    return {
        m: cross_validated_brier(m, scores, y, folds, seed, pd_floor, min_step_events)
        for m in METHODS
    }
