"""Loading trained artifacts (DVC outputs under data/models) and the risk team's YAML."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import yaml

from features.attributes import attribute_specs
from features.catalogue import FeatureSpec
from models.baseline import BaselinePD, WoEScorecard
from models.calibration import PDCalibrator
from models.hazard import HazardModel
from models.master_scale import MasterScale
from models.pd_model import PDModel
from models.policy import CreditPolicy
from models.reasons import MIN_REASON_LOGODDS
from pipelines.io.files import StageError, read_json
from pipelines.io.paths import Paths
from pipelines.io.windows import present_windows, window_rows
from pipelines.runtime.config import load_yaml_model

# the split's labelled windows: a reason sentence's population reference is taken over them
REFERENCE_WINDOWS = ("train", "calibration", "test")


def load_master_scale(path: Path) -> MasterScale:
    """Read the master scale YAML."""
    if not Path(path).is_file():
        raise StageError(f"master scale not found: {path}")
    with open(path, encoding="utf-8") as fh:
        return MasterScale.from_records(yaml.safe_load(fh)["grades"])


def load_policy(path: Path) -> CreditPolicy:
    """Read and validate the credit policy YAML."""
    return load_yaml_model(path, CreditPolicy, "credit policy")


def load_booster(path: Path) -> lgb.Booster:
    """Read the trained LightGBM booster."""
    if not Path(path).is_file():
        raise StageError(f"missing input {path}: run the train stage first (dvc repro)")
    return lgb.Booster(model_file=str(path))


def load_attribute_specs(paths: Paths) -> dict[str, FeatureSpec]:
    """The user's attributes as catalogue entries (labels, directions, sentences).

    From the feature build's summary, where ingest's resolved schema is recorded.
    """
    if not Path(paths.features_summary).is_file():
        raise StageError(f"missing input {paths.features_summary}: run the features stage first")
    return attribute_specs(read_json(paths.features_summary).get("attributes", {}))


def load_pd_model(
    paths: Paths, n_reasons: int = 3, min_reason_logodds: float = MIN_REASON_LOGODDS
) -> PDModel:
    """Assemble the calibrated PD model from the DVC-tracked artifacts.

    Its population reference (what a reason sentence without a sector median is judged
    against, ``PDModel.fit_reference``) is each feature's median over the labelled rows of the
    split (:data:`REFERENCE_WINDOWS`): the book the model was built and judged on. Its term
    structure is the term_structure stage's, where that stage fitted one.
    """
    calibrator = PDCalibrator.from_dict(read_json(paths.calibrator))
    scale = load_master_scale(paths.master_scale)
    booster = load_booster(paths.booster)
    attributes = load_attribute_specs(paths)
    model = PDModel(
        booster, calibrator, scale, n_reasons, min_reason_logodds, attributes,
        load_term_structure(paths),
    )  # fmt: skip
    windows = present_windows(paths, REFERENCE_WINDOWS)
    if not windows:
        raise StageError(f"{paths.split} has no labelled window {list(REFERENCE_WINDOWS)}")
    try:
        return model.fit_reference(window_rows(paths, windows))
    except ValueError as err:  # the snapshots lack a model feature
        raise StageError(f"{paths.snapshots}: {err}; rerun the pipeline") from None


def load_term_structure(paths: Paths) -> HazardModel | None:
    """The term_structure stage's hazard model; ``None`` where it fitted none (it says why)."""
    if not Path(paths.hazard).is_file():
        raise StageError(f"missing input {paths.hazard}: run the term_structure stage first")
    state = read_json(paths.hazard)
    if not state.get("fitted"):
        return None
    return HazardModel.from_state(state, load_booster(paths.hazard_booster))


def load_baseline(path: Path) -> BaselinePD:
    """Read the fitted baseline (scorecard + calibrator) the baseline stage writes."""
    state = read_json(path)
    return BaselinePD(
        WoEScorecard.from_dict(state["scorecard"]), PDCalibrator.from_dict(state["calibrator"])
    )
