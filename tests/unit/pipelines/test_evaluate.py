import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.baseline import WoEScorecard
from models.calibration import PDCalibrator
from models.master_scale import MasterScale
from pipelines import evaluate
from pipelines.io.files import StageError
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config

REPO = Path(__file__).resolve().parents[3]
FEATURES = ["days_late_wavg_12m", "debt_ratio", "current_ratio"]
DATES = pd.to_datetime(["2022-01-31", "2022-02-28", "2023-03-31", "2024-04-30", "2025-05-31"])
WINDOWS = ["train", "train", "calibration", "test", "unlabeled"]
N_CUSTOMERS = 300


def make_snapshots(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snapshots whose default risk rises with days late and debt, plus the true PDs."""
    rng = np.random.default_rng(seed)
    n = N_CUSTOMERS * len(DATES)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(N_CUSTOMERS)] * len(DATES),
            "as_of_date": np.repeat(DATES, N_CUSTOMERS),
            "industry": "retail",
            "region": "north",
            "days_late_wavg_12m": rng.gamma(2.0, 8.0, n),
            "debt_ratio": rng.uniform(0.1, 1.2, n),
            "current_ratio": rng.uniform(0.5, 3.0, n),
        }
    )
    logit = -4.0 + 0.06 * frame["days_late_wavg_12m"] + 1.5 * frame["debt_ratio"]
    true_pd = 1 / (1 + np.exp(-logit))
    frame["label"] = (rng.random(n) < true_pd).astype(float)
    frame.loc[frame["as_of_date"] == DATES[-1], "label"] = np.nan
    frame["default_date"] = pd.NaT
    truth = frame[["customer_id", "as_of_date"]].assign(true_pd_12m=true_pd)
    columns = ["customer_id", "as_of_date", "industry", "region", "label", "default_date"]
    return frame[columns + FEATURES], truth


def write_setup(paths: Paths, build_model, with_truth: bool = True) -> None:
    """Write the stage's inputs under ``paths``: snapshots, split, truth, a trained model."""
    snapshots, truth = make_snapshots()
    window = pd.Series(dict(zip(DATES, WINDOWS, strict=True)))
    split = snapshots[["customer_id", "as_of_date"]].assign(
        window=snapshots["as_of_date"].map(window)
    )
    split["as_of_date"] = split["as_of_date"].astype("datetime64[s]")  # a unit unlike snapshots
    for path in (paths.snapshots, paths.split, paths.truth, paths.booster):
        path.parent.mkdir(parents=True, exist_ok=True)
    snapshots.to_parquet(paths.snapshots, index=False)
    paths.features_summary.write_text(json.dumps({"horizon_months": 12, "attributes": {}}))
    split.to_parquet(paths.split, index=False)
    if with_truth:
        truth.to_parquet(paths.truth, index=False)

    train = snapshots[split["window"] == "train"]
    cal = snapshots[split["window"] == "calibration"]
    model, _ = build_model(
        train=(train[FEATURES], train["label"]),
        calibrate=(cal[FEATURES], cal["label"]),
        num_boost_round=30,
        min_data_in_leaf=20,
    )
    model.booster.save_model(str(paths.booster))
    paths.calibrator.write_text(json.dumps(model.calibrator.to_dict()))
    paths.hazard.write_text(json.dumps({"fitted": False, "reason": "too few defaults"}))
    card = WoEScorecard({"days_late_wavg_12m": 1, "debt_ratio": 1}, max_n_bins=4)
    card.fit(train, train["label"].to_numpy())
    calibrator = PDCalibrator("platt").fit(card.decision_function(cal), cal["label"])
    baseline = {"scorecard": card.to_dict(), "calibrator": calibrator.to_dict()}
    paths.baseline.write_text(json.dumps(baseline))


@pytest.fixture
def project(tmp_path, tiny_pd_model) -> Paths:
    """The stage's inputs under ``tmp_path``; the project's master scale."""
    paths = Paths(tmp_path, configs=REPO / "configs")
    write_setup(paths, tiny_pd_model)
    return paths


def test_run_writes_metrics_plots_and_figures(project, capsys):
    report = evaluate.run(Config(), project)

    saved = json.loads(project.metrics.read_text())
    sections = {"test", "calibration", "grades", "baseline", "comparison", "backtest", "stability"}
    extra = {"distinct_pds", "grade_usage", "monitoring", "industry_cycle", "horizons"}
    assert set(saved) == sections | extra | {"outlook_backtest"}
    assert saved["horizons"] == {"fitted": False, "reason": "too few defaults"}
    assert saved["outlook_backtest"]["fitted"] is False  # no term structure: no outlook
    assert saved["monitoring"] == {
        "left_out": "the test window has 1 month end; month over month needs 2"
    }
    test = saved["test"]
    assert test["n_rows"] == N_CUSTOMERS
    assert 0 < test["n_defaults"] < N_CUSTOMERS
    keys = ("auc", "gini", "ks", "pr_auc", "brier", "ece", "oracle_auc", "oracle_brier",
            "auc_ci_low", "auc_ci_high", "top_decile_lift", "top_decile_capture")  # fmt: skip
    for key in keys:
        assert isinstance(test[key], float), key
    assert 0.6 < test["auc"] <= 1 and 0.6 < test["oracle_auc"] <= 1
    assert test["auc_ci_low"] < test["auc"] < test["auc_ci_high"]
    assert 0.7 < test["auc_vs_oracle"] < 1.2
    assert 0 <= test["ece"] < 0.2
    assert saved["calibration"]["n_rows"] == N_CUSTOMERS and "oracle_auc" in saved["calibration"]
    assert sum(g["count"] for g in saved["grades"].values()) == N_CUSTOMERS
    assert all(isinstance(g["defaults"], int) for g in saved["grades"].values())
    assert all(set(g) == set(evaluate.GRADE_METRICS) for g in saved["grades"].values())
    assert report["test"] == test
    distinct = saved["distinct_pds"]["test"]  # one test month: the latest is the whole window
    assert distinct["rows"] == N_CUSTOMERS and 1 < distinct["distinct"] <= N_CUSTOMERS
    assert saved["distinct_pds"]["latest_month"] == distinct
    usage = saved["grade_usage"]
    assert usage["latest_month"]["as_of_date"] == "2024-04-30"
    used = {g: n for g, n in usage["test"]["rows"].items() if n}
    assert used == {g: row["count"] for g, row in saved["grades"].items()}

    base = saved["baseline"]["test"]
    assert 0.6 < base["auc"] <= 1 and "oracle_auc" not in base
    assert base["auc_ci_low"] < base["auc"] < base["auc_ci_high"]
    comparison = saved["comparison"]
    assert comparison["auc_difference"] == pytest.approx(test["auc"] - base["auc"])
    assert comparison["auc_difference_ci_low"] < comparison["auc_difference_ci_high"]
    assert isinstance(comparison["model_beats_baseline"], bool)
    for backtest in (saved["backtest"], saved["baseline"]["backtest"]):
        assert {"passed", "monotone", "grades_failed", "min_p_value"} <= set(backtest)
    stability = saved["stability"]
    assert stability["model_score_band"] in ("stable", "watch", "shift")
    assert stability["features_stable"] + stability["features_watch"] + stability[
        "features_shift"
    ] == len(FEATURES)

    expected = {
        "roc": ["fpr", "tpr"],
        "pr": ["recall", "precision"],
        "calibration": ["bin", "mean_pd", "observed_rate", "count"],
        "lift": ["decile", "count", "defaults", "default_rate", "mean_pd", "lift"],
        "grades": ["grade", "label", "pd_lower", "pd_upper", "count", "defaults"],
        "roc_baseline": ["fpr", "tpr"],
        "calibration_baseline": ["bin", "mean_pd", "observed_rate", "count"],
        "stability": ["feature", "psi", "band"],
    }
    for name, columns in expected.items():
        table = pd.read_csv(project.plot(name))
        assert list(table.columns[: len(columns)]) == columns, name
        assert 0 < len(table) <= 200, name
    grades = pd.read_csv(project.plot("grades"))
    assert {"customers", "p_value", "passed", "ci_lower", "ci_upper"} <= set(grades.columns)
    for name in ("roc.png", "calibration.png", "grades.png"):
        assert (project.figures / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(project.reports.rglob("*.tmp"))

    out = capsys.readouterr().out
    assert "AUC" in out and "oracle AUC" in out and "model/oracle AUC" in out
    assert "baseline" in out and "grade back-test" in out and "score PSI" in out


def test_the_bootstrap_is_seeded(project):
    first = evaluate.run(Config(), project)
    assert evaluate.run(Config(), project)["test"]["auc_ci_low"] == first["test"]["auc_ci_low"]


def test_pd_resolution_counts_distinct_pds_and_the_grades_used():
    scale = MasterScale.from_records(
        [{"grade": g, "label": str(g), "max_pd": b} for g, b in ((1, 0.01), (2, 0.1), (3, 1.0))]
    )
    test = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b", "c"],
            "as_of_date": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 3),
            "pd_12m": [0.005, 0.5, 0.005, 0.6, 0.6],
        }
    )
    got = evaluate.pd_resolution(test, scale)
    assert got["distinct_pds"] == {
        "test": {"rows": 5, "distinct": 3},
        "latest_month": {"rows": 3, "distinct": 2},
    }
    usage = got["grade_usage"]
    assert usage["test"]["rows"] == {"1": 2, "2": 0, "3": 3}
    assert usage["test"]["customers"] == {"1": 1, "2": 0, "3": 2}
    assert usage["test"]["unused"] == [2] and usage["latest_month"]["as_of_date"] == "2024-02-29"


def test_without_truth_there_are_no_oracle_metrics(project):
    project.truth.unlink()
    report = evaluate.run(Config(), project)
    assert "oracle_auc" not in report["test"] and "auc_vs_oracle" not in report["test"]
    assert 0 <= report["test"]["auc"] <= 1


def test_main_reads_the_config(project, command_at):
    params = project.root / "params.yaml"
    params.write_text("evaluate:\n  calibration_bins: 3\n")
    command_at(evaluate, project)
    evaluate.main(["--config", str(params)])
    saved = pd.read_csv(project.plot("calibration"))
    assert len(saved) == 3


def test_main_exits_with_a_message_when_an_input_is_missing(project, command_at, capsys):
    project.split.unlink()
    params = project.root / "params.yaml"
    params.write_text("evaluate:\n  calibration_bins: 10\n")
    command_at(evaluate, project)
    with pytest.raises(SystemExit) as exc:
        evaluate.main(["--config", str(params)])
    assert exc.value.code == 1
    assert f"missing input {project.split}" in capsys.readouterr().err


def test_unlabelled_test_rows_are_an_error(project):
    snapshots = pd.read_parquet(project.snapshots)
    snapshots.loc[snapshots["as_of_date"] == DATES[3], "label"] = np.nan
    snapshots.to_parquet(project.snapshots, index=False)
    with pytest.raises(StageError, match="test window"):
        evaluate.run(Config(), project)


def test_truth_missing_rows_is_an_error(project):
    truth = pd.read_parquet(project.truth)
    truth.iloc[N_CUSTOMERS * 3 + 5 :].to_parquet(project.truth, index=False)
    with pytest.raises(StageError, match="true PD"):
        evaluate.run(Config(), project)


def test_a_single_class_test_window_is_an_error(project):
    snapshots = pd.read_parquet(project.snapshots)
    snapshots.loc[snapshots["as_of_date"] == DATES[3], "label"] = 0.0
    snapshots.to_parquet(project.snapshots, index=False)
    with pytest.raises(StageError, match="test window.*both defaults and non-defaults"):
        evaluate.run(Config(), project)


def test_a_missing_baseline_is_an_error(project):
    project.baseline.unlink()
    with pytest.raises(StageError, match=f"missing input {re.escape(str(project.baseline))}"):
        evaluate.run(Config(), project)


def test_snapshots_without_the_model_features_are_an_error(project):
    snapshots = pd.read_parquet(project.snapshots)
    snapshots.drop(columns="debt_ratio").to_parquet(project.snapshots, index=False)
    with pytest.raises(StageError, match="debt_ratio"):
        evaluate.run(Config(), project)
