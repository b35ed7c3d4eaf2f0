"""Scoring with reason codes against LightGBM's plain predict and pred_contrib, and the levers.

Uses the default pipeline's outputs (``make run`` first): the registered model, its booster
and the persisted split. Every speed is measured on the same rows (drawn from the snapshot
table, missing values included) in this process, after a warm-up call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from bench.common import Figure, progress
from models.metrics import auc
from models.train import early_stopping_split, lgb_params, train_booster
from models.treeshap import contributions, tabulate
from pipelines.book.rows import score_rows
from pipelines.io.artifacts import load_booster
from pipelines.io.files import read_json, read_parquet
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.modelstore.registry import load_model
from pipelines.runtime.config import Config

SECTION = "scoring with reason codes"
LEVERS = "levers (tree shape, algorithm, cores)"


def rows_per_s(func: Callable[[], object], n: int, repeat: int = 2) -> float:
    """Rows per second of ``func`` over ``n`` rows: the best of ``repeat`` timed calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return n / best


def needed(paths: Paths) -> list[Path]:
    """The pipeline outputs this benchmark reads."""
    return [paths.snapshots, paths.split, paths.booster, paths.train_record, paths.registry_record]


def sample_rows(paths: Paths, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` snapshot rows drawn with replacement (the real mix of missing values)."""
    snapshots = read_parquet(paths.snapshots)
    picked = np.random.default_rng(seed).integers(0, len(snapshots), n)
    return snapshots.iloc[picked].reset_index(drop=True)


def run(cfg: Config, paths: Paths, n_rows: int = 100_000, with_dask: bool = True) -> list[Figure]:
    """Measure scoring speeds and the levers; return the figures."""
    registry = read_json(paths.registry_record)
    model = load_model(registry["model_uri"], paths.tracking_uri(cfg.register_.tracking_uri))
    booster = load_booster(paths.booster)
    rows = sample_rows(paths, n_rows)
    X = rows[booster.feature_name()].to_numpy(dtype=np.float64)
    progress(f"timing {n_rows:,} rows on the default model ({booster.num_trees()} trees)")
    tables = tabulate(booster)
    contributions(booster, X[:100], tables)  # compile / load the numba kernels
    score_rows(rows.iloc[:100], model)
    predict = rows_per_s(lambda: booster.predict(X, raw_score=True), n_rows)
    contrib = rows_per_s(lambda: booster.predict(X, pred_contrib=True), n_rows)
    fast = rows_per_s(lambda: contributions(booster, X, tables), n_rows)
    chunk = cfg.score.chunk_rows
    explain = rows_per_s(lambda: score_rows(rows, model, chunk), n_rows)
    exact = booster.predict(X, pred_contrib=True)
    diff = float(np.abs(contributions(booster, X, tables) - exact).max())
    figures = [
        Figure(SECTION, "plain predict (LightGBM, all cores)", predict, "rows/s",
               key="predict_rows_per_s"),
        Figure(SECTION, "pred_contrib (LightGBM TreeSHAP)", contrib, "rows/s", predict,
               "rows/s plain predict", key="contrib_rows_per_s"),
        Figure(SECTION, "fast exact TreeSHAP (models/treeshap.py)", fast, "rows/s", contrib,
               "rows/s pred_contrib", key="fast_shap_rows_per_s"),
        Figure(SECTION, "scoring with reasons (registered pyfunc)", explain, "rows/s", predict,
               "rows/s plain predict", key="explain_rows_per_s"),
        Figure(SECTION, "max |fast - pred_contrib|", diff, "", 1e-6, "allowed",
               key="explain_max_abs_diff"),
        Figure(SECTION, "explain_vs_predict (goal >= 0.05)", explain / predict, "x",
               key="explain_vs_predict"),
    ]  # fmt: skip
    figures += _shape_levers(cfg, paths, booster, X, fast)
    if with_dask:
        figures += _dask_lever(cfg, rows, model, chunk, explain)
    return figures


def _shape_levers(
    cfg: Config, paths: Paths, booster: lgb.Booster, X: np.ndarray, fast: float
) -> list[Figure]:
    """Unconstrained trees on the same training rows: test AUC and explanation speed."""
    t = cfg.train
    train = read_json(paths.train_record)
    names, chosen = train["features"], train["params"]
    fit, valid = early_stopping_split(
        window_rows(paths, ["train"]), t.validation_months, t.validation_share, t.seed
    )
    test = window_rows(paths, ["test"])
    y = test["label"].to_numpy()
    ours = auc(y, booster.predict(test[names], raw_score=True))
    figures = [Figure(LEVERS, f"test AUC, default model (depth {chosen['max_depth']})", ours, "",
                      key="auc_default")]  # fmt: skip
    variants = {
        "63 leaves, unlimited depth, monotone": {},
        "63 leaves, unlimited depth, no constraints": {"monotone_constraints": None},
    }
    for label, extra in variants.items():
        progress(f"training the {label} model for comparison")
        params = lgb_params(
            seed=t.seed, learning_rate=t.learning_rate, num_leaves=63, max_depth=-1,
            min_child_samples=20, reg_lambda=t.reg_lambda, feature_fraction=t.feature_fraction,
            bagging_fraction=t.bagging_fraction, feature_names=names,
        )  # fmt: skip
        params = {k: v for k, v in {**params, **extra}.items() if v is not None}
        if "monotone_constraints" not in params:
            params.pop("monotone_constraints_method", None)
        other, _ = train_booster(fit, valid, names, params, t.num_boost_round,
                                 t.early_stopping_rounds)  # fmt: skip
        other_auc = auc(y, other.predict(test[names], raw_score=True))
        sample = X[:2_000]  # deep trees explain slowly
        n = len(sample)
        contrib = rows_per_s(lambda b=other, s=sample: b.predict(s, pred_contrib=True), n, 1)
        other_tables = tabulate(other)
        key = "unconstrained" if "no constraints" in label else "deep"
        figures += [
            Figure(LEVERS, f"test AUC, {label}", other_auc, "", ours, "AUC of the default",
                   key=f"auc_{key}"),
            Figure(LEVERS, f"pred_contrib rows/s, {label}", contrib, "rows/s", fast,
                   "rows/s default model, fast SHAP", key=f"contrib_rows_per_s_{key}"),
        ]  # fmt: skip
        if other_tables is not None:
            contributions(other, X[:10], other_tables)
            deep_fast = rows_per_s(
                lambda b=other, tb=other_tables, s=sample: contributions(b, s, tb), n, 1
            )
            figures.append(
                Figure(LEVERS, f"fast TreeSHAP rows/s, {label}", deep_fast, "rows/s", contrib,
                       "rows/s its pred_contrib", key=f"fast_shap_rows_per_s_{key}")
            )  # fmt: skip
    return figures


def _dask_lever(
    cfg: Config, rows: pd.DataFrame, model: object, chunk: int, here: float
) -> list[Figure]:
    """The same scoring on the configured Dask cluster (a 2-worker LocalCluster by default)."""
    from pipelines.runtime.cluster import dask_client

    progress("scoring on a 2-worker LocalCluster")
    with dask_client(cfg.dask) as client:
        score_rows(rows.iloc[:100], model, chunk, client)
        dask = rows_per_s(lambda: score_rows(rows, model, chunk // 4, client), len(rows), 1)
    return [
        Figure(LEVERS, "scoring with reasons, Dask 2 workers", dask, "rows/s", here,
               "rows/s in one process", key="dask_explain_rows_per_s")
    ]  # fmt: skip
