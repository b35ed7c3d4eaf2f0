"""``dvc exp run -S ...`` as the README says: metrics shown; champion and score history kept."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

EXPERIMENT = "lr-try"


def _fingerprint(folder):
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _aliases(repo) -> dict[str, int]:
    with sqlite3.connect(repo / "mlflow.db") as db:
        rows = db.execute("select alias, version from registered_model_aliases").fetchall()
    return {alias: int(version) for alias, version in rows}


def _version_tags(repo, version: int) -> dict[str, str]:
    with sqlite3.connect(repo / "mlflow.db") as db:
        rows = db.execute(
            "select key, value from model_version_tags where version = ?", (version,)
        ).fetchall()
    return dict(rows)


@pytest.fixture(scope="module")
def experiment(tiny_repo, tmp_path_factory, run_command):
    """A copy of the tiny repository (git, dvc, registry, data) after one experiment."""
    repo = tmp_path_factory.mktemp("exp") / "repo"
    shutil.copytree(tiny_repo, repo, symlinks=True)
    before = {"aliases": _aliases(repo), "history": _fingerprint(repo / "data/scored/history")}
    run_command(["dvc", "exp", "run", "-n", EXPERIMENT, "-S", "train.learning_rate=0.08"], repo)
    return repo, before


def test_exp_show_shows_the_experiments_metrics(experiment, run_command):
    repo, _ = experiment
    table = pd.read_csv(io.StringIO(run_command(["dvc", "exp", "show", "--csv"], repo).stdout))
    row = table[table["Experiment"] == EXPERIMENT]
    assert len(row) == 1, table["Experiment"].tolist()
    auc = [c for c in table.columns if c.endswith("test.auc") and "baseline" not in c]
    assert auc and 0.5 < float(row[auc[0]].iloc[0]) <= 1, table.columns.tolist()
    assert float(row["train.learning_rate"].iloc[0]) == 0.08


def test_an_experiment_moves_neither_the_champion_nor_the_history(experiment):
    repo, before = experiment
    after = _aliases(repo)
    assert after == before["aliases"], "an experiment moved an alias"
    assert _fingerprint(repo / "data/scored/history") == before["history"]
    record = json.loads((repo / "data/reports/registry.json").read_text())
    assert record["alias"] is None
    assert _version_tags(repo, record["model_version"])["experiment"] == EXPERIMENT
    gate = json.loads((repo / "data/reports/promotion.json").read_text())
    assert gate["decision"].startswith("not promoted: experiment")
    assert gate["champion"] == before["aliases"]["champion"]
    scores = pd.read_csv(repo / "data/scored/scores.csv", encoding="utf-8-sig")
    assert (scores["model_version"] == before["aliases"]["champion"]).all()
