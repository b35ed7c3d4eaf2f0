"""Real ``dvc repro`` in a copy of the repository, on a tiny synthetic book (``tiny_repo``).

The last tests run ``dvc exp run -S ...`` as the README says: the experiment's metrics are in
``dvc exp show``, and neither the champion nor the score history moves.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3

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


def test_the_model_card_file_is_stable_and_its_logged_copy_names_the_commit(tiny_repo):
    card = (tiny_repo / "data/reports/model_card.md").read_text(encoding="utf-8")
    assert "- Git commit: the version's `git_commit` tag in MLflow" in card  # no hash in dvc.lock
    logged = [
        p.read_text(encoding="utf-8") for p in (tiny_repo / "mlartifacts").rglob("model_card.md")
    ]
    assert logged and all("- Git commit: `" in text for text in logged)


def test_no_label_window_reaches_a_later_window(tiny_repo):
    split = pd.read_parquet(tiny_repo / "data/splits/split.parquet")
    horizon = yaml.safe_load((tiny_repo / "configs/params.yaml").read_text())["features"][
        "horizon_months"
    ]
    first = split.groupby("window")["as_of_date"].min()
    last = split.groupby("window")["as_of_date"].max()
    # the test figures are honest: no training or calibration label reaches past the first
    # test as-of date; training labels may reach into calibration (split.train_gap_months 0)
    for earlier in ("train", "calibration"):
        assert last[earlier] + pd.offsets.MonthEnd(horizon) <= first["test"], earlier
    assert last["train"] < first["calibration"]


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
    # the same model and record: register reuses its version rather than adding one
    pd.testing.assert_frame_equal(again, scores)


PEOPLE_FILES = [
    "data/scored/scores.csv", "data/scored/defaulted.csv", "data/scored/rejects.csv",
    "data/scored/alerts.csv", "data/scored/summary.json", "data/reports/portfolio.html",
]  # fmt: skip


def test_a_score_run_that_fails_leaves_last_run_s_files(tiny_repo, run_command):
    repo = tiny_repo
    kept = {name: (repo / name).read_bytes() for name in PEOPLE_FILES}
    settings = (repo / "configs/params.yaml").read_text()
    params = yaml.safe_load(settings)
    params["score"]["as_of_date"] = "2031-01-31"  # no such month end in the book
    (repo / "configs/params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        failed = run_command(["dvc", "repro"], repo, check=False)
    finally:
        (repo / "configs/params.yaml").write_text(settings)
    assert failed.returncode != 0 and "2031-01-31" in failed.stderr, failed.stderr[-2000:]
    # DVC deletes a stage's outputs before it runs, unless they persist: these do
    assert {name: (repo / name).read_bytes() for name in PEOPLE_FILES} == kept
    again = run_command(["dvc", "repro"], repo).stdout
    assert "Running stage" not in again  # the files are those dvc.lock records


def test_a_challenger_the_gate_refuses_changes_no_score(tiny_repo, run_command):
    repo = tiny_repo
    champion = _aliases(repo)["champion"]
    scores = (repo / "data/scored/scores.csv").read_bytes()
    history = _fingerprint(repo / "data/scored/history")
    params = yaml.safe_load((repo / "configs/params.yaml").read_text())
    params["promote"]["min_auc"] = 0.99  # no model of this book reaches it
    # a new record (the calibration figures): a new version, the challenger
    params["evaluate"]["calibration_bins"] += 1
    (repo / "configs/params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_command(["dvc", "repro"], repo)  # register, the gate, the card, the scores, the report
    gate = json.loads((repo / "data/reports/promotion.json").read_text())
    assert gate["decision"] == "refused" and gate["version"] == champion + 1, gate
    assert any("below the floor 0.99" in r for r in gate["reasons"]), gate
    assert _aliases(repo) == {"champion": champion, "challenger": champion + 1}
    assert (repo / "data/scored/scores.csv").read_bytes() == scores
    assert _fingerprint(repo / "data/scored/history") == history
    report = (repo / "data/reports/portfolio.html").read_text(encoding="utf-8")
    assert f"version {champion + 1}" in report and "below the floor 0.99" in report


# -- experiments (they change the workspace: keep them last) --

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
def experiment(tiny_repo, run_command):
    """The tiny repository after one experiment (the last tests of this module: it stays so)."""
    repo = tiny_repo
    before = {"aliases": _aliases(repo), "history": _fingerprint(repo / "data/scored/history")}
    setting = "configs/params.yaml:train.learning_rate=0.08"  # as the README writes it
    run_command(["dvc", "exp", "run", "-n", EXPERIMENT, "-S", setting], repo)
    return repo, before


def test_exp_show_shows_the_experiments_metrics(experiment, run_command):
    repo, _ = experiment
    table = pd.read_csv(io.StringIO(run_command(["dvc", "exp", "show", "--csv"], repo).stdout))
    row = table[table["Experiment"] == EXPERIMENT]
    assert len(row) == 1, table["Experiment"].tolist()
    auc = [c for c in table.columns if c.endswith("test.auc") and "baseline" not in c]
    assert auc and 0.5 < float(row[auc[0]].iloc[0]) <= 1, table.columns.tolist()
    rate = [c for c in table.columns if c.endswith("train.learning_rate")]
    assert rate and float(row[rate[0]].iloc[0]) == 0.08, table.columns.tolist()


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
