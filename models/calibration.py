"""Calibration of the booster's raw score (log-odds) to a probability.

Every method is strictly increasing in the score, so distinct scores get distinct PDs (above
the floor) and the ranking keeps its resolution; each extrapolates beyond the calibration
window's scores along a logistic curve, never from a plateau:

- ``platt``: logistic on the score, ``logit(PD) = a s + c``.
- ``beta``: beta calibration (Kull et al., 2017) of ``sigmoid(s)``,
  ``logit(PD) = c - a softplus(-s) + b softplus(s)`` with ``a, b >= 0``: a logistic whose slope
  moves from ``a`` (low scores) to ``b`` (high scores); ``a = b`` is Platt.
- ``centred_isotonic``: centred isotonic regression (Oron and Flournoy, 2017). The isotonic
  blocks (pooled to hold ``min_step_events`` of each outcome) become knots at each block's mean
  score with the block's default rate; the PD is interpolated linearly in log-odds between
  knots, and beyond the outer knots continues at the Platt slope of the whole window.

A calibrator of the retired ``isotonic`` method (a step function) is never fitted, but one
read back (an older registered champion, a ``to_dict`` state) predicts as it was fitted, so that
it keeps scoring until a new version replaces it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

METHODS = ("platt", "beta", "centred_isotonic")
RETIRED = ("isotonic",)  # read back and applied as fitted, never fitted
CRITERIA = ("log_loss", "brier")
RATE_BOUND = 1e-6  # knot rates are kept inside [RATE_BOUND, 1 - RATE_BOUND]: finite log-odds


class PDCalibrator(BaseEstimator):
    """Maps raw log-odds scores to calibrated probabilities, strictly increasing in the score.

    Args:
        method: One of :data:`METHODS` (see the module docstring).
        pd_floor: Smallest PD given (a regulatory-style floor: no customer is riskless); PDs are
            clipped to ``[pd_floor, 1 - pd_floor]``, the only place two scores can share a PD.
        min_step_events: ``centred_isotonic`` only: neighbouring isotonic blocks are pooled
            until each holds at least this many defaults and as many non-defaults, so that no
            knot rests on a stretch of scores without a default; 0 keeps the plain blocks.
    """

    def __init__(
        self, method: str = "platt", pd_floor: float = 0.0003, min_step_events: int = 0
    ) -> None:
        self.method = method
        self.pd_floor = pd_floor
        self.min_step_events = min_step_events

    def fit(self, scores: np.ndarray, y: np.ndarray) -> PDCalibrator:
        """Learn the mapping from ``scores`` to the observed 0/1 outcomes ``y``.

        Raises:
            ValueError: Bad settings or input, one outcome only, or a score that does not rank
                the defaults (a non-positive Platt slope).
        """
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 0 <= self.pd_floor < 0.5:
            raise ValueError(f"pd_floor must lie in [0, 0.5), got {self.pd_floor}")
        if self.min_step_events < 0:
            raise ValueError(f"min_step_events must be at least 0, got {self.min_step_events}")
        scores, y = _check(scores, y)
        if len(np.unique(y)) < 2:
            raise ValueError("calibration needs both defaults and non-defaults in the window")
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)
        self.coef_ = float(lr.coef_[0, 0])
        self.intercept_ = float(lr.intercept_[0])
        if self.coef_ <= 0:
            raise ValueError(f"the score does not rank defaults: Platt slope {self.coef_:.4g}")
        if self.method == "beta":
            self.a_, self.b_, self.c_ = _fit_beta(scores, y, self.coef_, self.intercept_)
        elif self.method == "centred_isotonic":
            self.x_, self.y_ = _centred_knots(scores, y, self.min_step_events)
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw ``scores``."""
        if self.method == "isotonic":
            pd_values = np.interp(np.asarray(scores, dtype=float), self.x_, self.y_)
        else:
            pd_values = expit(self.log_odds(scores))
        return np.clip(pd_values, self.pd_floor, 1.0 - self.pd_floor)

    def log_odds(self, scores: np.ndarray) -> np.ndarray:
        """Return the calibrated log-odds of raw ``scores`` (before the floor)."""
        s = np.asarray(scores, dtype=float)
        if self.method == "isotonic":
            return logit(np.interp(s, self.x_, self.y_))
        if self.method == "beta":
            return self.c_ - self.a_ * np.logaddexp(0, -s) + self.b_ * np.logaddexp(0, s)
        if self.method == "centred_isotonic":
            inside = np.interp(s, self.x_, self.y_)
            below = self.y_[0] + self.coef_ * (s - self.x_[0])
            above = self.y_[-1] + self.coef_ * (s - self.x_[-1])
            return np.where(s < self.x_[0], below, np.where(s > self.x_[-1], above, inside))
        return self.coef_ * s + self.intercept_

    def to_dict(self) -> dict:
        """Return the fitted state as plain JSON-able values."""
        state = {
            "method": self.method,
            "pd_floor": self.pd_floor,
            "min_step_events": self.min_step_events,
        }
        if self.method == "isotonic":
            return state | {"x": self.x_.tolist(), "y": self.y_.tolist()}
        state |= {"coef": self.coef_, "intercept": self.intercept_}
        if self.method == "beta":
            return state | {"a": self.a_, "b": self.b_, "c": self.c_}
        if self.method == "centred_isotonic":
            return state | {"x": self.x_.tolist(), "y": self.y_.tolist()}
        return state

    @classmethod
    def from_dict(cls, state: dict) -> PDCalibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output."""
        cal = cls(
            method=state["method"],
            pd_floor=float(state.get("pd_floor", 0.0)),
            min_step_events=int(state.get("min_step_events", 0)),
        )
        if cal.method not in (*METHODS, *RETIRED):
            raise ValueError(f"calibrator method must be one of {METHODS}, got {cal.method!r}")
        if cal.method in ("isotonic", "centred_isotonic"):
            cal.x_, cal.y_ = np.asarray(state["x"], float), np.asarray(state["y"], float)
        if cal.method != "isotonic":
            cal.coef_, cal.intercept_ = float(state["coef"]), float(state["intercept"])
        if cal.method == "beta":
            cal.a_, cal.b_, cal.c_ = (float(state[k]) for k in "abc")
        return cal


def _fit_beta(
    scores: np.ndarray, y: np.ndarray, coef: float, intercept: float
) -> tuple[float, float, float]:
    """Beta calibration's ``(a, b, c)`` by maximum likelihood with ``a, b >= 0``.

    Starts from the Platt fit (``a = b = coef``, which it nests), so it fits at least as well.
    """
    low, high = -np.logaddexp(0, -scores), np.logaddexp(0, scores)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] * low + theta[1] * high + theta[2]
        # mean log loss of logit z, and its gradient
        value = np.mean(np.logaddexp(0, z) - y * z)
        residual = expit(z) - y
        return float(value), np.array([residual @ low, residual @ high, residual.sum()]) / len(y)

    start = np.array([coef, coef, intercept])
    bounds = [(0, None), (0, None), (None, None)]
    fitted = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    a, b, c = (float(v) for v in fitted.x)
    if a + b <= 0:
        raise ValueError("the score does not rank defaults: beta calibration is flat")
    return a, b, c


def _centred_knots(scores: np.ndarray, y: np.ndarray, min_events: int) -> tuple[np.ndarray, ...]:
    """Knots of the centred isotonic fit: each block's mean score and the log-odds of its rate.

    Blocks whose rates are equal once kept inside ``RATE_BOUND`` are merged, so that both the
    knots' scores and their log-odds increase strictly.
    """
    order = np.argsort(scores, kind="stable")
    s, outcome = scores[order], y[order]
    fitted = IsotonicRegression().fit(s, outcome).predict(s)
    ends = np.r_[np.flatnonzero(np.diff(fitted) != 0) + 1, len(s)]
    blocks = _pool_blocks(outcome, ends, min_events)
    merged: list[list[int]] = []
    for first, end in blocks:
        rate = _bounded_rate(outcome[first:end])
        if merged and rate <= _bounded_rate(outcome[merged[-1][0] : merged[-1][1]]):
            merged[-1][1] = end
        else:
            merged.append([first, end])
    x = np.array([s[a:b].mean() for a, b in merged])
    rates = np.array([_bounded_rate(outcome[a:b]) for a, b in merged])
    return x, logit(rates)


def _bounded_rate(outcome: np.ndarray) -> float:
    return float(np.clip(outcome.mean(), RATE_BOUND, 1 - RATE_BOUND))


def _pool_blocks(outcome: np.ndarray, ends: np.ndarray, min_events: int) -> list[tuple[int, int]]:
    """Pool neighbouring blocks until each has ``min_events`` of both outcomes.

    Blocks are pooled from the lowest scores up; a short last pool joins the one below it. The
    pooled rate of neighbouring isotonic blocks lies between theirs, so the rates stay monotone.
    """
    pools: list[tuple[int, int]] = []
    first = 0
    for end in ends:
        defaults = outcome[first:end].sum()
        if defaults >= min_events and (end - first) - defaults >= min_events:
            pools.append((first, int(end)))
            first = int(end)
    if first < len(outcome):
        pools[-1:] = [(pools[-1][0] if pools else 0, len(outcome))]
    return pools


def _check(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=float)
    if scores.shape != y.shape or scores.ndim != 1:
        raise ValueError(f"scores and y must be 1-d of equal length, got {scores.shape}, {y.shape}")
    if np.isnan(scores).any() or np.isnan(y).any():
        raise ValueError("scores and y must not contain missing values")
    return scores, y


def cross_validate(
    method: str,
    scores: np.ndarray,
    y: np.ndarray,
    folds: int,
    seed: int,
    pd_floor: float = 0.0,
    min_step_events: int = 0,
) -> dict[str, float]:
    """Brier score and log loss of ``method`` fitted on k-1 folds, scored on the held-out fold.

    Returns:
        ``{"log_loss": ..., "brier": ...}`` over all rows, each predicted out of fold (log loss
        with PDs kept inside ``[1e-15, 1 - 1e-15]`` where the floor is 0).
    """
    scores, y = _check(scores, y)
    pred = np.empty_like(y)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, out_idx in splitter.split(scores.reshape(-1, 1), y):
        cal = PDCalibrator(method, pd_floor, min_step_events)
        cal.fit(scores[fit_idx], y[fit_idx])
        pred[out_idx] = cal.predict(scores[out_idx])
    p = np.clip(pred, 1e-15, 1 - 1e-15)
    log_loss = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    return {"log_loss": float(log_loss), "brier": float(np.mean((pred - y) ** 2))}


def choose_method(
    scores: np.ndarray,
    y: np.ndarray,
    folds: int,
    seed: int,
    criterion: str = "log_loss",
    pd_floor: float = 0.0,
    min_step_events: int = 0,
) -> tuple[str, dict[str, dict[str, float]]]:
    """The method of the lowest cross-validated ``criterion`` on the calibration window.

    Returns:
        The chosen method (the first of :data:`METHODS` on a tie) and every method's
        :func:`cross_validate` scores.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    table = {
        m: cross_validate(m, scores, y, folds, seed, pd_floor, min_step_events) for m in METHODS
    }
    return min(METHODS, key=lambda m: table[m][criterion]), table
