"""Fast TreeSHAP equals LightGBM's pred_contrib, including rows with missing values."""

import pickle

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models import treeshap
from models.treeshap import contributions, tabulate

TOLERANCE = 1e-6


def _data(seed: int = 0, n: int = 3000, n_features: int = 6, nan_share: float = 0.2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    X[:, 1] = np.round(X[:, 1])  # many exact zeros: zero-as-missing splits see them
    y = (rng.random(n) < 1 / (1 + np.exp(1 - X[:, 0] + 0.5 * X[:, 2] * X[:, 3]))).astype(int)
    X[rng.random(X.shape) < nan_share] = np.nan
    return X, y


def _booster(X, y, rounds: int = 40, **params) -> lgb.Booster:
    base = {"objective": "binary", "verbose": -1, "seed": 1, "deterministic": True}
    return lgb.train({**base, **params}, lgb.Dataset(X, y), num_boost_round=rounds)


def _check(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    tables = tabulate(booster)
    assert tables is not None
    fast = contributions(booster, X, tables)
    exact = booster.predict(X, pred_contrib=True)
    assert fast.shape == exact.shape
    assert np.abs(fast - exact).max() <= TOLERANCE
    # and the values add up to the raw score
    np.testing.assert_allclose(fast.sum(axis=1), booster.predict(X, raw_score=True), atol=1e-9)
    return fast


@pytest.mark.parametrize(
    "params",
    [
        {"max_depth": 3, "num_leaves": 7},  # the shape the pipeline trains
        {"num_leaves": 31},  # leaf-wise, unbounded depth: features repeat along paths
        {"num_leaves": 15, "max_depth": 5, "monotone_constraints": [1, 0, -1, 0, 0, 0]},
        {"num_leaves": 15, "zero_as_missing": True},  # missing_type Zero
        {"num_leaves": 15, "use_missing": False},  # missing_type None: NaN is taken as 0.0
        {"num_leaves": 7, "learning_rate": 0.3, "min_data_in_leaf": 200},
    ],
)
def test_fast_treeshap_equals_pred_contrib_with_missing_values(params):
    X, y = _data()
    booster = _booster(X, y, **params)
    test, _ = _data(seed=1, n=2000, nan_share=0.3)
    test[:50] = np.nan  # rows missing everything
    test[50:100, 1] = 0.0
    fast = _check(booster, test)
    assert np.abs(fast[:, :-1]).max() > 0  # not trivially zero


def test_one_feature_many_times_on_a_path():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-np.sin(3 * X[:, 0])))).astype(int)
    booster = _booster(X, y, num_leaves=31, max_depth=8, min_data_in_leaf=5)
    X[::7, 0] = np.nan
    _check(booster, X)


def test_trees_of_a_single_leaf_only_move_the_bias():
    X, _ = _data(n=500)
    y = np.zeros(len(X), dtype=int)
    y[:5] = 1  # too few events to split: every tree is one leaf
    booster = _booster(X, y, rounds=5, min_data_in_leaf=400)
    fast = _check(booster, X)
    assert np.allclose(fast[:, :-1], 0)


def test_categorical_splits_fall_back_to_pred_contrib():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.integers(0, 6, 2000), rng.normal(size=2000)]).astype(float)
    y = (rng.random(2000) < np.where(X[:, 0] % 2 == 0, 0.7, 0.2)).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7},
        lgb.Dataset(X, y, categorical_feature=[0]),
        num_boost_round=10,
    )
    assert tabulate(booster) is None
    got = contributions(booster, X, None)
    np.testing.assert_array_equal(got, booster.predict(X, pred_contrib=True))


def test_tables_larger_than_the_budget_fall_back(monkeypatch):
    X, y = _data()
    booster = _booster(X, y, num_leaves=31)
    monkeypatch.setattr(treeshap, "MAX_TABLE_ENTRIES", 100)
    assert tabulate(booster) is None


def test_wrong_number_of_columns_is_refused():
    X, y = _data()
    booster = _booster(X, y, rounds=5)
    with pytest.raises(ValueError, match="6 features"):
        contributions(booster, X[:, :4], tabulate(booster))


def test_pd_model_explains_with_the_fast_tables_and_pickles_without_them(tiny_pd_model):
    model, rows = tiny_pd_model()
    X = model.feature_frame(rows)
    fast = model.contributions(X)
    assert model._tables is not None and model._tables is not False
    exact = model.booster.predict(X, pred_contrib=True)
    assert np.abs(fast - exact).max() <= TOLERANCE
    clone = pickle.loads(pickle.dumps(model))
    assert clone._tables is False  # rebuilt where it is loaded
    pd.testing.assert_frame_equal(clone.predict(rows), model.predict(rows))
