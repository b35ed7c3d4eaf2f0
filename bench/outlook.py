"""The 3- and 6-month outlook by region and sector, back-tested out of time against naive rates.

On the default run's snapshots, split and default dates: :class:`models.hazard.HazardModel`
fitted as ``bench/horizons.py``'s ``hazard`` (training and embargo rows before the test
window's first as-of date ``T0``, every default observed by ``T0``; calibrated per horizon on
the calibration window), on the features the run's 12-month model kept (its stability screen:
``data/models/booster.txt``). It predicts ``pd_1m`` .. ``pd_12m`` of every snapshot from
``T0`` on; :func:`models.outlook.backtest_table` compares, at every month end ``t >= T0``
whose ``h``-month outcome is observed, each region's and sector's mean ``pd_<h>m`` with the
rate realised in ``(t, t + h]`` and with the naive "last 6 / 12 months' observed rate"
(every snapshot is the population of the naive rates, so ``T0``'s reach back 12 months).
No row, label or default date used in fitting or calibrating lies after ``T0``.

The outlook's interval is checked too: at each of those month ends the book's outlook is
simulated (``score.outlook``'s level, 2,000 scenarios) at each asset correlation asked for
(``basel``: the loss distribution's default, or one value), and the report says how often the
realised rate fell inside, below and above it. Writes the JSON report, the back-test table
(``.csv``) and the predictions (``.parquet``). About 4 minutes on two busy cores.

    .venv/bin/python -m bench.outlook --out /tmp/outlook.json --correlations basel 0.03
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import pandas as pd

from bench.horizons import cutoffs
from models.hazard import HazardModel, HazardSettings
from models.outlook import BOOK, METHODS, backtest_table, summarize_backtest, with_intervals
from pipelines.io.artifacts import load_booster
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config

log = logging.getLogger("bench.outlook")


def load_rows(paths: Paths) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every snapshot with its window, and the default dates."""
    snapshots = pd.read_parquet(paths.snapshots)
    split = pd.read_parquet(paths.split, columns=["customer_id", "as_of_date", "window"])
    for frame in (snapshots, split):
        frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).astype("datetime64[ns]")
    rows = snapshots.merge(split, on=["customer_id", "as_of_date"], how="left", validate="1:1")
    return rows, pd.read_parquet(paths.default_dates, columns=["customer_id", "default_date"])


def predict_out_of_time(rows: pd.DataFrame, features: list[str], settings: HazardSettings):
    """The hazard model as ``bench/horizons.py`` fits it; ``pd_1m..pd_12m`` from ``T0`` on."""
    cut = cutoffs(rows)
    before_test = rows["as_of_date"] < cut["test_start"]
    fit_rows = rows[rows["window"].isin(["train", "embargo"]) & before_test]
    start = time.perf_counter()
    model = HazardModel(settings, features).fit(fit_rows, cut["test_start"])
    model.calibrate(rows[rows["window"] == "calibration"], cut["test_start"])
    log.info("hazard fitted in %.0f s: %s", time.perf_counter() - start, model.fit_record_)
    later = rows[rows["as_of_date"] >= cut["test_start"]].reset_index(drop=True)
    cumulative = model.predict_cumulative(later)
    terms = pd.DataFrame(cumulative, columns=[f"pd_{k}m" for k in range(1, 13)])
    keys = later[["customer_id", "as_of_date", "region", "industry"]]
    return pd.concat([keys, terms], axis=1), cut


def print_table(summary: dict) -> None:
    """MAE (and mean bias) of the model and the two naive rates per horizon and grouping."""
    print(f"{'horizon':<8}{'grouping':<10}{'cells':>6}" + "".join(f"{m:>11}" for m in METHODS))
    for h, entry in summary["by_horizon"].items():
        for grouping in ("region", "industry", BOOK):
            if grouping in entry:
                row = entry[grouping]
                mae = "".join(f"{row['mae'][m]:>11.5f}" for m in METHODS)
                bias = "".join(f"{row['bias'][m]:>+11.5f}" for m in METHODS)
                print(f"{h:<8}{grouping:<10}{row['cells']:>6}{mae}   MAE")
                print(f"{'':<24}{bias}   bias (forecast - realised)")
    for h, months in summary["book_by_month"].items():
        print(f"\nwhole book, {h}: as_of  customers  realised  " + "  ".join(METHODS))
        for r in months:
            print(
                f"  {r['as_of_date']} {r['customers']:>6} {r['realised']:.4f} "
                + " ".join(f"{r[m]:.4f}" for m in METHODS)
            )
    print(f"passed (model beats both anchors, every horizon and grouping): {summary['passed']}")


def interval_check(table, predictions, correlations: list[str], opts) -> dict:
    """Per asset correlation: how often the realised rate fell inside the outlook's interval."""
    out = {}
    for name in correlations:
        rho = None if name == "basel" else float(name)
        simulation = {
            "level": opts.level, "n_scenarios": 2000, "seed": opts.seed,
            "asset_correlation": rho, "sector_correlation": 1.0,
        }  # fmt: skip
        checked = summarize_backtest(with_intervals(table, predictions, **simulation))
        out[name] = {
            h: {g: entry[g]["interval"] for g in ("region", "industry", BOOK) if g in entry}
            for h, entry in checked["by_horizon"].items()
        }
    print(f"\ninterval ({100 * opts.level:g} %): share of cells inside / below / above, mean width")
    for name, by_horizon in out.items():
        for h, groups in by_horizon.items():
            for g, c in groups.items():
                print(
                    f"  rho {name:<6} {h:<3} {g:<9} {c['cells']:>4} cells  inside {c['inside']:.3f}"
                    f"  below {c['below']:.3f}  above {c['above']:.3f}  width {c['mean_width']:.4f}"
                )
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON report")
    parser.add_argument("--negative-share", type=float, default=0.3)
    parser.add_argument("--config", default="configs/params.yaml")
    parser.add_argument(
        "--correlations", nargs="*", default=["basel"], help="basel or a value, for each check"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    paths = Paths()
    rows, defaults = load_rows(paths)
    features = load_booster(paths.booster).feature_name()
    settings = HazardSettings(negative_share=args.negative_share)
    predictions, cut = predict_out_of_time(rows, features, settings)
    table = backtest_table(
        predictions, defaults, cut["data_end"], population=rows, start=cut["test_start"]
    )
    summary = summarize_backtest(table)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    predictions.to_parquet(args.out.with_suffix(".parquet"))
    print_table(summary)
    opts = load_config(args.config).score.outlook
    intervals = interval_check(table, predictions, args.correlations, opts)
    report = {"cutoffs": {k: str(v.date()) for k, v in cut.items()}, "features": features}
    report |= {"outlook_backtest": summary, "interval_by_correlation": intervals}
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
