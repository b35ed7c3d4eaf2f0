"""Split stage: out-of-time train / calibration / test windows with an embargo, persisted.

Inputs:
    data/features/snapshots.parquet
Outputs:
    data/splits/split.parquet: customer_id, as_of_date, month, window.
    data/splits/windows.json: the as-of dates of each window and row counts.
Params:
    split, features.horizon_months
"""

from __future__ import annotations

import logging

from features.timeline import month_end
from models.split import split_by_time
from pipelines.config import Config, load_config, parse_args
from pipelines.io import (
    FEATURES,
    SPLITS,
    StageError,
    read_parquet,
    run_stage,
    write_json,
    write_parquet,
)

log = logging.getLogger("pipelines")


def run(cfg: Config) -> None:
    """Assign every snapshot to a window and record the windows."""
    snapshots = read_parquet(FEATURES / "snapshots.parquet")
    s = cfg.split
    try:
        split, bounds = split_by_time(
            snapshots, s.test_months, s.calibration_months, s.embargo_months
        )
    except ValueError as err:
        raise StageError(str(err)) from None
    counts = split.assign(label=snapshots["label"]).groupby("window")["label"].agg(["size", "sum"])
    windows = {
        name: {
            "first_as_of": str(month_end(lo)[0].date()),
            "last_as_of": str(month_end(hi)[0].date()),
            "rows": int(counts.loc[name, "size"]) if name in counts.index else 0,
            "defaults": int(counts.loc[name, "sum"]) if name in counts.index else 0,
        }
        for name, (lo, hi) in bounds.as_dict().items()
    }
    windows["horizon_months"] = cfg.features.horizon_months
    windows["embargo_months"] = s.embargo_months
    for name in ("train", "calibration", "test"):
        w = windows[name]
        log.info(
            "%-11s %s .. %s  %7d rows  %5d defaults",
            name,
            w["first_as_of"],
            w["last_as_of"],
            w["rows"],
            w["defaults"],
        )
    write_parquet(split, SPLITS / "split.parquet")
    write_json(windows, SPLITS / "windows.json")


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.split --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
