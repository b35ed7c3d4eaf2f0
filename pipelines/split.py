"""Split stage: out-of-time train / calibration / test windows, an embargo before test, persisted.

Inputs:
    data/features/snapshots.parquet, data/features/summary.json (the effective label horizon)
Outputs:
    data/splits/split.parquet: customer_id, as_of_date, month, window.
    data/splits/windows.json: the as-of dates of each window and row counts.
Params:
    split

Strategy ``auto``: out of time, or by customer (stratified) when every labelled snapshot has
the same as-of date (data observed once, e.g. the Taiwan and Polish data sets). By customer,
no calibration customers are set aside unless ``cross_fit_folds`` is 0: the booster learns
from every non-test customer and the calibrator from their cross-fitted scores
(``windows.json`` records ``cross_fit_folds``). Out of time,
the test window starts ``embargo_months`` after the last calibration month and training ends
``train_gap_months`` before calibration starts (:func:`models.split.window_bounds`).
"""

from __future__ import annotations

import logging

import pandas as pd

from features.timeline import month_end
from models.split import WindowBounds, single_as_of, split_by_customer, split_by_time
from pipelines.io.files import (
    StageError,
    read_json,
    read_parquet,
    run_stage,
    write_json,
    write_parquet,
)
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config, load_config, parse_args

log = logging.getLogger("pipelines")


def run(cfg: Config, paths: Paths) -> None:
    """Assign every snapshot to a window and record the windows."""
    snapshots = read_parquet(paths.snapshots)
    horizon = int(read_json(paths.features_summary)["horizon_months"])
    if not (snapshots["label"] == 1).any():
        raise StageError(
            "no defaults in the labelled snapshots: a PD model cannot be trained on this data. "
            "ingest, validate and features ran (data/features/snapshots.parquet); supply a "
            "defaults table or a longer history to go further"
        )
    s = cfg.split
    strategy = s.strategy
    if strategy == "auto":
        strategy = "by_customer" if single_as_of(snapshots) else "out_of_time"
    try:
        folds = s.cross_fit_folds if strategy == "by_customer" else 0
        if strategy == "by_customer":
            share = 0.0 if folds else s.calibration_share
            split = split_by_customer(snapshots, s.test_share, share, s.seed)
            windows = {}
        else:
            split, bounds = split_by_time(
                snapshots, s.test_months, s.calibration_months, s.embargo_months,
                s.train_gap_months,
            )  # fmt: skip
            windows = window_dates(bounds)
    except ValueError as err:
        raise StageError(str(err)) from None
    summary = window_summary(split, snapshots["label"], windows)
    summary |= {"strategy": strategy, "horizon_months": horizon}
    out_of_time = strategy == "out_of_time"
    summary["embargo_months"] = s.embargo_months if out_of_time else None
    summary["train_gap_months"] = s.train_gap_months if out_of_time else None
    # 0: a calibration window; else the calibrator learns from training scores cross-fitted
    # over this many folds of customers (the train, calibrate and baseline stages read it)
    summary["cross_fit_folds"] = folds
    for name in ("train", "calibration", "test"):
        w = summary[name]
        log.info(
            "%-11s %7d rows  %6d customers  %5d defaults  %s",
            name,
            w["rows"],
            w["customers"],
            w["defaults"],
            w.get("as_of", ""),
        )
    write_parquet(split, paths.split)
    write_json(summary, paths.windows)


def window_dates(bounds: WindowBounds) -> dict[str, str]:
    """First and last as-of date of each out-of-time window."""
    return {
        name: f"{month_end(lo)[0].date()} .. {month_end(hi)[0].date()}"
        for name, (lo, hi) in bounds.as_dict().items()
    }


def window_summary(split: pd.DataFrame, label: pd.Series, dates: dict[str, str]) -> dict:
    """Rows, customers and defaults per window."""
    frame = split.assign(label=label.to_numpy())
    out = {}
    for name in ("train", "calibration", "test"):
        rows = frame[frame["window"] == name]
        out[name] = {
            "rows": len(rows),
            "customers": int(rows["customer_id"].nunique()),
            "defaults": int(rows["label"].sum()),
        } | ({"as_of": dates[name]} if name in dates else {})
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.split --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
