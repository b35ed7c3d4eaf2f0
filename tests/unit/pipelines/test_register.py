"""The register stage on the tiny repository of conftest.py (moved here from test_score.py)."""

import json
import shutil
from dataclasses import replace

import pytest
from mlflow import MlflowClient

from pipelines import register
from pipelines.io.files import file_md5
from pipelines.modelstore.registry import ARTIFACT_DIR
from pipelines.runtime.config import Config

FEATURES = ["days_late_wavg_12m", "n_late_30_12m", "debt_ratio", "current_ratio", "dso_days"]


@pytest.fixture(scope="module")
def registered(staged, tmp_path_factory):
    root = tmp_path_factory.mktemp("register") / "repo"
    shutil.copytree(
        staged["paths"].root, root, ignore=shutil.ignore_patterns("mlflow.db", ARTIFACT_DIR)
    )
    paths = replace(staged["paths"], root=root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        record = register.run(Config(), paths)
    return {"paths": paths, "record": record}


def test_register_writes_the_registry_record(registered):
    paths, record = registered["paths"], registered["record"]
    root = paths.root
    # registry.json names the version only: no run id, no absolute path (dvc.lock stays put)
    assert json.loads(paths.registry_record.read_text()) == {
        k: record[k] for k in ("model_name", "model_version", "model_uri", "alias")
    }
    assert record["model_uri"] == "models:/trade-credit-pd/1"
    # the configured sqlite:///mlflow.db, resolved against the repository, not the cwd
    assert record["tracking_uri"] == paths.tracking_uri("sqlite:///mlflow.db")
    assert record["tracking_uri"] == f"sqlite:///{(root / 'mlflow.db').resolve()}"
    assert (root / "mlflow.db").is_file() and (root / ARTIFACT_DIR).is_dir()
    example = next((root / ARTIFACT_DIR).rglob("input_example.json"))
    assert json.loads(example.read_text())["columns"] == FEATURES
    logged = {p.name for p in (root / ARTIFACT_DIR).rglob("*") if p.is_file()}
    assert {paths.metrics.name, paths.plot("calibration").name} <= logged


def test_register_tags_the_data_hashes(registered):
    record, paths = registered["record"], registered["paths"]
    client = MlflowClient(tracking_uri=record["tracking_uri"])
    tags = client.get_run(record["run_id"]).data.tags
    assert tags["data_md5.customers"] == file_md5(paths.raw_table("customers"))
    assert tags["data.as_of_date"] == "2024-12-31"
