"""The modelling recipe's settings (``models.recipe``) from the params, one place for every user.

The train and calibrate stages fit with them; the evaluate stage trains its direct classifier
per horizon with the same; the model tests and the benchmarks rebuild the stages' models.
"""

from __future__ import annotations

from models.recipe import BoosterSettings, CalibratorSettings
from pipelines.runtime.config import Config


def booster_settings(cfg: Config) -> BoosterSettings:
    """The recipe's settings: the ``train`` section, key for key."""
    return BoosterSettings(**cfg.train.model_dump())


def calibrator_settings(cfg: Config) -> CalibratorSettings:
    """The recipe's settings: the ``calibrate`` section, the folds' seed and the report's bins."""
    return CalibratorSettings(
        **cfg.calibrate.model_dump(),
        seed=cfg.train.seed,
        report_bins=cfg.evaluate.calibration_bins,
    )
