"""Calibrate stage: map the booster's score to a PD on the out-of-time calibration window.

The recipe is :func:`models.recipe.fit_calibrator`. A booster cross-fitted on customers of one
date (``cross_fit_folds`` in its record, ``split.cross_fit_folds``) has learnt from every
non-test customer: the calibrator learns from their cross-fitted scores instead.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet, data/models/booster.txt,
    data/models/train.json
Outputs:
    data/models/calibrator.json: the fitted calibrator.
    data/reports/calibration.json: method chosen, cross-validated Brier of each method, and
        Brier / calibration error on the window before and after calibration.
Params:
    calibrate, evaluate.calibration_bins, train.seed
"""

from __future__ import annotations

import logging

from models.recipe import fit_calibrator
from pipelines.io.artifacts import load_booster
from pipelines.io.files import StageError, read_json, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.runtime.config import Config, load_config, parse_args
from pipelines.runtime.recipe import calibrator_settings

log = logging.getLogger("pipelines")


def run(cfg: Config, paths: Paths) -> None:
    """Fit the calibrator and record its effect."""
    booster = load_booster(paths.booster)
    record = read_json(paths.train_record)
    rows = window_rows(paths, ["train" if record.get("cross_fit_folds") else "calibration"])
    try:
        calibrator, report = fit_calibrator(booster, rows, calibrator_settings(cfg), record)
    except ValueError as err:
        raise StageError(f"cannot calibrate: {err}") from None
    log.info(
        "%s calibration%s: Brier %.5f -> %.5f, ECE %.4f -> %.4f (in-window)",
        report["method"],
        f" on {report['cross_fit_folds']}-fold cross-fitted training scores"
        if report["cross_fit_folds"]
        else "",
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
