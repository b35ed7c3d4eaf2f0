"""The model recipe: stability screen, grid search with early stopping, then calibration.

One function per fit, called by the ``train`` and ``calibrate`` stages and by the behavioural
tests (``tests/model``), so that the tests test the model that ships. The settings are plain
frozen dataclasses; the stages fill them from the params file.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.attributes import as_categories, categorical_levels, level_codes
from features.catalogue import ATTRIBUTE_PREFIX, FEATURE_NAMES, FeatureSpec, spec_for
from models import metrics
from models.calibration import METHODS, PDCalibrator, choose_method
from models.master_scale import MasterScale
from models.pd_model import PDModel
from models.train import (
    PLAIN_TREES,
    booster_levels,
    cross_fitted_scores,
    customer_folds,
    early_stopping_split,
    lgb_params,
    tune_booster,
    unstable_features,
)

# the settings lgb_params takes, in its order (the trials table lists them in this order)
LGB_SETTINGS = (
    "seed",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "reg_lambda",
    "feature_fraction",
    "bagging_fraction",
)
SMALL_FIT_ROWS = 20_000
MIN_LEAF_ROWS = 5
log = logging.getLogger("models.recipe")
SEARCH_RULE = (
    "highest early-stopping (or cross-validated) AUC; within the tolerance (scaled down with "
    "the fitting rows below leaf_reference_rows), the shallowest trees, then the fewest "
    "leaves, then the highest AUC"
)


@dataclass(frozen=True, kw_only=True)
class BoosterSettings:
    """How :func:`fit_booster` fits; the names are the ``train`` keys of the params file.

    Attributes:
        seed: LightGBM's seed, and the seed of a one-date early-stopping split.
        learning_rate: Shrinkage per tree.
        num_leaves: Most leaves per tree.
        max_depth: Deepest tree (-1: unbounded).
        min_child_samples: Fewest rows per leaf.
        reg_lambda: L2 penalty on leaf values.
        feature_fraction: Share of the features each tree sees.
        bagging_fraction: Share of the rows each tree sees (1: all, no bagging).
        num_boost_round: Most trees.
        early_stopping_rounds: Stop after this many rounds without improvement.
        validation_months: Latest as-of months of the window that stop early.
        validation_share: Data of one as-of date, or ``validation_customers``: share of the
            customers held out of fitting to stop early.
        validation_customers: Also hold customers out of fitting where the window has several
            months (a panel, whose companies are in every period).
        max_feature_psi: Largest PSI (early-stopping months against fitting months) a feature
            may have and stay in; ``None``: no screen.
        psi_bins: Bins of that PSI.
        search: Values to try per setting (every combination); ``{}``: the settings above.
        search_auc_tolerance: Early-stopping AUC a shallower trial may give up (for
            ``leaf_reference_rows`` fitting rows; a smaller window scales it as the leaf sizes).
        search_plain: Below ``leaf_reference_rows`` fitting rows, also try LightGBM's default
            tree shape (:data:`models.train.PLAIN_TREES`), so that the search of a small book
            never misses what a plain LightGBM finds (on a large one its explanations cost
            several times more per row, and its AUC must beat the tolerance as any trial's).
        screen_kinds: Catalogue kinds (``features.catalogue.KINDS``) the screen judges; a
            feature of another kind stays in whatever its PSI.
        leaf_reference_rows: Fitting rows the leaf sizes (``min_child_samples``, searched or
            not) are set for; a smaller window scales them (:func:`scale_leaf_sizes`);
            ``None``: as given.
    """

    seed: int
    learning_rate: float
    num_leaves: int
    max_depth: int
    min_child_samples: int
    reg_lambda: float
    feature_fraction: float
    bagging_fraction: float
    num_boost_round: int
    early_stopping_rounds: int
    validation_months: int
    validation_share: float
    max_feature_psi: float | None
    psi_bins: int
    search: Mapping[str, Sequence[int | float]]
    search_auc_tolerance: float
    # a relative feature (a change, a position against its own history) moves with the cycle
    # by design and means the same in every phase: its shift is no sign of a level out of range
    screen_kinds: Sequence[str] = ("customer", "level")
    leaf_reference_rows: int | None = None
    validation_customers: bool = False
    search_plain: bool = False


@dataclass(frozen=True, kw_only=True)
class CalibratorSettings:
    """How :func:`fit_calibrator` fits; the first five are the ``calibrate`` keys.

    Attributes:
        method: ``"auto"`` (the method of the lowest cross-validated ``criterion``) or one of
            :data:`models.calibration.METHODS`.
        criterion: ``"log_loss"`` or ``"brier"``: what ``"auto"`` minimises.
        cv_folds: Folds of the cross-validation.
        pd_floor: Smallest PD given.
        min_step_events: Centred isotonic: defaults and non-defaults each block holds at least.
        seed: Seed of the folds.
        report_bins: Bins of the expected calibration error in the report.
    """

    method: str
    criterion: str
    cv_folds: int
    pd_floor: float
    min_step_events: int
    seed: int
    report_bins: int


def model_features(rows: pd.DataFrame) -> list[str]:
    """Catalogue features present in ``rows`` (catalogue order), then attributes (sorted)."""
    present = [name for name in FEATURE_NAMES if name in rows.columns]
    return present + sorted(c for c in rows.columns if c.startswith(ATTRIBUTE_PREFIX))


def screen_features(
    fit: pd.DataFrame,
    valid: pd.DataFrame,
    names: list[str],
    max_psi: float | None,
    n_bins: int,
    kinds: Sequence[str] | None = None,
) -> tuple[list[str], dict[str, float]]:
    """Features kept by the stability screen, and those left out with their PSI.

    Args:
        fit: The fitting months of the training window.
        valid: Its early-stopping months.
        names: Candidate features, in order.
        max_psi: Largest PSI kept; ``None`` keeps every feature.
        n_bins: PSI bins.
        kinds: Catalogue kinds judged (``features.catalogue.KINDS``); features of other kinds
            are kept unjudged. ``None``: every feature is judged.

    Returns:
        ``(kept, {left_out: psi})``; ``kept`` keeps the order of ``names``.
    """
    judged = [n for n in names if kinds is None or spec_for(n).kind in kinds]
    if max_psi is None or not judged:
        return list(names), {}
    excluded = unstable_features(fit, valid, judged, max_psi, n_bins)
    return [n for n in names if n not in excluded], excluded


def row_factor(n_rows: int, reference: int | None) -> float:
    """How far settings made for ``reference`` fitting rows shrink for ``n_rows``: at most 1.

    The square root of the row ratio below ``reference``, else 1 (``None``: 1).
    """
    if reference is None or n_rows >= reference:
        return 1.0
    return math.sqrt(n_rows / reference)


def scale_leaf_sizes(leaf: int, grid: dict[str, list], n_rows: int, reference: int | None):
    """Leaf sizes for ``n_rows`` fitting rows, given sizes set for ``reference`` rows.

    A leaf of 300 rows suits tens of thousands of rows; on 450 it leaves trees that cannot
    split. Below ``reference`` rows every ``min_child_samples`` (the setting and the searched
    values) shrinks with the square root of the row ratio, to at least :data:`MIN_LEAF_ROWS`;
    at or above it, nothing changes.

    Returns:
        ``(min_child_samples, grid)``, the grid's values sorted and distinct.
    """
    factor = row_factor(n_rows, reference)
    if factor == 1.0:
        return leaf, grid

    def scaled(value: float) -> int:
        return max(MIN_LEAF_ROWS, round(value * factor))

    if "min_child_samples" in grid:
        grid = {**grid, "min_child_samples": sorted({scaled(v) for v in grid["min_child_samples"]})}
    return scaled(leaf), grid


def fit_threads(n_rows: int) -> int:
    """LightGBM threads for fitting ``n_rows``: one for small data, else every core (0)."""
    # on small data, starting and synchronising threads costs more than the work (and a busy
    # machine makes OpenMP threads spin); the trees are the same either way
    return 1 if n_rows < SMALL_FIT_ROWS else 0


def fit_booster(
    rows: pd.DataFrame,
    features: list[str],
    settings: BoosterSettings,
    attributes: Mapping[str, FeatureSpec] | None = None,
    cross_fit_folds: int = 0,
) -> tuple[lgb.Booster, dict]:
    """Screen, search and early-stop a booster on the training window ``rows``.

    The latest months of ``rows`` (of customers held out of fitting, with
    ``validation_customers``) stop each trial early (see
    :func:`models.train.early_stopping_split`); features of ``settings.screen_kinds`` whose
    distribution shifts between the fitting and those months are left out; every point of
    ``settings.search`` is trained and the shallowest trial within ``search_auc_tolerance`` of
    the best early-stopping AUC wins.

    With ``cross_fit_folds`` (data of one date split by customer, whose calibration customers
    are learnt from too), each trial is cross-validated over that many folds of customers
    (:func:`models.train.customer_folds`; no rows are set aside, nothing to screen) and the
    chosen one is refitted on every row at its best iteration;
    :func:`fit_calibrator` then learns from the same folds' cross-fitted scores.

    Args:
        rows: Training-window rows with the features, ``customer_id``, ``month`` and a 0/1
            ``label``. Not modified.
        features: Candidate features, in order (see :func:`model_features`); a text attribute
            is categorical (its levels: those of ``rows``, kept in the booster).
        settings: The recipe's settings.
        attributes: The user's attribute entries (``features.attributes.attribute_specs``):
            their directions constrain the trees.
        cross_fit_folds: Folds of customers to cross-validate over; 0: early stopping on
            held-out months or customers.

    Returns:
        The booster and its record: best iteration, early-stopping scores, row counts and
        default rate, then ``features`` (kept), ``excluded_features`` (with their PSI),
        ``screen_kinds`` (the kinds the screen judged), ``params`` (LightGBM's) and ``search``
        (grid, tolerance, rule and every trial).

    Raises:
        ValueError: The window leaves no rows to fit or to stop early, a side lacks defaults
            or non-defaults, or the search has keys that are not settings.
    """
    s = settings
    # categorical attributes: their levels in the training window, split on natively
    rows = as_categories(rows, categorical_levels(rows, features))
    if cross_fit_folds:
        return _cross_fit_booster(rows, features, s, attributes, cross_fit_folds)
    fit, valid = early_stopping_split(
        rows, s.validation_months, s.validation_share, s.seed, s.validation_customers
    )
    if fit.empty or valid.empty:
        raise ValueError(
            f"the training window leaves {len(fit)} rows to fit and {len(valid)} to stop early; "
            "it needs both (validation_months, validation_share)"
        )
    names, excluded = screen_features(
        fit, valid, features, s.max_feature_psi, s.psi_bins, s.screen_kinds
    )
    return _search(fit, valid, names, s, attributes, len(fit), None, excluded)


def _cross_fit_booster(rows, features, s: BoosterSettings, attributes, n_folds: int):
    folds = customer_folds(rows, n_folds, s.seed)
    n_fit = len(rows) * (n_folds - 1) // n_folds  # what each fold's booster learns from
    booster, record = _search(rows, None, features, s, attributes, n_fit, folds, {})
    return booster, record | {"cross_fit_folds": n_folds}


def _search(fit, valid, names, s: BoosterSettings, attributes, n_fit: int, folds, excluded):
    """The grid search of :func:`fit_booster` on ``names``: the booster and its record."""
    lgb_settings = {k: getattr(s, k) for k in LGB_SETTINGS} | {"num_threads": fit_threads(n_fit)}
    leaf, grid = scale_leaf_sizes(
        s.min_child_samples, {k: list(v) for k, v in s.search.items()}, n_fit,
        s.leaf_reference_rows,
    )  # fmt: skip
    if leaf != s.min_child_samples or grid != s.search:
        log.info("leaf sizes scaled to %d fitting rows: %s", n_fit, grid or leaf)
    lgb_settings["min_child_samples"] = leaf
    # the tolerance buys explanation speed, which matters with the book's size: a smaller
    # window spends less of its AUC on it (scaled as the leaf sizes are), and also tries the
    # plain tree shape, whose explanations cost several times more per row
    factor = row_factor(n_fit, s.leaf_reference_rows)
    tolerance = s.search_auc_tolerance * factor
    plain = [PLAIN_TREES] if s.search_plain and factor < 1 else []
    if factor < 1:
        log.info(
            "search AUC tolerance scaled to %d fitting rows: %.4f%s", n_fit, tolerance,
            "; LightGBM's default tree shape tried too" if plain else "",
        )  # fmt: skip
    booster, record, trials = tune_booster(
        fit,
        valid,
        names,
        lgb_settings,
        grid,
        s.num_boost_round,
        s.early_stopping_rounds,
        tolerance,
        attributes,
        folds,
        plain,
    )
    chosen = record["settings"]
    search = {
        "grid": grid,
        "plain_trial": plain[0] if plain else None,
        "auc_tolerance": tolerance,
        "rule": SEARCH_RULE,
        "trials": json.loads(trials.to_json(orient="records")),  # plain Python numbers
    }
    fitted = {k: v for k, v in record.items() if k != "settings"}
    return booster, fitted | {
        "features": names,
        "excluded_features": excluded,
        "screen_kinds": list(s.screen_kinds),
        "params": lgb_params(**chosen, feature_names=names, attributes=attributes),
        "search": search,
    }


def fit_calibrator(
    booster: lgb.Booster,
    rows: pd.DataFrame,
    settings: CalibratorSettings,
    train_record: Mapping | None = None,
) -> tuple[PDCalibrator, dict]:
    """Fit the map from the booster's raw score to a PD on the calibration window ``rows``.

    Args:
        booster: The trained booster (raw score = log-odds).
        rows: Calibration-window rows with the booster's features and a 0/1 ``label``. Not
            modified. For a cross-fitted booster, the rows it was fitted on.
        settings: The recipe's settings.
        train_record: :func:`fit_booster`'s record. Where it has ``cross_fit_folds``, the
            booster learnt from ``rows``; the calibrator learns from their cross-fitted scores
            (each fold's booster, the chosen settings and iterations, on the other folds;
            :func:`models.train.cross_fitted_scores`) instead of the booster's own.

    Returns:
        The fitted calibrator and its report: method used and requested, the criterion,
        cross-validated log loss and Brier of each method, rows, defaults, Brier / calibration
        error / mean PD before and after calibration, the observed default rate, and the
        distinct scores and PDs on the window.

    Raises:
        ValueError: The window lacks defaults or non-defaults, or the method is unknown.
    """
    s = settings
    if s.method != "auto" and s.method not in METHODS:
        raise ValueError(f"method must be 'auto' or one of {METHODS}, got {s.method!r}")
    y = rows["label"].to_numpy()
    if len(np.unique(y)) < 2:
        raise ValueError("the calibration window needs both defaults and non-defaults")
    raw = calibration_scores(booster, rows, train_record or {}, s.seed)
    best, cv = choose_method(raw, y, s.cv_folds, s.seed, s.criterion, s.pd_floor, s.min_step_events)
    method = best if s.method == "auto" else s.method
    calibrator = PDCalibrator(method, s.pd_floor, s.min_step_events).fit(raw, y)
    pd_values = calibrator.predict(raw)
    report = {
        "method": method,
        "requested": s.method,
        "criterion": s.criterion,
        "cv_log_loss": {m: scores["log_loss"] for m, scores in cv.items()},
        "cv_brier": {m: scores["brier"] for m, scores in cv.items()},
        "rows": len(rows),
        "defaults": int(y.sum()),
        "before": _calibration_scores(y, 1 / (1 + np.exp(-raw)), s.report_bins),
        "after": _calibration_scores(y, pd_values, s.report_bins),
        "observed_rate": float(y.mean()),
        "distinct_scores": len(np.unique(raw)),
        "distinct_pds": len(np.unique(pd_values)),
        "cross_fit_folds": (train_record or {}).get("cross_fit_folds"),
    }
    return calibrator, report


def calibration_scores(
    booster: lgb.Booster, rows: pd.DataFrame, train_record: Mapping, seed: int
) -> np.ndarray:
    """The raw scores a calibrator learns from: the booster's, or cross-fitted ones.

    Cross-fitted (``train_record["cross_fit_folds"]``): the folds of :func:`fit_booster`
    (same customers, same ``seed``), each scored by a booster of the chosen parameters and
    iterations fitted on the others.
    """
    names, levels = booster.feature_name(), booster_levels(booster)
    n_folds = train_record.get("cross_fit_folds")
    if not n_folds:
        return booster.predict(level_codes(rows, names, levels).to_numpy(), raw_score=True)
    folds = customer_folds(rows, n_folds, seed)
    params = dict(train_record["params"])
    rounds = int(train_record["best_iteration"])
    return cross_fitted_scores(as_categories(rows, levels), names, params, rounds, folds)


def fit_pd_model(
    train_rows: pd.DataFrame,
    calibration_rows: pd.DataFrame,
    features: list[str],
    booster_settings: BoosterSettings,
    calibrator_settings: CalibratorSettings,
    scale: MasterScale,
    n_reasons: int = 3,
    attributes: Mapping[str, FeatureSpec] | None = None,
    cross_fit_folds: int = 0,
) -> tuple[PDModel, dict]:
    """:func:`fit_booster` on the training window, then :func:`fit_calibrator` on the next.

    With ``cross_fit_folds``, both learn from ``train_rows`` (cross-fitted) and
    ``calibration_rows`` is unused.

    Returns:
        The PD model and ``{"train": booster record, "calibration": calibration report}``.
    """
    booster, record = fit_booster(
        train_rows, features, booster_settings, attributes, cross_fit_folds
    )
    rows = train_rows if cross_fit_folds else calibration_rows
    calibrator, report = fit_calibrator(booster, rows, calibrator_settings, record)
    model = PDModel(booster, calibrator, scale, n_reasons, attributes=attributes)
    return model, {"train": record, "calibration": report}


def _calibration_scores(y: np.ndarray, pd_values: np.ndarray, bins: int) -> dict:
    return {
        "brier": metrics.brier(y, pd_values),
        "ece": metrics.expected_calibration_error(y, pd_values, bins),
        "mean_pd": float(pd_values.mean()),
    }
