"""Model card stage: the documentation a model-risk reviewer asks for, for every registered run.

Written from the DVC outputs of the run and the registered version's tags (git commit, data
hashes), then logged as an artifact of the version's MLflow run.

Inputs:
    data/raw/manifest.json, data/features/summary.json, data/splits/windows.json,
    data/models/train.json, data/models/baseline.json, data/reports/calibration.json,
    data/reports/metrics.json, data/reports/plots/{grades,stability}.csv,
    data/reports/validation/summary.json, data/reports/registry.json, the version's tags.
Outputs:
    data/reports/model_card.md; the copy logged to the MLflow run of the registered version
        also names the git commit (the file leaves it out: it would change dvc.lock with every
        commit).
Params:
    features, split, evaluate, register
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pandas as pd

from pipelines.io.files import atomic_path, read_json, run_stage
from pipelines.io.paths import Paths
from pipelines.modelstore import registry
from pipelines.render.card import render
from pipelines.runtime.config import Config, load_config, parse_args

GIT_TAGS = ("git_commit", "git_dirty")

log = logging.getLogger("pipelines.model_card")


def inputs(paths: Paths) -> dict:
    """The run's records and tables the card is written from."""
    records = {
        "manifest": paths.manifest,
        "features": paths.features_summary,
        "windows": paths.windows,
        "train": paths.train_record,
        "baseline": paths.baseline,
        "calibration": paths.calibration_report,
        "calibrator": paths.calibrator,
        "metrics": paths.metrics,
        "validation": paths.validation_summary,
        "registry": paths.registry_record,
    }
    tables = {"grades": paths.plot("grades"), "psi": paths.plot("stability")}
    return {n: read_json(p) for n, p in records.items()} | {
        n: pd.read_csv(p) for n, p in tables.items()
    }


def run(cfg: Config, paths: Paths) -> str:
    """Write the card and log it to the registered version's run."""
    d = inputs(paths)
    reg, uri = d["registry"], paths.tracking_uri(cfg.register_.tracking_uri)
    tags = registry.version_tags(reg["model_name"], reg["model_version"], uri)
    # the file DVC hashes leaves out the commit (it changes with every commit, dvc.lock's own
    # included); the copy logged to the version's run names it
    text = render(d, {k: v for k, v in tags.items() if k not in GIT_TAGS}, cfg)
    with atomic_path(paths.model_card) as tmp:
        tmp.write_text(text, encoding="utf-8")
    run_id = registry.version_run_id(reg["model_name"], reg["model_version"], uri)
    with tempfile.TemporaryDirectory() as folder:
        logged = Path(folder) / paths.model_card.name
        logged.write_text(render(d, tags, cfg), encoding="utf-8")
        registry.log_run_file(run_id, logged, uri)
    log.info("model card: wrote %s and logged it to run %s", paths.model_card, run_id)
    return text


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.model_card --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
