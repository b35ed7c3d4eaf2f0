"""Run the whole pipeline on each public data set in ../shared/data and compare with the literature.

Usage (from the repository root, with the project's venv):
    python bench/real_data.py                  # every data set, full size
    python bench/real_data.py --sample 2000 --sources polish_bankruptcy --out /tmp/r.json

Each data set runs through every stage (ingest .. score, the stage modules' ``run``) in a
scratch folder with its own MLflow store. Results: ``real_data.json`` beside the reports
(``Paths.reports``; one entry per source) and a printed table. Beside the pipeline's test AUC,
``plain_auc`` is the anchor: LightGBM's defaults on the same features, fitted on the same
training rows and scored on the same test rows; ``plain_auc_all`` fits them on the training and
calibration rows (where a calibration window is held out; else the same rows).

Data of one date (split by customer) is also judged by ``--cv-folds``-fold cross-validation
stratified by outcome, the protocol of the published figures: the model recipe
(``models.recipe.fit_pd_model`` with the run's settings) and LightGBM's defaults are fitted on
the same folds; ``cv_auc`` / ``cv_plain_auc`` are the means of the folds' AUCs (their range in
``cv_auc_folds``), ``cv_ece`` the calibration error of the pooled out-of-fold PDs.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import yaml

from features.attributes import as_categories, categorical_levels
from models.metrics import auc, expected_calibration_error
from models.recipe import fit_pd_model, model_features
from models.train import customer_folds
from pipelines.io.artifacts import load_attribute_specs, load_master_scale
from pipelines.io.files import StageError, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import present_windows, window_rows
from pipelines.runtime.config import load_config
from pipelines.runtime.recipe import booster_settings, calibrator_settings
from pipelines.sources.public import PUBLIC

ROOT = Path(__file__).resolve().parents[1]
PARAMS = Path("configs", "params.yaml")  # the stages' default --config, under a root
OUT = "real_data.json"  # beside the pipeline's reports; not a pipeline output
# the team's copies beside the checkout, else those python -m pipelines.fetch_public downloads
SHARED = ROOT.parent / "shared" / "data"
if not SHARED.is_dir():
    SHARED = ROOT / PUBLIC
STAGES = tuple(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])  # pipeline order
REFERENCE = {
    "taiwan_credit_default": "gradient boosting ~0.78 AUC (Yeh & Lien 2009 data)",
    "polish_bankruptcy": "boosted trees 0.93-0.95 AUC on 5year (Zieba et al. 2016)",
    "ibm_ar_late_payment": "no default label: features only",
    "industry_cycle": "synthetic book, real FF12/OECD index (no signal in it there)",
}
FILES = {
    "taiwan_credit_default": "UCI_Credit_Card.csv",
    "polish_bankruptcy": "5year.arff",
    "ibm_ar_late_payment": "WA_Fn-UseC_-Accounts-Receivable.csv",
}


def sample_input(source: str, folder: Path, n: int, seed: int = 0) -> Path:
    """Copy the data set's file with ``n`` randomly chosen records into ``folder``."""
    src = SHARED / source / FILES[source]
    dest = folder / FILES[source]
    folder.mkdir(parents=True, exist_ok=True)
    if source == "polish_bankruptcy":
        text = src.read_text(encoding="utf-8")
        head, data = text.split("@data", 1)
        lines = [line for line in data.splitlines() if line.strip()]
        picked = pd.Series(lines).sample(min(n, len(lines)), random_state=seed)
        dest.write_text(head + "@data\n" + "\n".join(picked) + "\n", encoding="utf-8")
    else:
        frame = pd.read_csv(src, dtype=str)
        if source == "ibm_ar_late_payment":
            keep = frame["customerID"].drop_duplicates().sample(min(n, 100), random_state=seed)
            frame = frame[frame["customerID"].isin(keep)]
        else:
            frame = frame.sample(min(n, len(frame)), random_state=seed)
        frame.to_csv(dest, index=False)
    return folder


def params_for(source: str, input_folder: Path | None) -> dict:
    params = yaml.safe_load((ROOT / PARAMS).read_text())
    if source == "industry_cycle":
        params["ingest"].update(source="synthetic", industry_index="industry_cycle")
        params["ingest"]["industry_cycle_path"] = str(SHARED / "industry_cycle")
        params["synthetic"]["n_customers"] = 2000
    else:
        params["ingest"].update(source=source, path=str(input_folder or SHARED / source))
    return params


def run_source(source: str, sample: int | None, cv_folds: int = 0) -> dict:
    """Run every stage on one data set; return its figures."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{source}-"))
    shutil.copytree(ROOT / "configs", work / "configs")
    folder = sample_input(source, work / "input", sample) if sample and source in FILES else None
    (work / PARAMS).write_text(yaml.safe_dump(params_for(source, folder)))
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    cfg, paths = load_config(work / PARAMS), Paths(work)
    start, stopped, here = time.perf_counter(), None, Path.cwd()
    os.chdir(work)  # the MLflow store of the params (a relative sqlite URI) goes there too
    try:
        for stage in STAGES:
            try:
                importlib.import_module(f"pipelines.{stage}").run(cfg, paths)
            except StageError as err:
                stopped = f"{stage}: {str(err).splitlines()[0]}"
                break
            print(f"  {source:24s} {stage:10s} done", flush=True)
    finally:
        os.chdir(here)
    result = figures(paths, source, time.perf_counter() - start, stopped)
    # the recipe's own figure: whatever the gate decided at the end of the run
    if cv_folds and paths.windows.exists() and by_customer(paths):
        started = time.perf_counter()
        result |= cross_validated(cfg, paths, cv_folds)
        result["cv_seconds"] = round(time.perf_counter() - started, 1)
    shutil.rmtree(work, ignore_errors=True)
    return result


def by_customer(paths: Paths) -> bool:
    return json.loads(paths.windows.read_text()).get("strategy") == "by_customer"


def cross_validated(cfg, paths: Paths, n_folds: int) -> dict:
    """The recipe and plain LightGBM by ``n_folds``-fold CV over all labelled customers."""
    rows = window_rows(paths, present_windows(paths, ("train", "calibration", "test")))
    names = model_features(rows)
    folds = customer_folds(rows, n_folds, cfg.split.seed)
    scale, attributes = load_master_scale(paths.master_scale), load_attribute_specs(paths)
    inner = cfg.split.cross_fit_folds or n_folds
    out_of_fold = np.empty(len(rows))
    model_aucs, plain_aucs = [], []
    for number, (fit, held) in enumerate(folds, start=1):
        learn, judge = rows.iloc[fit], rows.iloc[held]
        model, _ = fit_pd_model(
            learn, None, names, booster_settings(cfg), calibrator_settings(cfg), scale,
            attributes=attributes, cross_fit_folds=inner,
        )  # fmt: skip
        out_of_fold[held] = model.predict_pd(judge)
        y = judge["label"].to_numpy()
        model_aucs.append(auc(y, out_of_fold[held]))
        plain_aucs.append(plain_fit_auc(learn, judge, names))
        print(f"  fold {number}: model AUC {model_aucs[-1]:.4f}, plain {plain_aucs[-1]:.4f}")
    y = rows["label"].to_numpy()
    return {
        "cv_folds": n_folds,
        "cv_auc": float(np.mean(model_aucs)),
        "cv_auc_folds": [round(min(model_aucs), 4), round(max(model_aucs), 4)],
        "cv_plain_auc": float(np.mean(plain_aucs)),
        "cv_ece": expected_calibration_error(y, out_of_fold, cfg.evaluate.calibration_bins),
    }


def figures(paths: Paths, source: str, seconds: float, stopped: str | None) -> dict:
    labelled = (
        pd.read_parquet(paths.snapshots, columns=["label"]).dropna()
        if paths.snapshots.exists()
        else None
    )
    out = {
        "rows": None if labelled is None else len(labelled),
        "positives": None if labelled is None else int(labelled["label"].sum()),
        "seconds": round(seconds, 1),
        "stopped": stopped,
        "reference": REFERENCE[source],
    }
    if paths.promotion.exists():  # the gate's decision; a refusal stops the run at score
        promotion = json.loads(paths.promotion.read_text())
        out["gate"] = promotion["decision"]
        out["gate_reasons"] = promotion.get("reasons", [])
    if paths.metrics.exists():  # evaluate's figures, whatever the gate decided
        test = json.loads(paths.metrics.read_text())["test"]
        out |= {k: test[k] for k in ("auc", "brier", "ece")}
        out |= {"test_rows": test["n_rows"], "test_positives": test["n_defaults"]}
    else:
        out |= {"auc": None, "brier": None, "ece": None}
    out["plain_auc"] = plain_lightgbm_auc(paths, ("train",))
    out["plain_auc_all"] = plain_lightgbm_auc(paths, ("train", "calibration"))
    return out


def plain_lightgbm_auc(paths: Paths, windows: tuple[str, ...]) -> float | None:
    """The anchor: LightGBM's defaults on the pipeline's features and split.

    Fitted on the rows of ``windows`` (``train``: what the booster learns from; with
    ``calibration``: all the pipeline learns from), scored on the test rows, categorical
    attributes as categories; ``None`` where the run left no split.
    """
    if not (paths.snapshots.exists() and paths.split.exists()):
        return None
    keys = ["customer_id", "as_of_date"]
    rows = pd.read_parquet(paths.snapshots).merge(pd.read_parquet(paths.split), on=keys)
    rows = rows[rows["label"].notna()]
    learn, test = rows[rows["window"].isin(windows)], rows[rows["window"] == "test"]
    if test["label"].nunique() < 2 or learn["label"].nunique() < 2:
        return None
    return plain_fit_auc(learn, test, model_features(rows))


def plain_fit_auc(learn: pd.DataFrame, test: pd.DataFrame, names: list[str]) -> float:
    """AUC on ``test`` of LightGBM's defaults fitted on ``learn`` (categoricals as categories)."""
    levels = categorical_levels(learn, names)
    learn, test = as_categories(learn, levels), as_categories(test, levels)
    plain = lgb.LGBMClassifier(random_state=0, verbose=-1, n_jobs=1)
    plain.fit(learn[names], learn["label"])
    return float(auc(test["label"].to_numpy(), plain.predict_proba(test[names])[:, 1]))


def _fmt(value: float | None, spec: str) -> str:
    width = int(spec.split(".")[0].rstrip("df"))
    return "-".rjust(width) if value is None else format(value, spec)


COLUMNS = (
    ("rows", "7d"), ("positives", "6d"), ("auc", "6.3f"), ("plain_auc", "9.3f"),
    ("plain_auc_all", "13.3f"), ("brier", "7.4f"), ("ece", "6.3f"), ("cv_auc", "6.3f"),
    ("cv_plain_auc", "12.3f"), ("cv_ece", "6.3f"),
)  # fmt: skip


def table(results: dict[str, dict]) -> str:
    buf = io.StringIO()
    print(f"{'data set':24s}", *(f"{c:>{s[0]}}" for c, s in COLUMNS), "   sec  reference", file=buf)
    for name, r in results.items():
        cells = (_fmt(r.get(c), spec) for c, spec in COLUMNS)
        print(f"{name:24s}", *cells, f"{r['seconds']:6.1f}", f" {r['reference']}", file=buf)
        if r.get("gate"):
            why = "; ".join(r["gate_reasons"]) if r["gate"] == "refused" else ""
            print(f"{'':24s} gate: {r['gate']} {why}".rstrip(), file=buf)
        if r["stopped"]:
            print(f"{'':24s} stopped at {r['stopped']}", file=buf)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="*", default=list(REFERENCE))
    parser.add_argument(
        "--sample", type=int, default=None, help="records per data set (smoke runs)"
    )
    parser.add_argument(
        "--cv-folds", type=int, default=5,
        help="folds of the cross-validation of data of one date (0: hold-out figures only)",
    )  # fmt: skip
    parser.add_argument("--out", default=str(Paths(ROOT).reports / OUT))
    args = parser.parse_args(argv)
    missing = [s for s in args.sources if s in FILES and not (SHARED / s / FILES[s]).is_file()]
    if missing:
        raise SystemExit(
            f"data sets not found under {SHARED}: {missing}; download them with "
            f"python -m pipelines.fetch_public {' '.join(missing)}"
        )
    logging.basicConfig(level=logging.WARNING)
    results = {source: run_source(source, args.sample, args.cv_folds) for source in args.sources}
    write_json(results, Path(args.out))
    print(table(results))


if __name__ == "__main__":
    main()
