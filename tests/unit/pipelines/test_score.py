import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from models.pd_model import PDModel
from pipelines import register, score
from pipelines.config import Config
from pipelines.io import StageError
from pipelines.registry import file_md5

REPO = Path(__file__).parents[3]
FEATURES = ["days_late_wavg_12m", "n_late_30_12m", "debt_ratio", "current_ratio", "dso_days"]
AS_OF = pd.Timestamp("2024-12-31")
SCORE_COLUMNS = [
    "customer_id", "name", "industry", "region", "as_of_date", "pd_12m", "grade",
    "reason_1_code", "reason_1", "reason_2_code", "reason_2", "reason_3_code", "reason_3",
    "model_version",
]  # fmt: skip


def book() -> pd.DataFrame:
    ids = [f"C{i}" for i in range(1, 9)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": [f"Firm {i}" for i in ids],
            "industry": "retail",
            "region": "north",
            "relationship_start": pd.to_datetime(["2020-01-01"] * 7 + ["2025-02-01"]),
        }
    )


def snapshots(customers: pd.DataFrame) -> pd.DataFrame:
    """Two month ends; C7 defaulted in March, C8 only starts next year: both lack a snapshot."""
    rng = np.random.default_rng(1)
    live = customers.iloc[:6]
    frames = []
    for as_of in (pd.Timestamp("2024-11-30"), AS_OF):
        feats = pd.DataFrame(rng.normal(size=(len(live), len(FEATURES))), columns=FEATURES)
        feats["n_late_30_12m"] = rng.integers(0, 5, len(live))  # an integer column, as stored
        feats.loc[0, "debt_ratio"] = np.nan
        meta = live[["customer_id", "industry", "region"]].reset_index(drop=True)
        meta.insert(1, "as_of_date", as_of)
        meta[["label", "default_date"]] = [np.nan, pd.NaT]
        frames.append(pd.concat([meta, feats], axis=1))
    return pd.concat(frames, ignore_index=True)


def write_fake_repo(root: Path, model: PDModel) -> PDModel:
    booster, calibrator = model.booster, model.calibrator
    (root / "configs").mkdir()
    shutil.copy(REPO / "configs" / "master_scale.yaml", root / "configs" / "master_scale.yaml")
    for sub in ("raw", "features", "models", "reports/plots", "splits"):
        (root / "data" / sub).mkdir(parents=True)
    booster.save_model(str(root / "data/models/booster.txt"))
    (root / "data/models/calibrator.json").write_text(json.dumps(calibrator.to_dict()))
    (root / "data/reports/metrics.json").write_text(json.dumps({"test": {"auc": 0.7}}))
    (root / "data/reports/plots/calibration.json").write_text("[]")
    customers = book()
    customers.to_parquet(root / "data/raw/customers.parquet")
    (root / "data/raw/manifest.json").write_text(json.dumps({"as_of_date": "2024-12-31"}))
    snaps = snapshots(customers)
    snaps.to_parquet(root / "data/features/snapshots.parquet")
    window = np.where(snaps["as_of_date"] == AS_OF, "unlabeled", "test")
    split = snaps[["customer_id", "as_of_date"]].assign(window=window)
    split.to_parquet(root / "data/splits/split.parquet")
    defaults = pd.DataFrame(
        {
            "customer_id": ["C7"],
            "default_date": pd.to_datetime(["2024-03-15"]),
            "default_trigger": ["days_past_due"],
        }
    )
    defaults.to_parquet(root / "data/features/default_dates.parquet")
    return model


@pytest.fixture(scope="module")
def staged(tmp_path_factory, tiny_pd_model):
    root = tmp_path_factory.mktemp("repo")
    model = write_fake_repo(root, tiny_pd_model(FEATURES, nan_every=None)[0])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.chdir(root)
        record = register.run(Config())
        score.run(Config())
    return {"root": root, "model": model, "record": record}


def test_register_writes_the_registry_record(staged):
    root, record = staged["root"], staged["record"]
    assert json.loads((root / "data/reports/registry.json").read_text()) == record
    assert record["model_uri"] == "models:/trade-credit-pd/1"
    assert record["tracking_uri"] == "sqlite:///mlflow.db"
    assert (root / "mlflow.db").is_file() and (root / "mlartifacts").is_dir()
    example = next((root / "mlartifacts").rglob("input_example.json"))
    assert json.loads(example.read_text())["columns"] == FEATURES
    assert len(json.loads(example.read_text())["data"]) == 2
    logged = {p.name for p in (root / "mlartifacts").rglob("*") if p.is_file()}
    assert {"metrics.json", "calibration.json"} <= logged


def test_register_tags_the_data_hashes(staged):
    record, root = staged["record"], staged["root"]
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    tags = client.get_run(record["run_id"]).data.tags
    assert tags["data_md5.customers"] == file_md5(root / "data/raw/customers.parquet")
    assert tags["data.as_of_date"] == "2024-12-31"
    assert "data_md5.manifest" in tags


def test_scores_have_the_columns_and_every_customer_is_accounted_for(staged):
    root = staged["root"]
    scores = pd.read_csv(root / "data/scored/scores.csv", keep_default_na=False)
    rejects = pd.read_csv(root / "data/scored/rejects.csv")
    assert list(scores.columns) == SCORE_COLUMNS
    assert list(rejects.columns) == ["customer_id", "name", "reason"]
    assert sorted(scores["customer_id"]) == [f"C{i}" for i in range(1, 7)]
    assert set(scores["customer_id"]).isdisjoint(rejects["customer_id"])
    assert len(scores) + len(rejects) == len(book())
    assert (scores["as_of_date"] == "2024-12-31").all() and (scores["model_version"] == 1).all()
    assert scores["pd_12m"].is_monotonic_decreasing
    assert scores.loc[scores["customer_id"] == "C1", "name"].item() == "Firm C1"


def test_rejects_say_why(staged):
    rejects = pd.read_csv(staged["root"] / "data/scored/rejects.csv").set_index("customer_id")
    assert rejects.loc["C7", "reason"] == "in default since 2024-03-15 (days_past_due)"
    assert rejects.loc["C8", "reason"].startswith("relationship starts 2025-02-01")


def test_scores_match_the_pd_model(staged):
    root, model = staged["root"], staged["model"]
    scores = pd.read_csv(root / "data/scored/scores.csv", keep_default_na=False)
    latest = pd.read_parquet(root / "data/features/snapshots.parquet").query("as_of_date == @AS_OF")
    expected = model.predict(latest[FEATURES].astype(float)).assign(
        customer_id=latest["customer_id"].to_numpy()
    )
    merged = scores.merge(expected, on="customer_id", suffixes=("", "_expected"))
    np.testing.assert_allclose(merged["pd_12m"], merged["pd_12m_expected"], atol=1e-6)
    assert (merged["grade"] == merged["grade_expected"]).all()
    assert (merged["reason_1_code"] == merged["reason_1_code_expected"]).all()


def test_chunks_give_the_same_result(staged, monkeypatch):
    monkeypatch.chdir(staged["root"])
    record = staged["record"]
    pyfunc = score.load_model(record["model_uri"], record["tracking_uri"])
    rows = pd.read_parquet("data/features/snapshots.parquet")
    whole = score.score_rows(rows, pyfunc)
    pd.testing.assert_frame_equal(score.score_rows(rows, pyfunc, chunk_rows=5), whole)
    with pytest.raises(StageError, match="lacks columns.*dso_days"):
        score.score_rows(rows.drop(columns="dso_days"), pyfunc)


def no_defaults() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [], "default_date": [], "default_trigger": []})


def test_an_unexplained_customer_is_an_error():
    with pytest.raises(StageError, match=r"neither scored nor explained.*\['C3'\]"):
        score.explain_unscored(
            book(), pd.Series(["C1", "C2", "C4", "C5", "C6", "C7"]), no_defaults(), AS_OF
        )


def test_a_scored_customer_in_default_is_an_error():
    defaults = pd.DataFrame(
        {"customer_id": ["C1"], "default_date": [AS_OF], "default_trigger": ["insolvency"]}
    )
    with pytest.raises(StageError, match="scored although in default"):
        score.explain_unscored(book(), pd.Series([f"C{i}" for i in range(1, 9)]), defaults, AS_OF)


def test_a_default_after_the_as_of_date_does_not_explain():
    defaults = pd.DataFrame(
        {
            "customer_id": ["C2"],
            "default_date": [AS_OF + pd.Timedelta(days=1)],
            "default_trigger": ["x"],
        }
    )
    scored = pd.Series(["C1", "C3", "C4", "C5", "C6", "C7"])
    with pytest.raises(StageError, match=r"\['C2'\]"):
        score.explain_unscored(book(), scored, defaults, AS_OF)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, b: (s, pd.concat([b, b.head(1)])), "twice in the book"),
        (lambda s, b: (pd.concat([s, s.tail(1)]), b), "twice in the latest snapshots"),
        (lambda s, b: (s, b.iloc[1:]), "not in the book"),
        (lambda s, b: (s.iloc[:0], b), "empty"),
    ],
)
def test_latest_rows_checks(change, message):
    customers = book()
    rows, customers = change(snapshots(customers), customers)
    with pytest.raises(StageError, match=message):
        score.latest_rows(rows, customers, {"as_of_date": "2024-12-31"})


def test_latest_rows_refuses_a_snapshot_after_the_data():
    customers = book()
    with pytest.raises(StageError, match="after the data as-of"):
        score.latest_rows(snapshots(customers), customers, {"as_of_date": "2024-12-30"})


@pytest.mark.parametrize("missing", ["default_trigger", "customer_id"])
def test_run_requires_the_default_columns(staged, monkeypatch, tmp_path, missing):
    shutil.copytree(staged["root"], tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    path = Path("data/features/default_dates.parquet")
    pd.read_parquet(path).drop(columns=missing).to_parquet(path)
    with pytest.raises(StageError, match=f"lacks columns.*{missing}"):
        score.run(Config())
