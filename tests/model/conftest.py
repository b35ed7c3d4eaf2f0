"""A model trained once per session on small synthetic data, through the library code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.build import FeatureSettings, build_features
from features.catalogue import FEATURE_NAMES
from models.calibration import PDCalibrator
from models.master_scale import MasterScale
from models.pd_model import PDModel
from models.split import split_by_time
from models.train import lgb_params, train_booster
from pipelines.runtime.config import Config
from pipelines.sources.synthetic import generate

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Trained:
    model: PDModel
    test: pd.DataFrame
    truth: pd.DataFrame


@pytest.fixture(scope="session")
def trained() -> Trained:
    cfg = Config()
    tables = generate(n_customers=2000, n_months=60, start="2021-01-31", seed=11)
    truth = tables.pop("truth")
    snaps, _, _ = build_features(tables, tables["industry_index"]["month"].max(), FeatureSettings())
    split, _ = split_by_time(snaps, 6, 6, 12)
    names = [n for n in FEATURE_NAMES if n in snaps]
    t = cfg.train
    params = lgb_params(
        seed=t.seed, learning_rate=0.05, num_leaves=t.num_leaves, max_depth=t.max_depth,
        min_child_samples=100, reg_lambda=t.reg_lambda, feature_fraction=t.feature_fraction,
        bagging_fraction=t.bagging_fraction, feature_names=names,
    )  # fmt: skip
    train = snaps[(split["window"] == "train").to_numpy()]
    cut = train["month"].max() - 3
    booster, _ = train_booster(
        train[train["month"] <= cut], train[train["month"] > cut], names, params, 600, 50
    )
    cal = snaps[(split["window"] == "calibration").to_numpy()]
    calibrator = PDCalibrator("platt").fit(
        booster.predict(cal[names], raw_score=True), cal["label"]
    )
    with open(ROOT / "configs/master_scale.yaml", encoding="utf-8") as fh:
        scale = MasterScale.from_records(yaml.safe_load(fh)["grades"])
    test = snaps[(split["window"] == "test").to_numpy()].reset_index(drop=True)
    return Trained(PDModel(booster, calibrator, scale), test, truth)
