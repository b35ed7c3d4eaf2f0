import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from models.pd_model import PDModel
from pipelines import register as register_stage
from pipelines.io.files import StageError
from pipelines.modelstore import registry
from pipelines.modelstore.tags import git_commit, git_dirty

FEATURES = ["days_late_wavg_12m", "on_time_rate_12m", "debt_ratio", "current_ratio", "dso_days"]
NAME = "tiny-pd"


def register(model: PDModel, X: pd.DataFrame, uri: str, **overrides) -> dict:
    kwargs = {
        "tracking_uri": uri,
        "experiment": "tiny",
        "model_name": NAME,
        "alias": "challenger",
        "params": {"train": {"learning_rate": 0.05, "seed": 1}},
        "metrics": {"test": {"auc": 0.71, "brier": 0.05, "grades": [1, 2]}, "ok": True},
        "artifacts": [],
        "tags": {"data_md5.customers": "abc123"},
        "input_example": X.head(2),
    }
    return registry.log_and_register(model, **{**kwargs, **overrides})


@pytest.fixture(scope="module")
def registered(tmp_path_factory, tiny_pd_model):
    root = tmp_path_factory.mktemp("store")
    (root / "elsewhere").mkdir()
    plot = root / "calibration.json"
    plot.write_text("{}")
    model, X = tiny_pd_model(FEATURES)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.chdir(root / "elsewhere")  # the artifact root must follow the database, not the cwd
        record = register(model, X, uri, artifacts=[plot, root / "absent.png"])
    return {"root": root, "uri": uri, "record": record, "model": model, "X": X}


def test_record_points_at_the_registered_version(registered):
    record, uri = registered["record"], registered["uri"]
    assert set(record) == {
        "tracking_uri",
        "run_id",
        "model_name",
        "model_version",
        "model_uri",
        "alias",
    }
    assert record["model_uri"] == f"models:/{NAME}/{record['model_version']}"
    assert record["alias"] == "challenger"
    assert registry.get_version_by_alias(NAME, "challenger", uri) == record["model_version"]


def test_artifacts_live_beside_the_database(registered):
    root = registered["root"]
    assert (root / "mlartifacts").is_dir()
    assert not (root / "elsewhere" / "mlruns").exists()
    files = [p.name for p in (root / "mlartifacts").rglob("*") if p.is_file()]
    assert "calibration.json" in files and "MLmodel" in files


def test_run_and_version_carry_params_metrics_and_tags(registered):
    record, uri = registered["record"], registered["uri"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(record["run_id"])
    assert run.data.params["train.learning_rate"] == "0.05"
    assert run.data.metrics == {"test.auc": 0.71, "test.brier": 0.05}
    version = client.get_model_version(NAME, str(record["model_version"]))
    for tags in (run.data.tags, version.tags):
        assert tags["data_md5.customers"] == "abc123"
        assert tags["git_commit"] and tags["git_dirty"] in ("true", "false", "unknown")


@pytest.mark.parametrize("by", ["version", "alias"])
def test_loaded_pyfunc_returns_what_pd_model_returns(registered, by):
    record, model, X = registered["record"], registered["model"], registered["X"]
    uri = record["model_uri"] if by == "version" else f"models:/{NAME}@challenger"
    pyfunc = registry.load_model(uri, registered["uri"])
    rows = X.iloc[:20]
    assert rows.isna().any().any()
    pd.testing.assert_frame_equal(pyfunc.predict(rows), model.predict(rows))
    assert registry.input_names(pyfunc) == FEATURES


def test_pyfunc_words_reasons_with_the_medians_and_language_given(registered):
    pyfunc = registry.load_model(registered["record"]["model_uri"], registered["uri"])
    rows = registered["X"].iloc[:20].assign(**{f"median__{f}": 1.0 for f in FEATURES})
    assert registry.optional_input_names(pyfunc) == [f"median__{f}" for f in FEATURES]
    got = pyfunc.predict(rows, params={"language": "zh"})
    pd.testing.assert_frame_equal(got, registered["model"].predict(rows, language="zh"))
    assert got["reason_1"].str.contains("行业中位数 1 天").any()  # the median given, quoted
    with pytest.raises(MlflowException, match="unknown language 'fr'"):
        pyfunc.predict(rows, params={"language": "fr"})


def test_signature_rejects_a_missing_column(registered):
    pyfunc = registry.load_model(registered["record"]["model_uri"], registered["uri"])
    with pytest.raises(Exception, match="missing inputs.*debt_ratio"):
        pyfunc.predict(registered["X"].head(3).drop(columns="debt_ratio"))


def test_signature_types(tiny_pd_model):
    model, _ = tiny_pd_model(FEATURES)
    signature = registry.model_signature(model)
    assert signature.inputs.required_input_names() == FEATURES
    assert signature.inputs.optional_input_names() == [f"median__{f}" for f in FEATURES]
    assert {str(t) for t in signature.inputs.input_types()} == {"DataType.double"}
    [language] = signature.params.params
    assert (language.name, str(language.dtype), language.default) == (
        "language",
        "DataType.string",
        "en",
    )
    types = map(str, signature.outputs.input_types())
    out = dict(zip(signature.outputs.input_names(), types, strict=True))
    assert out["pd_12m"] == "DataType.double" and out["grade"] == "DataType.long"
    assert out["reason_3_code"] == "DataType.string"


def test_a_new_version_takes_the_alias_and_set_alias_moves_it(tmp_path, monkeypatch, tiny_pd_model):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    model, X = tiny_pd_model(FEATURES)
    first = register(model, X, uri)
    second = register(model, X, uri, metrics={"test": {"auc": 0.72}})
    assert (first["model_version"], second["model_version"]) == (1, 2)
    assert registry.get_version_by_alias(NAME, "challenger", uri) == 2
    registry.set_alias(NAME, "challenger", 1, uri)
    assert registry.get_version_by_alias(NAME, "challenger", uri) == 1


def test_an_experiment_stored_elsewhere_is_an_error(tmp_path, monkeypatch, tiny_pd_model):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).create_experiment("tiny", (tmp_path / "old").as_uri())
    model, X = tiny_pd_model(FEATURES)
    with pytest.raises(StageError, match="keeps its artifacts"):
        register(model, X, uri)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///mlflow.db", "mlartifacts"),
        ("sqlite:///sub/db.sqlite", "sub/mlartifacts"),
        ("http://127.0.0.1:5000", None),
    ],
)
def test_artifact_root(uri, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = None if expected is None else tmp_path.resolve() / expected
    assert registry.artifact_root(uri) == expected
    assert (
        registry.artifact_root(f"sqlite:///{tmp_path}/a.db") == tmp_path.resolve() / "mlartifacts"
    )


def test_git_commit_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_commit() == "unknown"
    assert git_dirty() == "unknown"


def test_a_relative_sqlite_uri_follows_the_working_directory(tmp_path, monkeypatch, tiny_pd_model):
    # MLflow caches stores by URI string: the same relative URI in another cwd is another store
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    model, X = tiny_pd_model(FEATURES)
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        monkeypatch.chdir(tmp_path / sub)
        record = register(model, X, "sqlite:///mlflow.db")
        assert record["tracking_uri"] == "sqlite:///mlflow.db"
        assert record["model_version"] == 1
        assert (tmp_path / sub / "mlflow.db").is_file()
        assert (tmp_path / sub / "mlartifacts").is_dir()


def test_aliases_and_version_tags(tmp_path, monkeypatch, tiny_pd_model):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(StageError, match="no registered model"):
        registry.aliases(NAME, uri)
    model, X = tiny_pd_model(FEATURES)
    register(model, X, uri)
    register(model, X, uri, tags={"data_md5.customers": "def456"})
    registry.set_alias(NAME, "champion", 1, uri)
    assert registry.aliases(NAME, uri) == {"challenger": 2, "champion": 1}
    registry.set_version_tags(NAME, 1, {"promotion.decision": "promoted", "n": 3}, uri)
    tags = registry.version_tags(NAME, 1, uri)
    assert tags["promotion.decision"] == "promoted" and tags["n"] == "3"
    assert tags["data_md5.customers"] == "abc123"
    with pytest.raises(StageError, match="no version 9"):
        registry.version_tags(NAME, 9, uri)


def test_log_run_file_adds_an_artifact(registered):
    card = registered["root"] / "model_card.md"
    card.write_text("# card\n")
    registry.log_run_file(registered["record"]["run_id"], card, registered["uri"])
    files = [p.name for p in (registered["root"] / "mlartifacts").rglob("*") if p.is_file()]
    assert "model_card.md" in files


def test_register_tags_metrics_and_validation(tmp_path):
    metrics = {
        "test": {"auc": 0.7512345678, "ece": 0.01, "n_rows": 10},
        "baseline": {"test": {"auc": 0.74}},
        "backtest": {"passed": True, "grades_failed": "", "monotone": True},
        "stability": {"model_score_psi": 0.04, "model_score_band": "stable"},
    }
    tags = register_stage.metric_tags(metrics)
    assert tags["metrics.test.auc"] == "0.751235" and "metrics.test.n_rows" not in tags
    assert tags["metrics.baseline.test.auc"] == "0.74"
    assert tags["backtest.passed"] == "True" and tags["stability.model_score_band"] == "stable"
    assert register_stage.metric_tags({}) == {}
    summary = tmp_path / "summary.json"
    summary.write_text(
        '{"success": true, "rows_rejected": 2, "tables": {"a": {"rules_failed": 1}, '
        '"b": {"rules_failed": 0}}}'
    )
    assert register_stage.validation_tags(summary) == {
        "validation.success": "true",
        "validation.rules_failed": "1",
        "validation.rows_rejected": "2",
    }


def test_a_repeated_or_interrupted_registration_completes_its_version(
    tmp_path, monkeypatch, tiny_pd_model
):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    model, X = tiny_pd_model(FEATURES)
    first = register(model, X, uri)
    # as a kill between the version's creation and its tags leaves it: no tags, no alias
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for key in registry.version_tags(NAME, 1, uri):
        client.delete_model_version_tag(NAME, "1", key)
    client.delete_registered_model_alias(NAME, "challenger")
    again = register(model, X, uri)
    assert again["model_version"] == first["model_version"] == 1
    assert again["run_id"] == first["run_id"]
    assert registry.version_tags(NAME, 1, uri)["data_md5.customers"] == "abc123"
    assert registry.get_version_by_alias(NAME, "challenger", uri) == 1
    assert register(model, X, uri)["model_version"] == 1  # and a plain repeat adds none
    assert len(client.search_model_versions(f"name = '{NAME}'")) == 1
    # another record of the same model is another registration
    assert register(model, X, uri, tags={"data_md5.customers": "def456"})["model_version"] == 2


def test_a_term_structure_is_served_with_its_columns(tmp_path, monkeypatch, tiny_pd_model):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    model, X = tiny_pd_model(FEATURES, term_structure=True)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    record = register(model, X, uri)
    pyfunc = registry.load_model(record["model_uri"], uri)
    got = pyfunc.predict(X.iloc[:20])
    pd.testing.assert_frame_equal(got, model.predict(X.iloc[:20]))
    assert registry.output_names(pyfunc) == model.output_columns
    assert {"pd_1m", "pd_6m", "pd_11m", "pd_terms"} <= set(got.columns)
    # the terms are no feature here: an optional input, which moves pd_terms
    assert "payment_terms_days" in registry.optional_input_names(pyfunc)
    longer = pyfunc.predict(X.iloc[:20].assign(payment_terms_days=120.0))["pd_terms"]
    assert (longer >= got["pd_terms"]).all() and (longer > got["pd_terms"]).any()
