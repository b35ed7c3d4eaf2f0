"""Real ``dvc repro`` in a copy of the repository, on a tiny synthetic book."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TINY = {
    "synthetic": {"n_customers": 400, "n_months": 60},
    "train": {"learning_rate": 0.05, "min_child_samples": 50, "num_boost_round": 300},
}

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The tracked and untracked-but-not-ignored files, as a fresh git repository."""
    dest = tmp_path_factory.mktemp("repo")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    params = yaml.safe_load((dest / "configs/params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    (dest / "configs/params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(cmd, cwd=dest, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"],
        cwd=dest, check=True,
    )  # fmt: skip
    _run(["dvc", "repro"], dest)
    return dest


def test_repro_writes_metrics_scores_and_registry(repo):
    metrics = json.loads((repo / "data/reports/metrics.json").read_text())
    assert 0.5 < metrics["test"]["auc"] <= 1
    assert "oracle_auc" in metrics["test"]
    registry = json.loads((repo / "data/reports/registry.json").read_text())
    assert registry["model_name"] == "trade-credit-pd"
    assert (repo / "mlflow.db").is_file()
    scores = pd.read_csv(repo / "data/scored/scores.csv")
    rejects = pd.read_csv(repo / "data/scored/rejects.csv")
    book = pd.read_parquet(repo / "data/raw/customers.parquet")
    assert set(scores["customer_id"]) | set(rejects["customer_id"]) == set(book["customer_id"])
    assert not set(scores["customer_id"]) & set(rejects["customer_id"])
    assert scores["pd_12m"].between(0, 1).all()
    assert (rejects["reason"].str.len() > 0).all()
    assert (scores["as_of_date"] == "2025-12-31").all()


def test_no_label_window_reaches_a_later_window(repo):
    split = pd.read_parquet(repo / "data/splits/split.parquet")
    horizon = yaml.safe_load((repo / "configs/params.yaml").read_text())["features"][
        "horizon_months"
    ]
    first = split.groupby("window")["as_of_date"].min()
    for earlier, later in (("train", "calibration"), ("train", "test"), ("calibration", "test")):
        last_label_end = split.loc[
            split["window"] == earlier, "as_of_date"
        ].max() + pd.offsets.MonthEnd(horizon)
        assert last_label_end <= first[later], (earlier, later)


def test_second_repro_runs_nothing(repo):
    out = _run(["dvc", "repro"], repo).stdout
    assert "Running stage" not in out
    assert "up to date" in out.lower()


def test_forced_rerun_gives_identical_metrics_and_scores(repo):
    metrics = (repo / "data/reports/metrics.json").read_text()
    scores = pd.read_csv(repo / "data/scored/scores.csv")
    _run(["dvc", "repro", "--force"], repo)
    assert (repo / "data/reports/metrics.json").read_text() == metrics
    again = pd.read_csv(repo / "data/scored/scores.csv")
    assert (again["model_version"] == scores["model_version"] + 1).all()
    pd.testing.assert_frame_equal(
        again.drop(columns="model_version"), scores.drop(columns="model_version")
    )
