"""Register stage: log the PD model to MLflow as one pyfunc and give it the challenger alias.

Inputs:
    data/models/booster.txt, data/models/calibrator.json, configs/master_scale.yaml (the model),
    data/reports/metrics.json (logged as metrics and as a file),
    data/reports/plots/ and data/reports/figures/ (logged as artifacts when present),
    data/features/snapshots.parquet and data/splits/split.parquet (input example: the feature
    columns of two rows of the test window),
    data/raw/manifest.json and data/raw/*.parquet (MD5 of each table, tagged on run and version),
    data/reports/validation/summary.json (the data validation result, tagged),
    data/models/train.json, data/models/baseline.json, data/models/scorecard.csv (the tuning
    record and the baseline, logged as files).
    The version is also tagged with the headline test metrics of the model and the baseline,
    the grade back-test verdict and the score's stability, so that ``promote`` and a reviewer
    see them on the version itself.
Outputs:
    data/reports/registry.json: tracking_uri, run_id, model_name, model_version, model_uri
    (``models:/name/version``, what the score stage loads) and alias.
Params:
    register (tracking_uri, experiment, model_name, alias), score.n_reasons, and the train,
    calibrate, baseline, evaluate, features and split sections (logged as run parameters).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipelines.io.artifacts import load_pd_model
from pipelines.io.files import (
    FEATURES,
    MODELS,
    RAW,
    REPORTS,
    SPLITS,
    StageError,
    read_json,
    read_parquet,
    run_stage,
    write_json,
)
from pipelines.modelstore.registry import file_md5, log_and_register
from pipelines.runtime.config import Config, load_config, parse_args

METRICS = REPORTS / "metrics.json"
PLOT_DIRS = (REPORTS / "plots", REPORTS / "figures")
SNAPSHOTS = FEATURES / "snapshots.parquet"
SPLIT = SPLITS / "split.parquet"
KEYS = ["customer_id", "as_of_date"]
MANIFEST = RAW / "manifest.json"
REGISTRY = REPORTS / "registry.json"
EXAMPLE_ROWS = 2
LOGGED_SECTIONS = ("train", "calibrate", "baseline", "evaluate", "features", "split")
MODEL_FILES = (MODELS / "train.json", MODELS / "baseline.json", MODELS / "scorecard.csv")
VALIDATION = REPORTS / "validation" / "summary.json"
HEADLINE = ("auc", "auc_ci_low", "auc_ci_high", "gini", "ks", "brier", "ece", "mean_pd")

log = logging.getLogger("pipelines.register")


def data_tags(raw_dir: Path = RAW) -> dict[str, str]:
    """Return an MD5 tag per raw table, the manifest's hash and its as-of date."""
    manifest = read_json(Path(raw_dir) / MANIFEST.name)
    tables = sorted(Path(raw_dir).glob("*.parquet"))
    if not tables:
        raise StageError(f"no tables (*.parquet) in {raw_dir}: run the ingest stage first")
    tags = {f"data_md5.{path.stem}": file_md5(path) for path in tables}
    tags["data_md5.manifest"] = file_md5(Path(raw_dir) / MANIFEST.name)
    if isinstance(manifest, dict) and "as_of_date" in manifest:
        tags["data.as_of_date"] = str(manifest["as_of_date"])
    return tags


def metric_tags(metrics: dict) -> dict[str, str]:
    """Version tags of the headline test metrics, the back-test verdict and the stability."""
    tags = {}
    sources = {"test": metrics.get("test", {}), "baseline.test": _get(metrics, "baseline", "test")}
    for prefix, values in sources.items():
        tags |= {f"metrics.{prefix}.{k}": f"{values[k]:.6g}" for k in HEADLINE if k in values}
    for key in ("passed", "grades_failed", "monotone", "min_p_value"):
        if key in metrics.get("backtest", {}):
            tags[f"backtest.{key}"] = str(metrics["backtest"][key])
    for key in ("model_score_psi", "model_score_band", "features_shift"):
        if key in metrics.get("stability", {}):
            tags[f"stability.{key}"] = str(metrics["stability"][key])
    return tags


def validation_tags(path: Path = VALIDATION) -> dict[str, str]:
    """Version tags of the data validation result (success and the rules that failed)."""
    summary = read_json(path)
    if not isinstance(summary, dict):
        raise StageError(f"{path} must hold a JSON object")
    tables = summary.get("tables", {})
    failed = sum(int(t.get("rules_failed", 0)) for t in tables.values() if isinstance(t, dict))
    tags = {
        "validation.success": str(summary.get("success", "unknown")).lower(),
        "validation.rules_failed": str(failed),
    }
    if "rows_rejected" in summary:
        tags["validation.rows_rejected"] = str(summary["rows_rejected"])
    return tags


def _get(tree: dict, *keys: str) -> dict:
    for key in keys:
        tree = tree.get(key, {}) if isinstance(tree, dict) else {}
    return tree


def input_example(feature_names: list[str]) -> pd.DataFrame:
    """Return the feature columns of the first two test-window rows, as floats."""
    snapshots = read_parquet(SNAPSHOTS)
    split = read_parquet(SPLIT)
    for path, frame, columns in ((SNAPSHOTS, snapshots, feature_names), (SPLIT, split, ["window"])):
        missing = [c for c in [*KEYS, *columns] if c not in frame.columns]
        if missing:
            raise StageError(f"{path} lacks columns {missing}; rerun the pipeline (dvc repro)")
    test = _keyed(split.loc[split["window"] == "test", KEYS]).sort_values(KEYS)
    rows = test.head(EXAMPLE_ROWS).merge(_keyed(snapshots[[*KEYS, *feature_names]]), on=KEYS)
    if rows.empty:
        raise StageError(f"no snapshot of the test window in {SPLIT} for an input example")
    return rows[feature_names].astype(float)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    # key dtypes made equal, so that the merge lines up (as in the evaluate stage)
    return frame.assign(
        customer_id=frame["customer_id"].astype(str),
        as_of_date=pd.to_datetime(frame["as_of_date"]).astype("datetime64[ns]"),
    )


def run(cfg: Config) -> dict:
    """Log and register the model; write and return the registry record."""
    model = load_pd_model(n_reasons=cfg.score.n_reasons)
    params = {name: getattr(cfg, name).model_dump() for name in LOGGED_SECTIONS}
    params["model"] = {
        "n_features": len(model.feature_names),
        "num_trees": model.booster.num_trees(),
        "calibration_method": model.calibrator.method,
        "n_reasons": model.n_reasons,
    }
    metrics = read_json(METRICS)
    if not isinstance(metrics, dict):
        raise StageError(f"{METRICS} must hold a JSON object, found {type(metrics).__name__}")
    record = log_and_register(
        model,
        tracking_uri=cfg.register_.tracking_uri,
        experiment=cfg.register_.experiment,
        model_name=cfg.register_.model_name,
        alias=cfg.register_.alias,
        params=params,
        metrics=metrics,
        artifacts=[METRICS, *MODEL_FILES, *[d for d in PLOT_DIRS if d.is_dir()]],
        tags=data_tags() | validation_tags() | metric_tags(metrics),
        input_example=input_example(model.feature_names),
    )
    write_json(record, REGISTRY)
    log.info(
        "registered %s as %s (alias %s)", record["model_uri"], record["run_id"], record["alias"]
    )
    return record


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.register --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
