"""LightGBM training with monotone constraints from the feature catalogue."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, monotone_constraints, spec_for
from models.stability import feature_stability

log = logging.getLogger("models.train")
PROGRESS_ROUNDS = 100  # a progress line every this many boosting rounds


def lgb_params(
    *,
    seed: int,
    learning_rate: float,
    num_leaves: int,
    max_depth: int,
    min_child_samples: int,
    reg_lambda: float,
    feature_fraction: float,
    bagging_fraction: float,
    feature_names: list[str],
    num_threads: int = 0,
    attributes: Mapping[str, FeatureSpec] | None = None,
) -> dict:
    """LightGBM parameters for a deterministic, monotone-constrained binary model.

    ``num_threads`` 0 lets LightGBM use every core; the model does not depend on it.
    ``attributes``: the user's attribute entries (their directions constrain the trees). A
    categorical attribute's level needs as many rows as a leaf to be split off
    (``min_data_per_group``), not LightGBM's fixed 100, which a small book never reaches.
    """
    return {
        "objective": "binary",
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "max_depth": max_depth,
        "min_data_in_leaf": min_child_samples,
        "min_data_per_group": min_child_samples,
        "lambda_l2": reg_lambda,
        "feature_fraction": feature_fraction,
        "bagging_fraction": bagging_fraction,
        "bagging_freq": 1 if bagging_fraction < 1 else 0,
        "monotone_constraints": monotone_constraints(feature_names, attributes),
        "monotone_constraints_method": "intermediate",
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": num_threads,
        "verbosity": -1,
    }


def train_booster(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    feature_names: list[str],
    params: dict,
    num_boost_round: int,
    early_stopping_rounds: int,
) -> tuple[lgb.Booster, dict]:
    """Fit on ``train``, stopping early on the log-loss of ``valid``.

    Args:
        train: Rows with the features and a 0/1 ``label``.
        valid: Later rows of the training window for early stopping.
        feature_names: Model features, in order.
        params: From :func:`lgb_params`.
        num_boost_round: Most trees.
        early_stopping_rounds: Stop after this many rounds without improvement.

    Returns:
        The booster (trimmed to the best iteration) and a record of the fit.
    """
    for name, frame in (("train", train), ("valid", valid)):
        if frame["label"].isna().any():
            raise ValueError(f"{name} rows must all be labelled")
        if frame["label"].nunique() < 2:
            raise ValueError(f"{name} rows need both defaults and non-defaults")
    dtrain = lgb.Dataset(train[feature_names], label=train["label"], free_raw_data=False)
    dvalid = lgb.Dataset(valid[feature_names], label=valid["label"], reference=dtrain)
    history: dict = {}
    booster = lgb.train(
        {**params, "metric": ["binary_logloss", "auc"]},
        dtrain,
        num_boost_round=num_boost_round,
        valid_sets=[dvalid],
        valid_names=["valid"],
        callbacks=[
            lgb.early_stopping(early_stopping_rounds, verbose=False),
            lgb.record_evaluation(history),
            _progress,
        ],
    )
    best = booster.best_iteration or num_boost_round
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    record = {
        "best_iteration": int(best),
        "valid_logloss": float(history["valid"]["binary_logloss"][best - 1]),
        "valid_auc": float(history["valid"]["auc"][best - 1]),
        "n_train": int(len(train)),
        "n_valid": int(len(valid)),
        "train_default_rate": float(np.mean(train["label"])),
    }
    return booster, record


def early_stopping_split(
    rows: pd.DataFrame,
    validation_months: int,
    validation_share: float,
    seed: int,
    hold_out_customers: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the training window into fitting rows and early-stopping rows.

    The latest ``validation_months`` as-of months stop early, so the booster is stopped on
    rows later than those it learns from. With ``hold_out_customers`` (a panel, whose
    companies are in every period: a booster would be stopped on companies it has learnt), a
    seeded ``validation_share`` of the customers, stratified by whether the customer defaults,
    is also held out of fitting: their latest months stop early, the others' earlier months
    are fitted. A window with no more months than ``validation_months`` (data observed at one
    date) holds out that share of its customers, all of a customer's rows on one side.

    Returns:
        ``(fit, valid)``.
    """
    months = rows["month"]
    several = months.nunique() > validation_months
    later = (months > months.max() - validation_months).to_numpy()
    if several and not hold_out_customers:
        return rows[~later], rows[later]
    outcome = rows.groupby(rows["customer_id"].astype(str))["label"].max().sort_index()
    rng = np.random.default_rng(seed)
    held: list[str] = []
    for _, ids in outcome.groupby(outcome):
        chosen = rng.permutation(ids.index.to_numpy())
        held += list(chosen[: int(round(validation_share * len(chosen)))])
    valid = rows["customer_id"].astype(str).isin(held).to_numpy()
    if not several:
        return rows[~valid], rows[valid]
    return rows[~valid & ~later], rows[valid & later]


def customer_folds(
    rows: pd.DataFrame, n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_folds`` cross-fitting folds of ``rows`` by customer, stratified by outcome.

    All of a customer's rows fall in one fold, so no customer is scored by a model that learnt
    from it; customers are dealt to folds in a seeded order, defaulters and the others apart,
    so each fold holds its share of both.

    Returns:
        ``[(fit positions, held-out positions), ...]``, positions into ``rows``.
    """
    if n_folds < 2:
        raise ValueError(f"cross-fitting needs at least 2 folds, got {n_folds}")
    ids = rows["customer_id"].astype(str)
    outcome = rows.groupby(ids)["label"].max().sort_index()
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for _, group in outcome.groupby(outcome):
        for position, customer in enumerate(rng.permutation(group.index.to_numpy())):
            fold_of[customer] = position % n_folds
    fold = ids.map(fold_of).to_numpy()
    if len(np.unique(fold)) < n_folds:
        raise ValueError(f"{outcome.size} customers cannot fill {n_folds} folds")
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_folds)]


def cross_validate_booster(
    rows: pd.DataFrame,
    feature_names: list[str],
    params: dict,
    num_boost_round: int,
    early_stopping_rounds: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[lgb.Booster, dict]:
    """Boost on every fold's fitting rows, stopping all folds at the best mean held-out score.

    Returns:
        The first fold's booster and a fit record like :func:`train_booster`'s: the best
        iteration and the folds' mean held-out AUC and log-loss there (``valid_*``), with
        ``n_train`` the rows learnt from.
    """
    if rows["label"].isna().any() or rows["label"].nunique() < 2:
        raise ValueError("cross-fitted rows must be labelled, with defaults and non-defaults")
    data = lgb.Dataset(rows[feature_names], label=rows["label"], free_raw_data=False)
    history = lgb.cv(
        {**params, "metric": ["binary_logloss", "auc"]},
        data,
        num_boost_round=num_boost_round,
        folds=folds,
        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)],
        return_cvbooster=True,
    )
    best = len(history["valid auc-mean"])
    return history["cvbooster"].boosters[0], {
        "best_iteration": int(best),
        "valid_logloss": float(history["valid binary_logloss-mean"][best - 1]),
        "valid_auc": float(history["valid auc-mean"][best - 1]),
        "n_train": int(len(rows)),
        "n_valid": int(len(rows)),
        "train_default_rate": float(np.mean(rows["label"])),
    }


def fit_rounds(rows: pd.DataFrame, feature_names: list[str], params: dict, rounds: int):
    """A booster of exactly ``rounds`` trees on all of ``rows`` (no early stopping)."""
    data = lgb.Dataset(rows[feature_names], label=rows["label"])
    return lgb.train(params, data, num_boost_round=rounds)


def cross_fitted_scores(
    rows: pd.DataFrame,
    feature_names: list[str],
    params: dict,
    rounds: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Each row's raw score from the booster of its fold's other customers (``rounds`` trees).

    The scores a calibrator can learn from when every customer is also learnt from: none is
    scored by a model that saw it, and each fold's model is the final one's recipe on
    ``(k-1)/k`` of the rows.
    """
    raw = np.empty(len(rows))
    for fit, held in folds:
        booster = fit_rounds(rows.iloc[fit], feature_names, params, rounds)
        raw[held] = booster.predict(rows.iloc[held][feature_names], raw_score=True)
    return raw


def unstable_features(
    earlier: pd.DataFrame, later: pd.DataFrame, names: list[str], max_psi: float, n_bins: int = 10
) -> dict[str, float]:
    """Features whose distribution shifts inside the training window, with their PSI.

    A feature whose values move between the earlier and the later months of the training window
    (a cycle index level, a count of months since the data began) ties its learned effect to the
    months it was seen in, and a tree extends its last leaf flat to values it never saw: its
    effect does not carry over to later windows.

    Args:
        earlier: The fitting months of the training window.
        later: Its latest months (those used for early stopping).
        names: Features to check.
        max_psi: Largest population stability index (``later`` against ``earlier``) kept.
        n_bins: PSI bins.

    Returns:
        ``{feature: psi}`` of the features above ``max_psi``, least stable first.
    """
    table = feature_stability(earlier[names], later[names], n_bins)
    shifted = table[table["psi"] > max_psi]
    return dict(zip(shifted["feature"], shifted["psi"].astype(float), strict=True))


# LightGBM's default tree shape: the extra trial of a search with ``train.search_plain``
PLAIN_TREES = {"num_leaves": 31, "max_depth": -1, "min_child_samples": 20}


def search_grid(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, in a fixed order (the grid's keys, then values)."""
    if not grid:
        return [{}]
    keys = list(grid)
    empty = [k for k in keys if not grid[k]]
    if empty:
        raise ValueError(f"search grid keys {empty} have no values")
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def choose_trial(trials: pd.DataFrame, auc_tolerance: float) -> int:
    """Index of the simplest trial whose early-stopping AUC is within tolerance of the best.

    Simplest: shallowest trees first (``max_depth``, -1 counting as unbounded), then fewest
    leaves; among trees of one shape the higher AUC, then most rows per leaf. Explanations
    (SHAP reason codes) cost more with deeper trees, so depth is bought only with accuracy; the
    rows per leaf cost nothing, so they are the search's to choose.
    """
    if trials.empty:
        raise ValueError("no trials to choose from")
    best = trials["valid_auc"].max()
    near = trials[trials["valid_auc"] >= best - auc_tolerance]
    depth = near["max_depth"].where(near["max_depth"] > 0, np.inf)
    key = pd.DataFrame(
        {
            "depth": depth,
            "leaves": near["num_leaves"],
            "auc": -near["valid_auc"],
            "rows": -near["min_child_samples"],
        }
    )
    return int(key.sort_values(list(key.columns), kind="stable").index[0])


def tune_booster(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    feature_names: list[str],
    settings: dict,
    grid: dict[str, list],
    num_boost_round: int,
    early_stopping_rounds: int,
    auc_tolerance: float,
    attributes: Mapping[str, FeatureSpec] | None = None,
    folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    extra_points: Sequence[Mapping] = (),
) -> tuple[lgb.Booster, dict, pd.DataFrame]:
    """Train one booster per grid point on ``train``, keep the one :func:`choose_trial` picks.

    Only the training window is used: ``valid`` is its latest months, which stop each trial
    early and score it. With ``folds`` (cross-fitting, ``valid`` unused), each trial is
    cross-validated over them instead (:func:`cross_validate_booster`) and the chosen one is
    refitted on all of ``train`` at its best iteration.

    Args:
        train: Fitting rows with a 0/1 ``label``.
        valid: Later rows of the training window.
        feature_names: Model features, in order.
        settings: Keyword arguments of :func:`lgb_params` except ``feature_names``; the grid's
            keys override them.
        grid: Values to try per setting, e.g. ``{"max_depth": [2, 3, 4]}``.
        num_boost_round: Most trees.
        early_stopping_rounds: Stop after this many rounds without improvement.
        auc_tolerance: How much early-stopping AUC a simpler trial may give up.
        attributes: The user's attribute entries (:func:`lgb_params`).
        folds: Cross-fitting folds of ``train`` (:func:`customer_folds`), or ``None``.
        extra_points: Settings to try besides the grid's combinations (e.g.
            :data:`PLAIN_TREES`), each with the grid's keys it lacks at their ``settings``.

    Returns:
        The chosen booster, its fit record (with its ``settings``) and one row per trial
        (settings, best iteration, early-stopping AUC and log-loss, ``chosen``).
    """
    unknown = set(grid) - set(settings)
    if unknown:
        raise ValueError(f"search grid keys {sorted(unknown)} are not training settings")
    points = search_grid(grid)
    points += [point for point in extra_points if {**settings, **point} not in (
        {**settings, **p} for p in points
    )]  # fmt: skip
    results, boosters = [], []
    for number, point in enumerate(points, start=1):
        trial = {**settings, **point}
        params = lgb_params(**trial, feature_names=feature_names, attributes=attributes)
        started = time.perf_counter()
        if folds is None:
            booster, record = train_booster(
                train, valid, feature_names, params, num_boost_round, early_stopping_rounds
            )
        else:
            booster, record = cross_validate_booster(
                train, feature_names, params, num_boost_round, early_stopping_rounds, folds
            )
        boosters.append((booster, {**record, "settings": trial}))
        shown = {k: v for k, v in trial.items() if k not in ("seed", "num_threads")}
        results.append({**shown, **_trial_scores(record)})
        if not booster.feature_importance("split").any():  # no tree split on anything
            log.warning(
                "trial %d (%s) made no split: its leaves need more rows than the data gives",
                number, point,
            )  # fmt: skip
        best = max(r["valid_auc"] for r in results)
        log.info(
            "trial %d of %d (%s): %d trees, early-stopping AUC %.4f (best so far %.4f), %.0f s",
            number, len(points), ", ".join(f"{k} {v}" for k, v in point.items()),
            record["best_iteration"], record["valid_auc"], best, time.perf_counter() - started,
        )  # fmt: skip
    trials = pd.DataFrame(results)
    chosen = choose_trial(trials, auc_tolerance)
    trials["chosen"] = trials.index == chosen
    booster, record = boosters[chosen]
    if folds is not None:  # the folds' recipe on every row
        settings = record["settings"]
        params = lgb_params(**settings, feature_names=feature_names, attributes=attributes)
        # as many trees as the folds' boosters: their cross-fitted scores calibrate it, so its
        # scores must spread as theirs do (4/3 the trees for 4/3 the rows spread them wider:
        # the test calibration error of the Taiwan data rose from 0.014 to 0.022)
        booster = fit_rounds(train, feature_names, params, record["best_iteration"])
    return booster, record, trials


def _progress(env: lgb.callback.CallbackEnv) -> None:
    """Log the early-stopping scores every :data:`PROGRESS_ROUNDS` rounds."""
    if (env.iteration + 1) % PROGRESS_ROUNDS:
        return
    scores = {name: value for _, name, value, *_ in env.evaluation_result_list}
    log.info(
        "round %d: early-stopping AUC %.4f, log-loss %.4f",
        env.iteration + 1, scores.get("auc", float("nan")),
        scores.get("binary_logloss", float("nan")),
    )  # fmt: skip


def _trial_scores(record: dict) -> dict:
    keys = ("best_iteration", "valid_auc", "valid_logloss")
    return {k: record[k] for k in keys}


def booster_levels(booster: lgb.Booster) -> dict[str, list[str]]:
    """The levels of each categorical feature of ``booster``, as it codes them (position).

    LightGBM keeps them in the model (``pandas_categorical``) in the order of its categorical
    features; which features those are is in its parameters once loaded, else in its dump.
    """
    levels = booster.pandas_categorical or []
    if not levels:
        return {}
    names = booster.feature_name()
    index = booster.params.get("categorical_feature")
    if index is None:
        infos = booster.dump_model()["feature_infos"]
        index = [i for i, name in enumerate(names) if infos[name].get("values")]
    elif isinstance(index, str):
        index = [int(i) for i in index.split(",") if i.strip()]
    elif isinstance(index, int):
        index = [index]
    return {names[i]: list(cats) for i, cats in zip(sorted(index), levels, strict=True)}


def gain_importance(booster: lgb.Booster) -> pd.DataFrame:
    """Gain and split count per feature of ``booster``, with its family, by gain (highest first)."""
    names = booster.feature_name()
    return pd.DataFrame(
        {
            "feature": names,
            "family": [spec_for(n).family for n in names],
            "gain": booster.feature_importance("gain"),
            "splits": booster.feature_importance("split"),
        }
    ).sort_values("gain", ascending=False)
