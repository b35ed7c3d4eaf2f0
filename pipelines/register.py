"""Register stage: log the PD model to MLflow as one pyfunc, the challenger alias set last.

Inputs:
    data/models/booster.txt, data/models/calibrator.json, configs/master_scale.yaml,
    data/models/hazard.txt and hazard.json (the term structure) (the model),
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
    data/reports/registry.json: model_name, model_version, model_uri, alias (the run is the
        version's: ``registry.version_run_id``)
    (``models:/name/version``, what the promote stage judges) and alias (none in a
    ``dvc exp run``, whose version is tagged ``experiment`` instead).
Params:
    register (tracking_uri, experiment, model_name, alias), score.n_reasons,
    score.min_reason_logodds (stored with the model, as the reasons' minimum), and the train,
    calibrate, term_structure, baseline, evaluate, features and split sections (logged as run
    parameters).
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from features.attributes import as_model_input
from pipelines.io.artifacts import load_pd_model
from pipelines.io.files import StageError, read_json, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import KEYS, window_rows
from pipelines.modelstore.registry import log_and_register
from pipelines.modelstore.tags import data_tags, metric_tags, validation_tags
from pipelines.runtime.config import Config, load_config, parse_args

EXAMPLE_ROWS = 2
LOGGED_SECTIONS = (
    "train", "calibrate", "term_structure", "baseline", "evaluate", "features", "split"
)  # fmt: skip
RECORD_KEYS = ("model_name", "model_version", "model_uri", "alias")  # registry.json

log = logging.getLogger("pipelines.register")


def input_example(paths: Paths, feature_names: list[str]) -> pd.DataFrame:
    """Return the feature columns of the first two test-window rows (by key).

    Numbers as floats; a categorical attribute as its text (missing: ``None``).
    """
    test = window_rows(paths, ["test"])
    missing = [c for c in feature_names if c not in test.columns]
    if missing:
        raise StageError(f"{paths.snapshots} lacks columns {missing}; rerun the pipeline")
    return as_model_input(test.sort_values(KEYS).head(EXAMPLE_ROWS)[feature_names])


def run(cfg: Config, paths: Paths, experiment: str | None = None) -> dict:
    """Log and register the model; write and return the registry record.

    Under ``dvc exp run`` (``experiment``: its name) the version is registered without an alias
    and tagged ``experiment``, so that it never takes the challenger's place.
    """
    model = load_pd_model(paths, cfg.score.n_reasons, cfg.score.min_reason_logodds)
    params = {name: getattr(cfg, name).model_dump() for name in LOGGED_SECTIONS}
    params["model"] = {
        "n_features": len(model.feature_names),
        "num_trees": model.booster.num_trees(),
        "calibration_method": model.calibrator.method,
        "n_reasons": model.n_reasons,
        "min_reason_logodds": model.min_reason_logodds,
        "term_structure": model.term_structure is not None,
    }
    metrics = read_json(paths.metrics)
    if not isinstance(metrics, dict):
        raise StageError(f"{paths.metrics} must hold a JSON object, found {type(metrics).__name__}")
    record = log_and_register(
        model,
        tracking_uri=paths.tracking_uri(cfg.register_.tracking_uri),
        experiment=cfg.register_.experiment,
        model_name=cfg.register_.model_name,
        alias=None if experiment else cfg.register_.alias,
        params=params,
        metrics=metrics,
        artifacts=[
            paths.metrics,
            paths.train_record,
            paths.baseline,
            paths.scorecard,
            *[d for d in (paths.plots, paths.figures) if d.is_dir()],
        ],
        tags=data_tags(paths.raw, paths.manifest)
        | validation_tags(paths.validation_summary)
        | metric_tags(metrics)
        | ({"experiment": experiment} if experiment else {}),
        input_example=input_example(paths, model.feature_names),
    )
    # what names the version, no more: the run id and the tracking database's absolute path
    # differ on every machine and run, and would change dvc.lock each time
    write_json({k: record[k] for k in RECORD_KEYS}, paths.registry_record)
    log.info(
        "registered %s as %s (alias %s)", record["model_uri"], record["run_id"], record["alias"]
    )
    return record


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.register --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    experiment = os.environ.get("DVC_EXP_NAME") or None
    run_stage(lambda: run(load_config(args.config), Paths(), experiment))


if __name__ == "__main__":
    main()
