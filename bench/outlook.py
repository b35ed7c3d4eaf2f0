"""The 3- and 6-month outlook by region and sector, and how wide its interval should be.

On the default run (``make run``): the evaluate stage's back-test
(``pipelines.evaluate.outlook_predictions``: the served term structure of every snapshot from
the test window's first as-of date ``T0`` on, the model the ``term_structure`` stage fitted on
rows before ``T0``); :func:`models.outlook.backtest_table` compares, at every month end
``t >= T0`` whose ``h``-month outcome is observed, each region's and sector's mean ``pd_<h>m``
with the rate realised in ``(t, t + h]`` and with the naive "last 6 / 12 months' observed rate".

What this bench adds to the stage's figure: the outlook's interval at each asset correlation
asked for (``basel``: the loss distribution's default, or one value): at each of those month
ends the book's outlook is simulated (``score.outlook``'s level, 2,000 scenarios), and the
report says how often the realised rate fell inside, below and above it. Writes the JSON
report, the back-test table (``.csv``) and the predictions (``.parquet``).

    .venv/bin/python -m bench.outlook --out /tmp/outlook.json --correlations basel 0.03
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pandas as pd

from models.outlook import BOOK, METHODS, backtest_table, summarize_backtest, with_intervals
from pipelines.evaluate import outlook_predictions
from pipelines.io.artifacts import load_pd_model
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config


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
    parser.add_argument("--config", default="configs/params.yaml")
    parser.add_argument(
        "--correlations", nargs="*", default=["basel"], help="basel or a value, for each check"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    paths = Paths()
    model = load_pd_model(paths)
    if model.term_structure is None:
        raise SystemExit("the default run's model has no term structure: run `make run` first")
    predictions, population, start = outlook_predictions(model, paths)
    data_end = population["as_of_date"].max()
    defaults = pd.read_parquet(paths.default_dates, columns=["customer_id", "default_date"])
    table = backtest_table(predictions, defaults, data_end, population=population, start=start)
    summary = summarize_backtest(table)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    predictions.to_parquet(args.out.with_suffix(".parquet"))
    print_table(summary)
    opts = load_config(args.config).score.outlook
    intervals = interval_check(table, predictions, args.correlations, opts)
    report = {"cutoffs": {"test_start": str(start.date()), "data_end": str(data_end.date())}}
    report |= {"outlook_backtest": summary, "interval_by_correlation": intervals}
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
