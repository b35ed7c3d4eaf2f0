"""The register stage on the tiny repository of conftest.py (moved here from test_score.py)."""

import json
import shutil

import pytest
from mlflow import MlflowClient

from pipelines import register
from pipelines.modelstore.registry import file_md5
from pipelines.runtime.config import Config

FEATURES = ["days_late_wavg_12m", "n_late_30_12m", "debt_ratio", "current_ratio", "dso_days"]


@pytest.fixture(scope="module")
def registered(staged, tmp_path_factory):
    root = tmp_path_factory.mktemp("register") / "repo"
    shutil.copytree(staged["root"], root, ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.chdir(root)
        record = register.run(Config())
    return {"root": root, "record": record}


def test_register_writes_the_registry_record(registered):
    root, record = registered["root"], registered["record"]
    assert json.loads((root / "data/reports/registry.json").read_text()) == record
    assert record["model_uri"] == "models:/trade-credit-pd/1"
    assert record["tracking_uri"] == "sqlite:///mlflow.db"
    assert (root / "mlflow.db").is_file() and (root / "mlartifacts").is_dir()
    example = next((root / "mlartifacts").rglob("input_example.json"))
    assert json.loads(example.read_text())["columns"] == FEATURES
    logged = {p.name for p in (root / "mlartifacts").rglob("*") if p.is_file()}
    assert {"metrics.json", "calibration.json"} <= logged


def test_register_tags_the_data_hashes(registered):
    record, root = registered["record"], registered["root"]
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    tags = client.get_run(record["run_id"]).data.tags
    assert tags["data_md5.customers"] == file_md5(root / "data/raw/customers.parquet")
    assert tags["data.as_of_date"] == "2024-12-31"
