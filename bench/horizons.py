"""PD term structure, out of time: the hazard model against a direct classifier per horizon.

The evaluate stage judges the served term structure per horizon every run (``metrics.json``
``horizons``); this study adds what the stage does not fit: the hazard model on the training
window alone, and today's 12-month model against both hazard fits.

On the default run's snapshots and split, for the horizons 1, 3, 6 and 12 months, on the test
window: AUC, Brier, ECE and the grade back-test of

* ``hazard``: :class:`models.hazard.HazardModel` on the features the 12-month direct model's
  stability screen kept, fitted on the training window and the embargo months before the test
  window, every month observed by the test window's first as-of date ``T0`` (the censored
  months: the embargo snapshots' 12-month labels reach past ``T0`` and are thrown away
  today), calibrated per horizon on the calibration window (whose label months the embargo
  rows' events overlap, as the training labels of today's model reach into calibration);
* ``hazard_train_only``: the same on the training window alone, observed until its labels
  end (the data today's model learns from): what the model form alone changes;
* ``direct``: the existing recipe (:func:`models.recipe.fit_pd_model`, the ``train`` and
  ``calibrate`` params) on the label "default within h months", training then calibration
  window; at 12 months this is today's model, retrained in this run;
* ``today``: the trained 12-month model of the run (``data/models``), for reference;
* ``oracle``: the synthetic book's true PD per horizon (the truth table with ``true_pd_<h>m``,
  written by the generator of this version: ``--truth``).

No person-period row, label or default date used in fitting or calibrating lies after ``T0``.
Takes about 10 minutes on two busy cores (the four direct recipes, each with its grid search).

    .venv/bin/python -m bench.horizons --truth /tmp/truth.parquet --out /tmp/horizons.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from features.timeline import month_end, month_index
from models import horizons
from models.hazard import HazardModel, HazardSettings
from models.horizons import default_within
from models.recipe import fit_pd_model, model_features
from pipelines.io.artifacts import load_master_scale, load_pd_model
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config
from pipelines.runtime.recipe import booster_settings, calibrator_settings

HORIZONS = (1, 3, 6, 12)
log = logging.getLogger("bench.horizons")


def load_rows(paths: Paths, truth_path: Path) -> pd.DataFrame:
    """Every snapshot with its window and the true PD per horizon."""
    snapshots = pd.read_parquet(paths.snapshots)
    split = pd.read_parquet(paths.split, columns=["customer_id", "as_of_date", "window"])
    truth = pd.read_parquet(truth_path)
    for frame in (snapshots, split, truth):
        frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).astype("datetime64[ns]")
    keys = ["customer_id", "as_of_date"]
    rows = snapshots.merge(split, on=keys, how="left", validate="1:1")
    truth_columns = [f"true_pd_{h}m" for h in HORIZONS]
    missing = [c for c in truth_columns if c not in truth]
    if missing:
        raise SystemExit(f"{truth_path} lacks {missing}: regenerate it with this generator")
    return rows.merge(truth[[*keys, *truth_columns]], on=keys, how="left", validate="1:1")


def cutoffs(rows: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """``T0`` (first test as-of date), the training labels' end, the data's last month end."""
    first_test = rows.loc[rows["window"] == "test", "as_of_date"].min()
    train_end = month_index(rows.loc[rows["window"] == "train", "as_of_date"]).max()
    return {
        "test_start": first_test,
        "train_labels_end": month_end(train_end + 12)[0],
        "data_end": rows["as_of_date"].max(),
    }


def fit_hazards(rows: pd.DataFrame, features: list[str], cut: dict, settings: HazardSettings):
    """The two hazard models, each calibrated on the calibration window (observed by T0)."""
    calibration = rows[rows["window"] == "calibration"]
    before_test = rows["as_of_date"] < cut["test_start"]
    fits = {
        "hazard": (rows[rows["window"].isin(["train", "embargo"]) & before_test], "test_start"),
        "hazard_train_only": (rows[rows["window"] == "train"], "train_labels_end"),
    }
    models = {}
    for name, (fit_rows, until) in fits.items():
        start = time.perf_counter()
        model = HazardModel(settings, features).fit(fit_rows, cut[until])
        models[name] = model.calibrate(calibration, cut["test_start"])
        model.fit_record_["seconds"] = round(time.perf_counter() - start, 1)
        log.info("%s: %s", name, model.fit_record_)
    return models


def fit_directs(rows: pd.DataFrame, features: list[str], cfg, scale) -> tuple[dict, list[str]]:
    """The usual recipe per horizon on "default within h months" (labelled rows only).

    Returns the models and the features the 12-month one kept (its stability screen).
    """
    directs, kept = {}, features
    for h in HORIZONS:
        windows = {}
        for name in ("train", "calibration"):
            part = rows[rows["window"] == name].copy()
            part["label"] = default_within(part, h, rows["as_of_date"].max()).to_numpy()
            windows[name] = part
        model, record = fit_pd_model(
            windows["train"], windows["calibration"], features,
            booster_settings(cfg), calibrator_settings(cfg), scale,
        )  # fmt: skip
        directs[h] = model
        kept = record["train"]["features"] if h == 12 else kept
        log.info("direct %d months fitted", h)
    return directs, kept


def auc_pairs() -> dict[int, list[tuple[str, str]]]:
    """Per horizon the hazard model minus the direct classifier; at 12 months also both
    hazard models minus today's model and the direct one minus today's."""
    pairs = {h: [("hazard", "direct")] for h in HORIZONS}
    pairs[12] += [
        ("hazard", "today"), ("hazard_train_only", "direct"),
        ("hazard_train_only", "today"), ("direct", "today"),
    ]  # fmt: skip
    return pairs


def run(cfg_path: str, truth_path: Path, settings: HazardSettings) -> dict:
    """Fit everything, evaluate on the test window, return the report."""
    cfg, paths = load_config(cfg_path), Paths()
    scale = load_master_scale(paths.master_scale)
    rows = load_rows(paths, truth_path)
    features = model_features(rows[rows["window"] == "train"])
    cut = cutoffs(rows)
    directs, screened = fit_directs(rows, features, cfg, scale)
    hazards = fit_hazards(rows, screened, cut, settings)
    test = rows[rows["window"] == "test"].reset_index(drop=True)
    predictions = {name: {} for name in ("hazard", "hazard_train_only", "direct", "oracle")}
    for name, model in hazards.items():
        cumulative = model.predict_cumulative(test)
        predictions[name] = {h: cumulative[:, h - 1] for h in HORIZONS}
    for h in HORIZONS:
        predictions["direct"][h] = directs[h].predict_pd(test)
        predictions["oracle"][h] = np.clip(test[f"true_pd_{h}m"].to_numpy(float), 1e-6, 1)
    predictions["today"] = {12: load_pd_model(paths).predict_pd(test)}
    terms = hazards["hazard"].predict_frame(test)
    y = horizons.outcomes(test, HORIZONS, cut["data_end"])
    return {
        "cutoffs": {k: str(v.date()) for k, v in cut.items()},
        "settings": vars(settings),
        "hazard_features": screened,
        "fits": {name: model.fit_record_ for name, model in hazards.items()},
        "per_horizon": horizons.per_horizon(
            test,
            y,
            predictions,
            scale,
            cfg.evaluate.calibration_bins,
            cfg.evaluate.backtest_alpha,
        ),  # fmt: skip
        "auc_differences": horizons.auc_differences(
            test, y, predictions, auc_pairs(), cfg.evaluate.bootstrap_samples, cfg.evaluate.seed
        ),
        "pd_terms": {
            "mean": float(terms["pd_terms"].mean()),
            "between_month_points": bool(
                (terms["pd_terms"] >= 0).all() and (terms["pd_terms"] <= terms["pd_12m"]).all()
            ),
            "monotone_rows": float(np.all(np.diff(terms.iloc[:, :12], axis=1) >= 0, axis=1).mean()),
        },
    }


def targets(report: dict) -> list[str]:
    """The issue's targets, one line each: hazard vs direct - 0.005, vs 0.95 oracle, ECE."""
    lines = []
    for h, row in report["per_horizon"].items():
        hz, direct, oracle = row["hazard"], row["direct"], row["oracle"]
        lines.append(
            f"{h:>4}: hazard AUC {hz['auc']:.4f} (direct {direct['auc']:.4f}, oracle "
            f"{oracle['auc']:.4f}) >= direct-0.005 {hz['auc'] >= direct['auc'] - 0.005}, "
            f">= 0.95 oracle {hz['auc'] >= 0.95 * oracle['auc']}; ECE {hz['ece']:.4f} < 0.02 "
            f"{hz['ece'] < 0.02}"
        )
    return lines


def print_table(report: dict) -> None:
    """Model x horizon: AUC, Brier, ECE."""
    names = ("hazard", "hazard_train_only", "direct", "today", "oracle")
    print(
        f"{'horizon':<8}{'model':<19}{'AUC':>8}{'Brier':>9}{'ECE':>8}{'mean PD':>9}{'rate':>8}"
        f"  grade back-test"
    )
    for h, row in report["per_horizon"].items():
        for name in names:
            if name in row:
                m, test = row[name], row[name]["backtest"]
                verdict = "passed" if test["passed"] else f"failed grades {test['grades_failed']}"
                print(
                    f"{h:<8}{name:<19}{m['auc']:>8.4f}{m['brier']:>9.5f}{m['ece']:>8.4f}"
                    f"{m['mean_pd']:>9.4f}{row['default_rate']:>8.4f}  {verdict}"
                )
    for key, gain in report["auc_differences"].items():
        low, high = gain["interval_95"]
        print(f"AUC {key}: {gain['mean']:+.4f} [{low:+.4f}, {high:+.4f}]")
    print("\n".join(targets(report)))


def main(argv: list[str] | None = None) -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/params.yaml")
    parser.add_argument("--truth", type=Path, required=True, help="truth with true_pd_<h>m")
    parser.add_argument("--out", type=Path, required=True, help="JSON report")
    parser.add_argument("--negative-share", type=float, default=0.3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    report = run(args.config, args.truth, HazardSettings(negative_share=args.negative_share))
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print_table(report)


if __name__ == "__main__":
    main()
