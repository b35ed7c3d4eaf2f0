"""Term-structure stage: the monthly hazard model that times the 12-month PD over 1..12 months.

A discrete-time hazard model (:class:`models.hazard.HazardModel`) on customer-month rows, on
the 12-month model's features. It learns from the training window and the embargo months
before the test window, every month observed by the test window's first as-of date ``T0``
(the months after a snapshot that its 12-month label would need but ``T0`` has not reached
yet are used as far as they go, censored, instead of being thrown away), and is calibrated per
horizon on the calibration window. Nothing it learns from is dated after ``T0``, so the test
window judges it out of time (the evaluate stage, ``metrics.json`` ``horizons``). A split by
customer (one date) learns from the training customers, every default known.

Too few defaults in those rows (``term_structure.min_events``) or ``enabled: false``: no term
structure is fitted, ``hazard.json`` says why, and the model serves the 12-month PD alone.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet, data/models/booster.txt and
    data/models/train.json (the features, their categorical levels)
Outputs:
    data/models/hazard.txt: the monthly-hazard LightGBM model (an empty file when none).
    data/models/hazard.json: ``fitted``, the settings, the per-horizon calibrators and the fit
        record (rows, customer-months, defaults, ``observed_until``), or ``reason``.
Params:
    term_structure
"""

from __future__ import annotations

import logging

import pandas as pd

from features.attributes import level_codes
from models.hazard import HazardModel, HazardSettings
from models.horizons import labels_known_until
from models.train import booster_levels
from pipelines.io.artifacts import load_booster
from pipelines.io.files import (
    StageError,
    atomic_path,
    read_json,
    run_stage,
    write_bytes,
    write_json,
)
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines")


def run(cfg: Config, paths: Paths) -> None:
    """Fit and calibrate the hazard model, or record why there is none."""
    opts = cfg.term_structure
    if not opts.enabled:
        return skip(paths, "term_structure.enabled is false")
    booster = load_booster(paths.booster)
    features = list(read_json(paths.train_record)["features"])
    rows = coded(window_rows(paths, ["train", "embargo", "calibration", "test"], labelled=False),
                 features, booster)  # fmt: skip
    fit_rows, calibration, until = fitting_rows(rows)
    settings = HazardSettings(horizon=12, **opts.model_dump(exclude={"enabled", "min_events"}))
    model = HazardModel(settings, features)
    try:
        model.fit(fit_rows, until)
    except ValueError as err:
        raise StageError(f"cannot fit the term structure: {err}") from None
    events = model.fit_record_["events"]
    if events < opts.min_events:
        return skip(
            paths, f"{events} defaults in the fitting months, fewer than term_structure."
            f"min_events ({opts.min_events})",
        )  # fmt: skip
    if calibration.empty:
        log.warning("no calibration window (a split by customer): the hazard's PDs uncalibrated")
    else:
        model.calibrate(calibration, until)
    model.fit_record_["calibrated"] = not calibration.empty
    record = model.fit_record_
    log.info(
        "term structure: %d customer-months (%d fitted), %d defaults, %d trees, observed "
        "until %s", record["person_periods"], record["fitted_rows"], events,
        record["best_iteration"], record["observed_until"],
    )  # fmt: skip
    with atomic_path(paths.hazard_booster) as tmp:
        model.booster_.save_model(str(tmp))
    write_json({"fitted": True, **model.state()}, paths.hazard)


def coded(rows: pd.DataFrame, features: list[str], booster) -> pd.DataFrame:
    """``rows`` with the features as the 12-month model reads them (a level as its code)."""
    codes = level_codes(rows, features, booster_levels(booster))
    return rows.drop(columns=features).join(codes)


def fitting_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """The rows to fit, the rows to calibrate on, and the last month end either may know.

    Out of time: training and embargo rows before the test window's first as-of date ``T0``,
    known until ``T0``; the calibration window, its outcome known by ``T0``. A split by
    customer (the test window's dates are the training window's): the training rows, known
    until the latest month end a label covers.
    """
    window = rows["window"]
    test_start = rows.loc[window == "test", "as_of_date"].min()
    train = rows[window == "train"]
    if train.empty:
        raise StageError("the split has no training window to fit the term structure on")
    if pd.isna(test_start) or train["as_of_date"].max() >= test_start:
        return train, rows.iloc[:0], labels_known_until(rows)
    before = rows[window.isin(["train", "embargo"]) & (rows["as_of_date"] < test_start)]
    return before, rows[window == "calibration"], test_start


def skip(paths: Paths, reason: str) -> None:
    """Record that there is no term structure, and why."""
    log.warning("no term structure: %s", reason)
    write_bytes(b"", paths.hazard_booster)
    write_json({"fitted": False, "reason": reason}, paths.hazard)


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.term_structure --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
