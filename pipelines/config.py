"""Configuration: ``configs/params.yaml`` loaded once into frozen, strict pydantic models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.io import StageError


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IngestConfig(_Section):
    """Where the input tables come from."""

    source: Literal[
        "synthetic", "folder", "taiwan_credit_default", "polish_bankruptcy", "ibm_ar_late_payment"
    ] = "synthetic"
    path: str | None = None  # folder source: required; public data sets: ../shared/data/<name>
    industry_index: Literal["source", "industry_cycle"] = "source"  # real FF12/OECD series
    industry_cycle_path: str | None = None  # default ../shared/data/industry_cycle
    as_of_date: str | None = None  # folder data: default is the latest date in the files

    @model_validator(mode="after")
    def _folder_needs_path(self) -> IngestConfig:
        if self.source == "folder" and not self.path:
            raise ValueError("ingest.source is 'folder' but ingest.path is not set")
        return self


class SyntheticConfig(_Section):
    """Size and seed of the embedded synthetic book."""

    seed: int = 42
    n_customers: int = Field(5000, ge=20)
    n_months: int = Field(60, ge=24)
    start: str = "2021-01-31"


class ValidateConfig(_Section):
    """Validation reporting."""

    sample_rows: int = Field(5, ge=1)


class FeaturesConfig(_Section):
    """Snapshot grid, label horizon, publication lags and the default definition."""

    horizon_months: int = Field(12, ge=1, le=36)
    warmup_months: int = Field(6, ge=0)
    index_publication_lag_months: int = Field(1, ge=0)
    financials_lag_days: int = Field(120, ge=0)
    default_days_past_due: int = Field(90, ge=1)
    default_materiality: float = Field(500.0, ge=0)


class SplitConfig(_Section):
    """Out-of-time windows, or a split by customer for data observed at one date."""

    strategy: Literal["auto", "out_of_time", "by_customer"] = "auto"
    test_share: float = Field(0.2, gt=0, lt=1)  # by_customer: share of customers in test
    calibration_share: float = Field(0.2, gt=0, lt=1)
    seed: int = 42
    test_months: int = Field(6, ge=1)
    calibration_months: int = Field(6, ge=1)
    embargo_months: int = Field(12, ge=0)


class TrainConfig(_Section):
    """LightGBM hyperparameters and early stopping."""

    seed: int = 42
    learning_rate: float = Field(0.02, gt=0, le=1)
    num_leaves: int = Field(7, ge=2)
    max_depth: int = Field(6, ge=-1)
    min_child_samples: int = Field(300, ge=1)
    reg_lambda: float = Field(1.0, ge=0)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    num_boost_round: int = Field(1500, ge=1)
    early_stopping_rounds: int = Field(100, ge=1)
    validation_months: int = Field(3, ge=1)


class CalibrateConfig(_Section):
    """Calibration method and PD floor."""

    method: Literal["auto", "isotonic", "platt"] = "auto"
    cv_folds: int = Field(5, ge=2)
    pd_floor: float = Field(0.0003, ge=0, lt=0.5)


class EvaluateConfig(_Section):
    """Evaluation settings."""

    calibration_bins: int = Field(10, ge=2)


class RegisterConfig(_Section):
    """MLflow tracking store and registry names."""

    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "trade-credit-pd"
    model_name: str = "trade-credit-pd"
    alias: str = "challenger"


class ScoreConfig(_Section):
    """Batch scoring."""

    n_reasons: int = Field(3, ge=1, le=10)


class Config(_Section):
    """The whole params file, one section per stage."""

    ingest: IngestConfig = IngestConfig()
    synthetic: SyntheticConfig = SyntheticConfig()
    validate_: ValidateConfig = Field(ValidateConfig(), alias="validate")
    features: FeaturesConfig = FeaturesConfig()
    split: SplitConfig = SplitConfig()
    train: TrainConfig = TrainConfig()
    calibrate: CalibrateConfig = CalibrateConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    register_: RegisterConfig = Field(RegisterConfig(), alias="register")
    score: ScoreConfig = ScoreConfig()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _embargo_covers_horizon(self) -> Config:
        if self.split.embargo_months < self.features.horizon_months:
            raise ValueError(
                f"split.embargo_months ({self.split.embargo_months}) must be at least "
                f"features.horizon_months ({self.features.horizon_months}), or training label "
                "windows would reach into the later windows"
            )
        return self


def load_config(path: str | Path) -> Config:
    """Read and validate the params file.

    Args:
        path: Path of ``params.yaml``.

    Returns:
        The frozen configuration.
    """
    path = Path(path)
    if not path.is_file():
        raise StageError(f"config file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        raise StageError(f"invalid config {path}:\n  " + "\n  ".join(lines)) from None


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    """Parse the command line every stage shares: ``--config PATH``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default="configs/params.yaml", help="params file")
    return parser.parse_args(argv)
