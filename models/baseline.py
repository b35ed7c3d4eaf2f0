"""The transparent challenger: a logistic-regression scorecard on weight-of-evidence bins.

Each feature is cut into a few bins by optbinning's ``OptimalBinning`` (monotone in the
catalogue's risk direction, each bin holding a minimum share of the rows, missing values in a
bin of their own; a categorical attribute gets a bin per level, the rare levels pooled) and
replaced by its bin's weight of evidence, ``ln(share of non-defaults /
share of defaults)``: a higher WoE is a safer bin. A logistic regression on the WoE columns
gives the log-odds of default; the scorecard is the table of bins with their contribution
``coef * WoE``. Features with little information value are left out, and so is any feature
whose coefficient comes out with the wrong sign (a WoE that raises the risk), a usual scorecard
rule that keeps every bin's points readable.

The fitted state is plain numbers (split points, WoE per bin, coefficients), so the scorecard is
stored as JSON and scored with numpy; optbinning is needed only to fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression

from features.attributes import is_text
from models.calibration import PDCalibrator

TRENDS = {1: "ascending", -1: "descending", 0: "auto_asc_desc"}


def _bin_feature(x: np.ndarray, y: np.ndarray, trend: str, max_n_bins: int, min_share: float):
    """Optimal bins of one feature: ``(splits, woe per bin + missing, information value)``."""
    from optbinning import OptimalBinning  # heavy import, only needed to fit

    if len(np.unique(x[~np.isnan(x)])) < 2:  # nothing to cut: a single, uninformative bin
        return np.array([]), np.zeros(2), 0.0
    binning = OptimalBinning(
        dtype="numerical", monotonic_trend=trend, max_n_bins=max_n_bins, min_bin_size=min_share
    )
    with warnings.catch_warnings():  # optbinning 0.21 uses pandas idioms pandas 3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        binning.fit(x, y)
        splits = np.asarray(binning.splits, dtype=float)
        # one value inside each bin [lower, upper), then a missing value
        inside = np.r_[splits[:1] - 1.0, splits] if len(splits) else np.array([0.0])
        woe = binning.transform(inside, metric="woe")
        woe_missing = [0.0]  # no missing value seen: a missing one counts as neutral
        if np.isnan(x).any():
            missing = np.array([np.nan])
            woe_missing = binning.transform(missing, metric="woe", metric_missing="empirical")
        binning.binning_table.build()
        iv = float(binning.binning_table.iv)
    return splits, np.append(woe, woe_missing), iv


def _bin_levels(x: pd.Series, y: np.ndarray, min_share: float):
    """Bins of a categorical feature, then a bin of missing values.

    Each level holding ``min_share`` of the rows has its own bin; the rarer ones share one.

    Returns:
        ``(level -> bin, bin of an unseen level (-1: none, neutral), woe per bin + missing,
        information value)``; WoE smoothed by half a row per bin.
    """
    text = x.astype(object).where(x.notna(), None)
    given = text.notna().to_numpy()
    shares = text[given].astype(str).value_counts(normalize=True).sort_index()
    common = [level for level, share in shares.items() if share >= min_share]
    rare = [level for level in shares.index if level not in common]
    bins = {level: i for i, level in enumerate(common)}
    other = len(common) if rare else -1
    bins |= {level: other for level in rare}
    n_bins = len(common) + bool(rare) + 1  # + missing
    slot = np.full(len(x), n_bins - 1)
    slot[given] = text[given].astype(str).map(bins).to_numpy()
    bad = np.bincount(slot, weights=y, minlength=n_bins) + 0.5
    good = np.bincount(slot, weights=1 - y, minlength=n_bins) + 0.5
    good_share, bad_share = good / good.sum(), bad / bad.sum()
    woe = np.log(good_share / bad_share)
    if not (~given).any():
        woe[-1] = 0.0  # no missing value seen: a missing one counts as neutral
    iv = float(np.sum((good_share - bad_share) * woe))
    return bins, other, woe, iv


class WoEScorecard(BaseEstimator):
    """Logistic regression on weight-of-evidence bins of each feature.

    Args:
        directions: Expected risk direction per feature (+1 riskier when higher, -1 safer, 0
            either way); the bins' default rates follow it. Features not named are not used.
        max_n_bins: Most bins per feature (missing values get one more).
        min_bin_share: Smallest share of the rows in a bin.
        min_iv: Features with a lower information value are left out (the best one is kept
            if none reaches it).
        C: Inverse L2 strength of the logistic regression.
    """

    def __init__(
        self,
        directions: dict[str, int] | None = None,
        max_n_bins: int = 6,
        min_bin_share: float = 0.05,
        min_iv: float = 0.02,
        C: float = 1.0,
    ) -> None:
        self.directions = directions
        self.max_n_bins = max_n_bins
        self.min_bin_share = min_bin_share
        self.min_iv = min_iv
        self.C = C

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> WoEScorecard:
        """Bin every feature of ``directions`` on ``X`` and fit the regression to ``y``."""
        self._check_params()
        y = np.asarray(y, dtype=float)
        names = list(self.directions)
        _require(X, names)
        if len(X) != len(y) or np.isnan(y).any() or not np.isin(y, (0, 1)).all():
            raise ValueError("y must hold one 0/1 label per row of X, without missing values")
        if len(np.unique(y)) < 2:
            raise ValueError("the scorecard needs both defaults and non-defaults")
        self.splits_, self.woe_, self.iv_, self.levels_, self.other_ = {}, {}, {}, {}, {}
        for name in names:
            if is_text(X[name]):  # a categorical attribute: a bin per level
                self.splits_[name] = np.array([])
                self.levels_[name], self.other_[name], self.woe_[name], self.iv_[name] = (
                    _bin_levels(X[name], y, self.min_bin_share)
                )
                continue
            trend = TRENDS[int(np.sign(self.directions[name]))]
            x = X[name].to_numpy(dtype=float)
            self.splits_[name], self.woe_[name], self.iv_[name] = _bin_feature(
                x, y, trend, self.max_n_bins, self.min_bin_share
            )
        ranked = sorted(names, key=lambda n: -self.iv_[n])
        kept = [n for n in ranked if self.iv_[n] >= self.min_iv] or ranked[:1]
        self._fit_regression(X, y, kept)
        return self

    def _fit_regression(self, X: pd.DataFrame, y: np.ndarray, names: list[str]) -> None:
        """Fit, drop the feature with the most wrongly signed coefficient, refit until none."""
        self.dropped_sign_ = []
        while True:
            self.features_ = list(names)
            W = self.transform(X)
            lr = LogisticRegression(C=self.C, max_iter=1000).fit(W.to_numpy(), y)
            coef = lr.coef_[0]
            if (coef <= 0).all() or len(names) == 1:  # a safer bin must lower the log-odds
                break
            worst = names[int(np.argmax(coef))]
            self.dropped_sign_.append(worst)
            names = [n for n in names if n != worst]
        self.coef_ = dict(zip(self.features_, map(float, coef), strict=True))
        self.intercept_ = float(lr.intercept_[0])

    def _check_params(self) -> None:
        if not self.directions:
            raise ValueError("directions must name at least one feature")
        if self.max_n_bins < 2:
            raise ValueError(f"max_n_bins must be at least 2, got {self.max_n_bins}")
        if not 0 < self.min_bin_share < 0.5:
            raise ValueError(f"min_bin_share must lie in (0, 0.5), got {self.min_bin_share}")
        if self.min_iv < 0 or self.C <= 0:
            raise ValueError(f"need min_iv >= 0 and C > 0, got {self.min_iv} and {self.C}")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the WoE of each used feature's bin (missing values: the missing bin's WoE)."""
        _require(X, self.features_)
        columns = {}
        for name in self.features_:
            if name in self.levels_:
                columns[name] = self._level_woe(name, X[name])
                continue
            x = X[name].to_numpy(dtype=float)
            slot = np.searchsorted(self.splits_[name], x, side="right")
            slot[np.isnan(x)] = len(self.woe_[name]) - 1
            columns[name] = self.woe_[name][slot]
        return pd.DataFrame(columns, index=X.index)

    def _level_woe(self, name: str, values: pd.Series) -> np.ndarray:
        """WoE of each value of a categorical feature.

        An unseen level takes the rare levels' bin (neutral where there is none); a missing
        value the missing bin.
        """
        woe, levels, other = self.woe_[name], self.levels_[name], self.other_[name]
        given = values.notna().to_numpy()
        slot = np.full(len(values), len(woe) - 1)
        slot[given] = [levels.get(str(v), other) for v in values[given]]
        return np.where(slot >= 0, woe[np.maximum(slot, 0)], 0.0)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Return the log-odds of default of each row."""
        coef = np.array([self.coef_[n] for n in self.features_])
        return self.transform(X).to_numpy() @ coef + self.intercept_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return ``[P(no default), P(default)]`` per row, as sklearn classifiers do."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def scorecard(self) -> pd.DataFrame:
        """The scorecard: one row per bin of each used feature with its WoE and log-odds points."""
        rows = []
        for name in self.features_:
            edges = [-np.inf, *self.splits_[name], np.inf]
            labels = [f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(edges, edges[1:], strict=False)]
            if name in self.levels_:
                groups: dict[int, list[str]] = {}
                for level, b in self.levels_[name].items():
                    groups.setdefault(b, []).append(level)
                labels = [" | ".join(groups[b]) for b in range(len(self.woe_[name]) - 1)]
            for label, woe in zip([*labels, "missing"], self.woe_[name], strict=True):
                rows.append((name, label, woe, self.coef_[name] * woe))
        return pd.DataFrame(rows, columns=["feature", "bin", "woe", "points"])

    def to_dict(self) -> dict:
        """Return the fitted state as plain JSON-able values."""
        return {
            "params": self.get_params(),
            "features": self.features_,
            "splits": {n: self.splits_[n].tolist() for n in self.splits_},
            "woe": {n: self.woe_[n].tolist() for n in self.woe_},
            "levels": self.levels_,
            "other_level_bin": self.other_,
            "iv": self.iv_,
            "coef": self.coef_,
            "intercept": self.intercept_,
            "dropped_sign": self.dropped_sign_,
        }

    @classmethod
    def from_dict(cls, state: dict) -> WoEScorecard:
        """Rebuild a fitted scorecard from :meth:`to_dict` output."""
        card = cls(**state["params"])
        card.features_ = list(state["features"])
        card.splits_ = {n: np.asarray(v, dtype=float) for n, v in state["splits"].items()}
        card.woe_ = {n: np.asarray(v, dtype=float) for n, v in state["woe"].items()}
        card.iv_ = {n: float(v) for n, v in state["iv"].items()}
        card.coef_ = {n: float(v) for n, v in state["coef"].items()}
        card.intercept_ = float(state["intercept"])
        card.dropped_sign_ = list(state.get("dropped_sign", []))
        card.levels_ = {n: dict(v) for n, v in state.get("levels", {}).items()}
        card.other_ = {n: int(v) for n, v in state.get("other_level_bin", {}).items()}
        return card


class BaselinePD:
    """The scorecard's log-odds mapped to a PD by a calibrator fitted on a later window.

    Args:
        scorecard: The fitted scorecard.
        calibrator: Fitted on the scorecard's log-odds of the calibration window, as the
            gradient-boosted model's is, so that both models meet the test window alike.
    """

    def __init__(self, scorecard: WoEScorecard, calibrator: PDCalibrator) -> None:
        self.scorecard = scorecard
        self.calibrator = calibrator

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the calibrated 12-month PD of each row."""
        return self.calibrator.predict(self.scorecard.decision_function(frame))


def cross_fitted_decisions(
    card: WoEScorecard, X: pd.DataFrame, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Each row's log-odds from a copy of ``card`` fitted on the other folds' rows.

    What a calibrator of a scorecard fitted on every row can learn from (no row is scored by a
    card that saw it); ``folds`` as :func:`models.train.customer_folds` gives them.
    """
    y = np.asarray(y, dtype=float)
    out = np.empty(len(X))
    for fit, held in folds:
        fold_card = clone(card).fit(X.iloc[fit], y[fit])
        out[held] = fold_card.decision_function(X.iloc[held])
    return out


def _require(X: pd.DataFrame, names: list[str]) -> None:
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise ValueError(f"input lacks scorecard feature columns: {missing}")
