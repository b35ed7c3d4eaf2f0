"""Real ``dvc repro`` in a copy of the repository, on a tiny synthetic book (``tiny_repo``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow


def test_repro_writes_metrics_scores_and_registry(tiny_repo):
    metrics = json.loads((tiny_repo / "data/reports/metrics.json").read_text())
    assert 0.5 < metrics["test"]["auc"] <= 1
    assert "oracle_auc" in metrics["test"]
    registry = json.loads((tiny_repo / "data/reports/registry.json").read_text())
    assert registry["model_name"] == "trade-credit-pd"
    assert (tiny_repo / "mlflow.db").is_file()
    scores = pd.read_csv(tiny_repo / "data/scored/scores.csv")
    rejects = pd.read_csv(tiny_repo / "data/scored/rejects.csv")
    defaulted = pd.read_csv(tiny_repo / "data/scored/defaulted.csv")
    book = pd.read_parquet(tiny_repo / "data/raw/customers.parquet")
    ids = [set(t["customer_id"]) for t in (scores, defaulted, rejects)]
    assert set().union(*ids) == set(book["customer_id"])
    assert sum(map(len, ids)) == len(book)  # each customer in exactly one of the three
    assert scores["pd_12m"].between(0, 1).all()
    assert (rejects["reason"].str.len() > 0).all()
    assert (scores["as_of_date"] == "2025-12-31").all()


def test_no_label_window_reaches_a_later_window(tiny_repo):
    split = pd.read_parquet(tiny_repo / "data/splits/split.parquet")
    horizon = yaml.safe_load((tiny_repo / "configs/params.yaml").read_text())["features"][
        "horizon_months"
    ]
    first = split.groupby("window")["as_of_date"].min()
    for earlier, later in (("train", "calibration"), ("train", "test"), ("calibration", "test")):
        last_label_end = split.loc[
            split["window"] == earlier, "as_of_date"
        ].max() + pd.offsets.MonthEnd(horizon)
        assert last_label_end <= first[later], (earlier, later)


def test_second_repro_runs_nothing(tiny_repo, run_command):
    out = run_command(["dvc", "repro"], tiny_repo).stdout
    assert "Running stage" not in out
    assert "up to date" in out.lower()


def test_forced_rerun_gives_identical_metrics_and_scores(tiny_repo, run_command):
    metrics = (tiny_repo / "data/reports/metrics.json").read_text()
    scores = pd.read_csv(tiny_repo / "data/scored/scores.csv")
    run_command(["dvc", "repro", "--force"], tiny_repo)
    assert (tiny_repo / "data/reports/metrics.json").read_text() == metrics
    again = pd.read_csv(tiny_repo / "data/scored/scores.csv")
    assert (again["model_version"] == scores["model_version"] + 1).all()
    pd.testing.assert_frame_equal(
        again.drop(columns="model_version"), scores.drop(columns="model_version")
    )
