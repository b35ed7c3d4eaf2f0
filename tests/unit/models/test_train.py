import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.catalogue import monotone_constraints, spec_for
from models.train import (
    PLAIN_TREES,
    choose_trial,
    cross_fitted_scores,
    cross_validate_booster,
    customer_folds,
    early_stopping_split,
    gain_importance,
    lgb_params,
    search_grid,
    train_booster,
    tune_booster,
    unstable_features,
)

NAMES = ["days_late_wavg_12m", "on_time_rate_12m", "debt_ratio"]  # directions +1, -1, +1
SETTINGS = {
    "seed": 5,
    "learning_rate": 0.1,
    "num_leaves": 4,
    "max_depth": 3,
    "min_child_samples": 10,
    "reg_lambda": 1.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
}


def rows(seed: int = 0, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(NAMES))), columns=NAMES)
    logit = -1.5 + 1.2 * frame["days_late_wavg_12m"] - 0.8 * frame["on_time_rate_12m"]
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return frame


DATA = rows()
TRAIN, VALID = DATA.iloc[:220], DATA.iloc[220:]


def params(**changes) -> dict:
    return lgb_params(**{**SETTINGS, **changes}, feature_names=NAMES)


def fit(train=TRAIN, valid=VALID, **changes) -> tuple[lgb.Booster, dict]:
    # one thread: on 300 rows, thread start-up costs more than the work
    return train_booster(train, valid, NAMES, {**params(**changes), "num_threads": 1}, 60, 10)


def test_lgb_params():
    got = params()
    assert got["objective"] == "binary"
    assert got["monotone_constraints"] == [1, -1, 1] == monotone_constraints(NAMES)
    assert got["min_data_in_leaf"] == 10 and got["lambda_l2"] == 1.0
    assert got["seed"] == 5 and got["deterministic"] is True
    assert got["bagging_freq"] == 1


@pytest.mark.parametrize(("fraction", "freq"), [(1.0, 0), (0.99, 1), (0.5, 1)])
def test_bagging_is_on_only_below_one(fraction, freq):
    assert params(bagging_fraction=fraction)["bagging_freq"] == freq


def test_lgb_params_rejects_an_unknown_feature():
    with pytest.raises(KeyError, match="colour"):
        lgb_params(**SETTINGS, feature_names=["debt_ratio", "colour"])


@pytest.fixture(scope="module")
def fitted() -> tuple[lgb.Booster, dict]:
    return fit()


def test_train_booster_record(fitted):
    booster, record = fitted
    assert booster.feature_name() == NAMES
    assert 1 <= record["best_iteration"] <= 60
    assert booster.num_trees() == record["best_iteration"]  # trimmed to the best iteration
    assert record["n_train"] == 220 and record["n_valid"] == 80
    assert record["train_default_rate"] == pytest.approx(TRAIN["label"].mean())
    assert 0 < record["valid_logloss"] < 0.7 and 0.5 < record["valid_auc"] <= 1


def test_the_booster_predicts_the_valid_logloss(fitted):
    booster, record = fitted
    p = np.clip(booster.predict(VALID[NAMES]), 1e-15, 1 - 1e-15)
    y = VALID["label"].to_numpy()
    logloss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert logloss == pytest.approx(record["valid_logloss"], rel=1e-6)


def test_the_same_seed_gives_the_same_model(fitted):
    again, _ = fit()
    assert again.model_to_string() == fitted[0].model_to_string()


def test_another_seed_gives_another_model(fitted):
    other, _ = fit(seed=6)
    assert other.model_to_string() != fitted[0].model_to_string()


@pytest.mark.parametrize("name", NAMES)
def test_monotone_constraints_hold(fitted, name):
    booster = fitted[0]
    direction = monotone_constraints([name])[0]
    base = VALID[NAMES].iloc[:30]
    grid = np.linspace(-3, 3, 25)
    swept = base.loc[base.index.repeat(len(grid))].assign(**{name: np.tile(grid, len(base))})
    scores = booster.predict(swept, raw_score=True).reshape(len(base), len(grid))
    assert (np.diff(scores, axis=1) * direction >= -1e-12).all()


@pytest.mark.parametrize("which", ["train", "valid"])
def test_unlabelled_rows_are_an_error(which):
    frames = {"train": TRAIN.copy(), "valid": VALID.copy()}
    frames[which].iloc[3, frames[which].columns.get_loc("label")] = np.nan
    with pytest.raises(ValueError, match=f"{which} rows must all be labelled"):
        fit(frames["train"], frames["valid"])


@pytest.mark.parametrize("which", ["train", "valid"])
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_single_class_rows_are_an_error(which, label):
    frames = {"train": TRAIN.copy(), "valid": VALID.copy()}
    frames[which]["label"] = label
    with pytest.raises(ValueError, match=f"{which} rows need both defaults and non-defaults"):
        fit(frames["train"], frames["valid"])


@pytest.mark.parametrize("name", [*NAMES, "label"])
def test_train_booster_requires_columns(name):
    with pytest.raises(KeyError, match=name):
        fit(TRAIN.drop(columns=name), VALID)


def test_unstable_features_finds_a_drifting_feature():
    later = VALID.assign(days_late_wavg_12m=VALID["days_late_wavg_12m"] + 3.0)
    got = unstable_features(TRAIN, later, NAMES, max_psi=0.25)
    assert list(got) == ["days_late_wavg_12m"] and got["days_late_wavg_12m"] > 0.25
    assert unstable_features(TRAIN, VALID, NAMES, max_psi=0.25) == {}


def test_search_grid_is_every_combination_in_order():
    grid = {"max_depth": [2, 3], "min_child_samples": [10, 20, 30]}
    points = search_grid(grid)
    assert len(points) == 6
    assert points[0] == {"max_depth": 2, "min_child_samples": 10}
    assert points[-1] == {"max_depth": 3, "min_child_samples": 30}
    assert search_grid({}) == [{}]
    with pytest.raises(ValueError, match="no values"):
        search_grid({"max_depth": []})


def trials(*rows) -> pd.DataFrame:
    columns = ["max_depth", "num_leaves", "min_child_samples", "valid_auc"]
    return pd.DataFrame(list(rows), columns=columns)


@pytest.mark.parametrize(
    ("tolerance", "expected"),
    [
        (0.0, 2),  # only the best
        (0.005, 1),  # depth 3 is within tolerance and shallower than the best
        (0.05, 3),  # everything is within: shallowest first, then the AUC, then rows per leaf
    ],
)
def test_choose_trial_prefers_shallow_trees_within_tolerance(tolerance, expected):
    table = trials(
        (6, 7, 100, 0.780),
        (3, 7, 100, 0.778),
        (-1, 7, 100, 0.781),  # -1: unbounded depth, the deepest
        (2, 7, 300, 0.760),
        (2, 7, 100, 0.760),
    )
    assert choose_trial(table, tolerance) == expected


def test_among_trees_of_one_shape_the_auc_not_the_leaf_size_decides():
    table = trials((3, 7, 600, 0.950), (3, 7, 50, 0.954), (4, 7, 50, 0.955))
    assert choose_trial(table, 0.005) == 1


def test_choose_trial_needs_trials():
    with pytest.raises(ValueError, match="no trials"):
        choose_trial(trials(), 0.01)


def test_tune_booster_trains_every_point_and_keeps_the_chosen():
    settings = {**SETTINGS, "num_leaves": 4}
    grid = {"max_depth": [1, 3], "min_child_samples": [10, 40]}
    single = {**settings, "learning_rate": 0.1}
    booster, record, table = tune_booster(
        TRAIN, VALID, NAMES, {**single, "max_depth": 3}, grid, 40, 10, auc_tolerance=0.0
    )
    assert len(table) == 4 and table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["valid_auc"] == table["valid_auc"].max()
    assert record["settings"]["max_depth"] == chosen["max_depth"]
    assert record["valid_auc"] == pytest.approx(chosen["valid_auc"])
    assert booster.num_trees() == record["best_iteration"]
    with pytest.raises(ValueError, match="not training settings"):
        tune_booster(TRAIN, VALID, NAMES, single, {"colour": [1]}, 10, 5, 0.0)


def test_extra_points_are_tried_beside_the_grid_once():
    settings = {**SETTINGS, "num_leaves": 4, "learning_rate": 0.1, "max_depth": 3}
    grid = {"max_depth": [1, 3]}
    plain = {"num_leaves": 31, "max_depth": -1, "min_child_samples": 20}
    _, _, table = tune_booster(
        TRAIN, VALID, NAMES, settings, grid, 40, 10, 0.0, extra_points=[plain, {"max_depth": 1}]
    )
    assert len(table) == 3  # the grid's two, and the plain shape (max_depth 1 is in the grid)
    last = table.iloc[-1]
    assert (last["num_leaves"], last["max_depth"], last["min_child_samples"]) == (31, -1, 20)
    assert PLAIN_TREES == plain  # LightGBM's defaults


def windowed(months: list[int], per_month: int = 40) -> pd.DataFrame:
    frames = [
        rows(seed=m, n=per_month).assign(month=m, customer_id=[f"C{i}" for i in range(per_month)])
        for m in months
    ]
    return pd.concat(frames, ignore_index=True)


CUSTOMERS = rows(seed=11, n=400).assign(month=1, customer_id=[f"C{i}" for i in range(400)])


def test_early_stopping_split_takes_the_latest_months():
    window = windowed([1, 2, 3, 4, 5])
    fit, valid = early_stopping_split(window, validation_months=2, validation_share=0.3, seed=0)
    assert sorted(fit["month"].unique()) == [1, 2, 3] and sorted(valid["month"].unique()) == [4, 5]
    assert set(fit["customer_id"]) == set(valid["customer_id"])


def test_a_panel_stops_early_on_the_latest_months_of_customers_never_fitted():
    window = windowed([1, 2, 3, 4, 5], per_month=100)
    fit, valid = early_stopping_split(window, 2, 0.3, seed=0, hold_out_customers=True)
    assert sorted(fit["month"].unique()) == [1, 2, 3] and sorted(valid["month"].unique()) == [4, 5]
    assert not set(fit["customer_id"]) & set(valid["customer_id"])
    assert valid["customer_id"].nunique() == pytest.approx(30, abs=2)
    assert fit["customer_id"].nunique() == pytest.approx(70, abs=2)


def test_one_date_holds_out_whole_customers_of_both_outcomes():
    window = windowed([7], per_month=200)
    fit, valid = early_stopping_split(window, validation_months=3, validation_share=0.25, seed=0)
    assert len(fit) + len(valid) == len(window)
    assert not set(fit["customer_id"]) & set(valid["customer_id"])
    assert len(valid) == pytest.approx(50, abs=2)
    assert valid["label"].nunique() == 2 and fit["label"].nunique() == 2
    again, _ = early_stopping_split(window, 3, 0.25, seed=0)
    pd.testing.assert_frame_equal(again, fit)


def test_gain_importance_lists_every_feature_by_gain(fitted):
    booster = fitted[0]
    table = gain_importance(booster)
    assert sorted(table["feature"]) == sorted(NAMES)
    assert list(table.columns) == ["feature", "family", "gain", "splits"]
    assert table["gain"].is_monotonic_decreasing
    assert table.set_index("feature").loc["debt_ratio", "family"] == spec_for("debt_ratio").family


def test_training_reports_its_progress(caplog, monkeypatch):
    monkeypatch.setattr("models.train.PROGRESS_ROUNDS", 5)
    grid = {"max_depth": [1, 2]}
    settings = {**SETTINGS, "num_leaves": 4, "learning_rate": 0.1, "max_depth": 1}
    with caplog.at_level("INFO", logger="models.train"):
        tune_booster(TRAIN, VALID, NAMES, settings, grid, 20, 20, auc_tolerance=0.0)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("trial 1 of 2 (max_depth 1): ") for line in lines), lines
    assert any(line.startswith("trial 2 of 2 (max_depth 2): ") and "best so far" in line
               for line in lines), lines  # fmt: skip
    assert any(line.startswith("round 5: early-stopping AUC ") for line in lines), lines


def test_customer_folds_keep_each_customer_whole_and_spread_both_outcomes():
    window = windowed([1, 2], per_month=150)
    folds = customer_folds(window, 5, seed=3)
    held = np.concatenate([h for _, h in folds])
    assert sorted(held) == list(range(len(window)))  # every row held out exactly once
    for fit, out in folds:
        assert not set(window["customer_id"].iloc[fit]) & set(window["customer_id"].iloc[out])
        assert window["label"].iloc[out].nunique() == 2
    again = customer_folds(window, 5, seed=3)
    assert all((a == b).all() for (a, _), (b, _) in zip(folds, again, strict=True))
    with pytest.raises(ValueError, match="at least 2 folds"):
        customer_folds(window, 1, seed=3)


def test_cross_validation_scores_a_trial_on_rows_it_did_not_learn():
    folds = customer_folds(CUSTOMERS, 4, seed=0)
    first, record = cross_validate_booster(
        CUSTOMERS, NAMES, {**params(), "num_threads": 1}, 60, 10, folds
    )
    assert record["n_train"] == len(CUSTOMERS) and 1 <= record["best_iteration"] <= 60
    assert 0.6 < record["valid_auc"] < 1  # the signal, held out
    assert first.num_trees() >= record["best_iteration"]


def test_cross_fitted_scores_come_from_the_other_folds():
    folds = customer_folds(CUSTOMERS, 4, seed=0)
    p = {**params(), "num_threads": 1}
    raw = cross_fitted_scores(CUSTOMERS, NAMES, p, 30, folds)
    fit, held = folds[0]
    own = lgb.train(p, lgb.Dataset(CUSTOMERS.iloc[fit][NAMES], CUSTOMERS.iloc[fit]["label"]), 30)
    np.testing.assert_allclose(raw[held], own.predict(CUSTOMERS.iloc[held][NAMES], raw_score=True))
    everyone = lgb.train(p, lgb.Dataset(CUSTOMERS[NAMES], CUSTOMERS["label"]), 30)
    assert not np.allclose(raw, everyone.predict(CUSTOMERS[NAMES], raw_score=True))
