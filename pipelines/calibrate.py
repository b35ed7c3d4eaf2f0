"""Calibrate stage: map the booster's score to a PD on the out-of-time calibration window.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet, data/models/booster.txt
Outputs:
    data/models/calibrator.json: the fitted calibrator.
    data/reports/calibration.json: method chosen, cross-validated Brier of each method, and
        Brier / calibration error on the window before and after calibration.
Params:
    calibrate, evaluate.calibration_bins, train.seed
"""

from __future__ import annotations

import logging

import numpy as np

from models import metrics
from models.calibration import PDCalibrator, choose_method
from pipelines.io.artifacts import load_booster
from pipelines.io.files import StageError, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines")


def run(cfg: Config, paths: Paths) -> None:
    """Fit the calibrator and record its effect."""
    booster = load_booster(paths.booster)
    rows = window_rows(paths, ["calibration"])
    y = rows["label"].to_numpy()
    if len(np.unique(y)) < 2:
        raise StageError("the calibration window needs both defaults and non-defaults")
    raw = booster.predict(rows[booster.feature_name()], raw_score=True)
    c = cfg.calibrate
    cv = choose_method(raw, y, c.cv_folds, cfg.train.seed, c.pd_floor, c.min_step_events)
    method = min(cv, key=cv.get) if c.method == "auto" else c.method
    calibrator = PDCalibrator(method, c.pd_floor, c.min_step_events).fit(raw, y)
    bins = cfg.evaluate.calibration_bins
    before = 1 / (1 + np.exp(-raw))
    after = calibrator.predict(raw)
    report = {
        "method": method,
        "requested": c.method,
        "cv_brier": cv,
        "rows": len(rows),
        "defaults": int(y.sum()),
        "before": {
            "brier": metrics.brier(y, before),
            "ece": metrics.expected_calibration_error(y, before, bins),
            "mean_pd": float(before.mean()),
        },
        "after": {
            "brier": metrics.brier(y, after),
            "ece": metrics.expected_calibration_error(y, after, bins),
            "mean_pd": float(after.mean()),
        },
        "observed_rate": float(y.mean()),
    }
    log.info(
        "%s calibration: Brier %.5f -> %.5f, ECE %.4f -> %.4f (in-window)",
        method,
        report["before"]["brier"],
        report["after"]["brier"],
        report["before"]["ece"],
        report["after"]["ece"],
    )
    write_json(calibrator.to_dict(), paths.calibrator)
    write_json(report, paths.calibration_report)


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.calibrate --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
