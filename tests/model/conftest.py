"""A model trained once per session on small synthetic data, by the recipe the stages run.

The fit is :func:`models.recipe.fit_pd_model` with the settings of ``configs/params.yaml``,
mapped by the train and calibrate stages' own functions: the tests test the model that ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from features.build import FeatureSettings, build_features
from models.master_scale import MasterScale
from models.pd_model import PDModel
from models.recipe import fit_pd_model, model_features
from models.split import split_by_time
from pipelines.io.artifacts import REFERENCE_WINDOWS
from pipelines.runtime.config import load_config
from pipelines.runtime.recipe import booster_settings, calibrator_settings
from pipelines.sources.synthetic import generate

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Trained:
    model: PDModel
    records: dict
    test: pd.DataFrame
    truth: pd.DataFrame
    industry_index: pd.DataFrame


@pytest.fixture(scope="session")
def trained() -> Trained:
    cfg = load_config(ROOT / "configs/params.yaml")
    tables = generate(n_customers=2000, n_months=60, start="2021-01-31", seed=11)
    truth = tables.pop("truth")
    snaps, _, _ = build_features(tables, tables["industry_index"]["month"].max(), FeatureSettings())
    s = cfg.split
    split, _ = split_by_time(
        snaps, s.test_months, s.calibration_months, s.embargo_months, s.train_gap_months
    )
    window = split["window"].to_numpy()
    train, cal = snaps[window == "train"], snaps[window == "calibration"]
    with open(ROOT / "configs/master_scale.yaml", encoding="utf-8") as fh:
        scale = MasterScale.from_records(yaml.safe_load(fh)["grades"])
    model, records = fit_pd_model(
        train, cal, model_features(train), booster_settings(cfg), calibrator_settings(cfg), scale
    )
    # the reference reasons are judged against, as load_pd_model sets it on the shipped model
    model.fit_reference(snaps[split["window"].isin(REFERENCE_WINDOWS).to_numpy()])
    test = snaps[window == "test"].reset_index(drop=True)
    return Trained(model, records, test, truth, tables["industry_index"])
