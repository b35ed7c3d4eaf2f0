import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.catalogue import monotone_constraints
from models.train import lgb_params, train_booster

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
