"""Loading trained artifacts (DVC outputs under data/models) into library objects."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import yaml

from models.calibration import PDCalibrator
from models.master_scale import MasterScale
from models.pd_model import PDModel
from pipelines.io.files import MODELS, StageError, read_json

BOOSTER = MODELS / "booster.txt"
CALIBRATOR = MODELS / "calibrator.json"
MASTER_SCALE = Path("configs/master_scale.yaml")


def load_master_scale(path: Path = MASTER_SCALE) -> MasterScale:
    """Read the master scale YAML."""
    if not Path(path).is_file():
        raise StageError(f"master scale not found: {path}")
    with open(path, encoding="utf-8") as fh:
        return MasterScale.from_records(yaml.safe_load(fh)["grades"])


def load_booster(path: Path = BOOSTER) -> lgb.Booster:
    """Read the trained LightGBM booster."""
    if not Path(path).is_file():
        raise StageError(f"missing input {path}: run the train stage first (dvc repro)")
    return lgb.Booster(model_file=str(path))


def load_pd_model(n_reasons: int = 3) -> PDModel:
    """Assemble the calibrated PD model from the DVC-tracked artifacts."""
    calibrator = PDCalibrator.from_dict(read_json(CALIBRATOR))
    return PDModel(load_booster(), calibrator, load_master_scale(), n_reasons=n_reasons)
