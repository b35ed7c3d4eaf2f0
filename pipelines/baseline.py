"""Baseline stage: the transparent challenger, a weight-of-evidence scorecard, on the same windows.

The scorecard (``models.baseline.WoEScorecard``) is fitted on the training window with the
model's own features and risk directions, and its log-odds are calibrated (Platt) on the
calibration window, as the booster's are: both models then meet the test window alike. Where
the booster was cross-fitted (``cross_fit_folds`` in its record), so is the scorecard's
calibrator: Platt on the training rows' cross-fitted log-odds, the same folds.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet: the training and calibration
        windows.
    data/models/train.json: the model's features (after the stability screen).
    data/features/summary.json: the user's attributes (their declared risk directions).
Outputs:
    data/models/baseline.json: the scorecard (bins, WoE, coefficients) and its calibrator.
    data/models/scorecard.csv: the scorecard as a table, one row per bin of each feature.
Params:
    baseline, calibrate.pd_floor, train.seed
"""

from __future__ import annotations

import logging

from features.catalogue import monotone_constraints
from models.baseline import WoEScorecard, cross_fitted_decisions
from models.calibration import PDCalibrator
from models.train import customer_folds
from pipelines.io.artifacts import load_attribute_specs
from pipelines.io.files import StageError, read_json, run_stage, write_csv, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines")


def run(cfg: Config, paths: Paths) -> WoEScorecard:
    """Fit the scorecard and its calibrator; write them."""
    record = read_json(paths.train_record)
    features = record.get("features")
    if not features:
        raise StageError(f"{paths.train_record} names no features: re-run the train stage")
    n_folds = record.get("cross_fit_folds")
    train = window_rows(paths, ["train"])
    directions = dict(
        zip(features, monotone_constraints(features, load_attribute_specs(paths)), strict=True)
    )
    try:
        card = WoEScorecard(directions, **cfg.baseline.model_dump())
        y = train["label"].to_numpy(float)
        card.fit(train, y)
        if n_folds:  # learnt from the rows the booster learnt from, calibrated alike
            folds = customer_folds(train, n_folds, cfg.train.seed)
            scores, labels = cross_fitted_decisions(card, train, y, folds), y
        else:
            calibration = window_rows(paths, ["calibration"])
            scores, labels = card.decision_function(calibration), calibration["label"].to_numpy()
        calibrator = PDCalibrator("platt", cfg.calibrate.pd_floor).fit(scores, labels)
    except ValueError as err:
        raise StageError(f"cannot fit the baseline scorecard: {err}") from None
    log.info(
        "baseline scorecard: %d of %d features (left out for the sign of their coefficient: %s)",
        len(card.features_),
        len(features),
        ", ".join(card.dropped_sign_) or "none",
    )
    write_json({"scorecard": card.to_dict(), "calibrator": calibrator.to_dict()}, paths.baseline)
    write_csv(card.scorecard(), paths.scorecard)
    return card


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.baseline --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
