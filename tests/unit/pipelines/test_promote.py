"""``python -m pipelines.promote``: a good challenger is promoted, a worse one refused, both
decisions are tagged on the versions, and a rollback points the champion back."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from pipelines import promote
from pipelines.io.paths import Paths
from pipelines.modelstore import gate, registry
from pipelines.modelstore.tags import metric_tags
from pipelines.runtime.config import Config

REPO = Path(__file__).resolve().parents[3]
FEATURES = ["days_late_wavg_12m", "on_time_rate_12m", "debt_ratio", "current_ratio", "dso_days"]
NAME = "tiny-pd"


def toy(seed: int, n: int) -> tuple[pd.DataFrame, pd.Series]:
    """Standard-normal features; the default risk rises with days late (as in conftest)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    y = (rng.random(n) < 1 / (1 + np.exp(2 - 1.5 * X["days_late_wavg_12m"]))).astype(int)
    return X, y


def write_test_window(paths: Paths) -> None:
    """A labelled test window of 4,000 customers (one snapshot each) and a training row."""
    X, y = toy(seed=21, n=4001)
    snapshots = X.assign(
        customer_id=[f"C{i:05d}" for i in range(len(X))],
        as_of_date=pd.Timestamp("2024-12-31"),
        label=y.astype(float),
    )
    split = snapshots[["customer_id", "as_of_date"]].assign(window="test")
    split.loc[0, "window"] = "train"
    for path in (paths.snapshots, paths.split, paths.registry_record):
        path.parent.mkdir(parents=True, exist_ok=True)
    snapshots.to_parquet(paths.snapshots, index=False)
    split.to_parquet(paths.split, index=False)


@pytest.fixture(scope="module")
def models(tiny_pd_model):
    """A good model and a weak one: trained on labels mostly shuffled (calibrated on true ones,
    so it still ranks the right way round, just barely)."""
    train, calibrate = toy(seed=1, n=3000), toy(seed=2, n=3000)
    good, _ = tiny_pd_model(train=train, calibrate=calibrate, num_boost_round=30)
    rng = np.random.default_rng(3)
    noisy = np.where(rng.random(len(train[1])) < 0.9, rng.permutation(train[1]), train[1])
    shuffled = (train[0], pd.Series(noisy))
    worse, _ = tiny_pd_model(train=shuffled, calibrate=calibrate, num_boost_round=30)
    return {"good": good, "worse": worse, "example": train[0].head(2)}


# what register tags a version with (promote refuses a version without them): the model
# leads the baseline, validation passed
REGISTER_TAGS = metric_tags(
    {
        "test": {"auc": 0.8},
        "baseline": {"test": {"auc": 0.7}},
        "comparison": {"auc_difference": 0.1, "auc_difference_ci_low": 0.05,
                       "auc_difference_ci_high": 0.15},
        "backtest": {"passed": True},
    }
) | {"data_md5.manifest": "0" * 32, "validation.success": "true"}  # fmt: skip


@pytest.fixture
def project(tmp_path, monkeypatch, models):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    paths = Paths(tmp_path, configs=REPO / "configs")
    write_test_window(paths)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = Config.model_validate(
        {
            "register": {"tracking_uri": uri, "experiment": "tiny", "model_name": NAME},
            "promote": {"max_ece": 0.05},  # 4,000 toy rows: keep sampling noise out of it
        }
    )

    def register(which: str, retrained: int = 0) -> int:
        """Register ``which`` model and write its record, as the register stage does.

        ``retrained``: the same model trained again (the same model and record would be the
        same version).
        """
        record = registry.log_and_register(
            models[which], tracking_uri=uri, experiment="tiny", model_name=NAME,
            alias="challenger", params={"retrained": retrained}, metrics={}, artifacts=[],
            tags=REGISTER_TAGS,
            input_example=models["example"],
        )  # fmt: skip
        paths.registry_record.write_text(json.dumps(record))
        return record["model_version"]

    return {"cfg": cfg, "uri": uri, "register": register, "paths": paths}


def tags(project, version: int) -> dict[str, str]:
    return registry.version_tags(NAME, version, project["uri"])


def champion(project) -> int | None:
    return registry.aliases(NAME, project["uri"]).get("champion")


def test_promotes_a_good_challenger_and_refuses_a_worse_one(project):
    cfg, paths = project["cfg"], project["paths"]
    first = project["register"]("good")
    outcome = promote.run(cfg, paths)
    assert outcome["decision"] == "promoted" and outcome["champion_before"] is None
    assert champion(project) == first
    first_tags = tags(project, first)
    assert first_tags["promotion.decision"] == "promoted"
    assert first_tags["promotion.champion_before"] == "none"
    assert first_tags["promotion.backtest_passed"] == "true"
    assert float(first_tags["promotion.auc"]) > 0.75

    worse = project["register"]("worse")
    outcome = promote.run(cfg, paths)
    assert outcome["decision"] == "refused"
    assert champion(project) == first  # the champion did not move
    assert registry.aliases(NAME, project["uri"])["challenger"] == worse
    worse_tags = tags(project, worse)
    assert worse_tags["promotion.decision"] == "refused"
    assert "below the champion's" in worse_tags["promotion.reasons"]
    assert worse_tags["promotion.champion_before"] == str(first)
    assert float(worse_tags["promotion.champion_auc"]) == pytest.approx(
        float(first_tags["promotion.auc"]), abs=1e-6
    )  # both scored on the same rows
    assert "promotion.replaced_by" not in tags(project, first)


def test_a_new_good_challenger_replaces_the_champion_and_rollback_restores_it(project, capsys):
    cfg, paths = project["cfg"], project["paths"]
    first = project["register"]("good")
    promote.run(cfg, paths)
    second = project["register"]("good", retrained=1)
    assert promote.run(cfg, paths)["decision"] == "promoted"  # the same AUC is not worse
    assert champion(project) == second
    assert tags(project, first)["promotion.replaced_by"] == str(second)
    assert tags(project, second)["promotion.champion_before"] == str(first)

    outcome = promote.rollback(cfg, None, paths)  # back to the champion it replaced
    assert outcome == {"decision": "rolled back", "version": first, "champion_before": second}
    assert champion(project) == first
    assert tags(project, first)["rollback.replaced"] == str(second)
    assert tags(project, second)["rollback.restored"] == str(first)

    promote.rollback(cfg, second, paths)  # or to a named version
    assert champion(project) == second
    with pytest.raises(Exception, match="already the champion"):
        promote.rollback(cfg, second, paths)


def test_the_first_challenger_must_pass_the_floor(project):
    first = project["register"]("good")  # test AUC about 0.8
    cfg = project["cfg"]
    cfg = cfg.model_copy(update={"promote": cfg.promote.model_copy(update={"min_auc": 0.95})})
    outcome = promote.run(cfg, project["paths"])
    assert outcome["decision"] == "refused" and champion(project) is None
    assert "below the floor 0.95" in tags(project, first)["promotion.reasons"]


def test_command_line_exit_codes(project, command_at, capsys):
    command_at(promote, project["paths"])
    params = project["paths"].root / "params.yaml"
    params.write_text(
        f"register:\n  tracking_uri: {project['uri']}\n  experiment: tiny\n"
        f"  model_name: {NAME}\npromote:\n  max_ece: 0.05\n"
    )
    project["register"]("good")
    promote.main(["--config", str(params)])
    assert "promoted version 1" in capsys.readouterr().out
    promote.main(["--config", str(params)])  # nothing to do: already champion
    assert "already the champion" in capsys.readouterr().out
    project["register"]("worse")
    with pytest.raises(SystemExit) as refused:
        promote.main(["--config", str(params)])
    assert refused.value.code == 1
    assert "refused: version 2 stays challenger" in capsys.readouterr().err
    with pytest.raises(SystemExit) as no_earlier:
        promote.main(["--config", str(params), "--rollback"])
    assert no_earlier.value.code == 1
    assert "replaced no earlier champion" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        promote.main(["--config", str(params), "--rollback", "two"])
    assert usage.value.code == 2


def test_decide_lists_every_reason():
    cfg = Config()
    passing = {"passed": True, "grades_consistent": True, "monotone": True}
    good = {"auc": 0.75, "ece": 0.01, "mean_pd_gap": 0.05, "backtest": passing}
    assert gate.decide(good, None, cfg) == []
    assert gate.decide(good, {**good, "auc": 0.754}, cfg) == []  # within the tolerance
    failing = {"grades_consistent": False, "grades_failed": "4", "monotone": False,
               "monotonicity_breaks": "5>6"}  # fmt: skip
    bad = {"auc": 0.55, "ece": 0.03, "mean_pd_gap": -0.4, "backtest": failing}
    reasons = gate.decide(bad, good, cfg)
    assert len(reasons) == 6
    assert any("floor" in r for r in reasons) and any("champion's" in r for r in reasons)
    assert any("calibration error" in r for r in reasons) and any("-40.0%" in r for r in reasons)
    assert any("grades 4" in r for r in reasons) and any("5>6" in r for r in reasons)


def test_a_version_an_interrupted_register_left_incomplete_is_never_promoted(project):
    version = project["register"]("good")
    # as a kill between the version's creation and its last tags leaves it
    client = MlflowClient(tracking_uri=project["uri"], registry_uri=project["uri"])
    for key in ("validation.success", "backtest.passed"):
        assert key in tags(project, version)
        client.delete_model_version_tag(NAME, str(version), key)
    outcome = promote.run(project["cfg"], project["paths"])
    assert outcome["decision"] == "refused"
    assert any("lacks the governance tags" in r for r in outcome["reasons"]), outcome["reasons"]
    assert champion(project) is None


def test_a_model_that_loses_to_the_baseline_on_the_interval_is_never_champion():
    passing = {"passed": True, "grades_consistent": True, "monotone": True}
    good = {"auc": 0.75, "ece": 0.01, "mean_pd_gap": 0.05, "backtest": passing}
    lead = {
        "auc_difference": -0.03,
        "auc_difference_ci_low": -0.05,
        "auc_difference_ci_high": -0.01,
    }
    (reason,) = gate.decide({**good, "baseline": lead}, None, Config())
    assert reason.startswith("it loses to the transparent baseline scorecard: AUC lead -0.0300")
    tied = {**lead, "auc_difference_ci_high": 0.001}  # the interval reaches 0: a tie may pass
    assert gate.decide({**good, "baseline": tied}, None, Config()) == []
