"""LightGBM training with monotone constraints from the feature catalogue."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.catalogue import monotone_constraints


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
) -> dict:
    """LightGBM parameters for a deterministic, monotone-constrained binary model."""
    return {
        "objective": "binary",
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "max_depth": max_depth,
        "min_data_in_leaf": min_child_samples,
        "lambda_l2": reg_lambda,
        "feature_fraction": feature_fraction,
        "bagging_fraction": bagging_fraction,
        "bagging_freq": 1 if bagging_fraction < 1 else 0,
        "monotone_constraints": monotone_constraints(feature_names),
        "monotone_constraints_method": "intermediate",
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
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
