import json
import warnings

import numpy as np
import pandas as pd
import pytest
from optbinning import OptimalBinning

from models.baseline import BaselinePD, WoEScorecard, cross_fitted_decisions
from models.calibration import PDCalibrator
from models.metrics import auc
from models.train import customer_folds

DIRECTIONS = {"days_late": 1, "cash_ratio": -1, "noise": 0, "empty": 1}


def rows(seed: int = 0, n: int = 3000) -> tuple[pd.DataFrame, np.ndarray]:
    """Risk rises with days late and falls with cash; noise carries nothing; empty is all NaN."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "days_late": rng.gamma(2.0, 8.0, n),
            "cash_ratio": rng.uniform(0, 2, n),
            "noise": rng.normal(size=n),
            "empty": np.nan,
        }
    )
    X.loc[::9, "cash_ratio"] = np.nan
    logit = -3.0 + 0.08 * X["days_late"] - 1.0 * X["cash_ratio"].fillna(0.2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return X, y


X, Y = rows()


@pytest.fixture(scope="module")
def card() -> WoEScorecard:
    return WoEScorecard(DIRECTIONS, max_n_bins=5).fit(X, Y)


def test_the_scorecard_keeps_informative_features_and_ranks_well(card):
    assert {"days_late", "cash_ratio"} <= set(card.features_) and "empty" not in card.features_
    assert card.iv_["noise"] < card.iv_["cash_ratio"] < card.iv_["days_late"]
    assert card.iv_["empty"] == 0.0
    assert all(c < 0 for c in card.coef_.values())  # a safer bin lowers the log-odds
    X_new, y_new = rows(seed=1)
    assert auc(y_new, card.decision_function(X_new)) > 0.7


def test_bins_follow_the_risk_direction(card):
    woe = card.woe_["days_late"][:-1]  # bins in order, missing last
    assert np.all(np.diff(woe) <= 0)  # more days late: riskier bins, lower WoE
    assert np.all(np.diff(card.woe_["cash_ratio"][:-1]) >= 0)
    assert 2 <= len(woe) <= 5


def test_transform_matches_optbinning():
    with_missing = X.assign(days_late=X["days_late"].where(np.arange(len(X)) % 7 > 0))
    card = WoEScorecard({"days_late": 1}, max_n_bins=5).fit(with_missing, Y)
    binning = OptimalBinning(monotonic_trend="ascending", max_n_bins=5, min_bin_size=0.05)
    X_new, _ = rows(seed=2, n=200)
    X_new.loc[::5, "days_late"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binning.fit(with_missing["days_late"].to_numpy(), Y)
        expected = binning.transform(
            X_new["days_late"].to_numpy(), metric="woe", metric_missing="empirical"
        )
    np.testing.assert_allclose(card.transform(X_new)["days_late"], expected)


def test_predict_proba_is_the_logistic_of_the_log_odds(card):
    p = card.predict_proba(X.head(20))
    assert p.shape == (20, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-card.decision_function(X.head(20)))))


def test_round_trip_through_json(card):
    state = json.loads(json.dumps(card.to_dict()))
    again = WoEScorecard.from_dict(state)
    np.testing.assert_allclose(again.decision_function(X), card.decision_function(X))
    assert again.get_params() == card.get_params()


def test_scorecard_table(card):
    table = card.scorecard()
    assert list(table.columns) == ["feature", "bin", "woe", "points"]
    assert set(table["feature"]) == set(card.features_)
    assert (table["bin"] == "missing").sum() == len(card.features_)
    np.testing.assert_allclose(table["points"], table["woe"] * table["feature"].map(card.coef_))


def test_baseline_pd_calibrates_the_log_odds(card):
    cal_X, cal_y = rows(seed=3)
    calibrator = PDCalibrator("platt").fit(card.decision_function(cal_X), cal_y)
    pd_values = BaselinePD(card, calibrator).predict_pd(cal_X)
    assert pd_values.shape == (len(cal_X),)
    assert pd_values.mean() == pytest.approx(cal_y.mean(), abs=0.01)


def test_fit_does_not_modify_its_input():
    before = X.copy()
    WoEScorecard({"days_late": 1}).fit(X, Y)
    pd.testing.assert_frame_equal(X, before)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"directions": {}}, "at least one feature"),
        ({"max_n_bins": 1}, "max_n_bins"),
        ({"min_bin_share": 0.6}, "min_bin_share"),
        ({"C": 0}, "C > 0"),
    ],
)
def test_bad_params_are_an_error(params, message):
    with pytest.raises(ValueError, match=message):
        WoEScorecard(**{"directions": DIRECTIONS, **params}).fit(X, Y)


def test_missing_columns_and_bad_labels_are_an_error(card):
    with pytest.raises(ValueError, match="noise"):
        WoEScorecard(DIRECTIONS).fit(X.drop(columns="noise"), Y)
    with pytest.raises(ValueError, match="cash_ratio"):
        card.decision_function(X.drop(columns="cash_ratio"))
    with pytest.raises(ValueError, match="0/1 label"):
        WoEScorecard(DIRECTIONS).fit(X, np.where(Y == 1, 2.0, 0.0))
    with pytest.raises(ValueError, match="both defaults"):
        WoEScorecard(DIRECTIONS).fit(X, np.zeros(len(X)))


def test_a_categorical_attribute_gets_a_bin_per_level_rare_ones_pooled():
    rng = np.random.default_rng(4)
    n = 4000
    tier = rng.choice(
        ["gold", "silver", "bronze", "tin", "lead"], n, p=[0.4, 0.3, 0.26, 0.02, 0.02]
    )
    tier = np.where(rng.random(n) < 0.05, None, tier)
    rate = pd.Series(tier).map({"gold": 0.02, "silver": 0.05, "bronze": 0.2}).fillna(0.1)
    y = (rng.random(n) < rate.to_numpy()).astype(float)
    X = pd.DataFrame({"attr_tier": tier, "x": rng.normal(size=n)})
    card = WoEScorecard({"attr_tier": 0, "x": 0}, min_iv=0.0).fit(X, y)
    assert card.levels_["attr_tier"] == {"bronze": 0, "gold": 1, "silver": 2, "lead": 3, "tin": 3}
    woe = card.transform(pd.DataFrame({"attr_tier": ["gold", "bronze", "tin", "platinum", None],
                                       "x": 0.0}))["attr_tier"]  # fmt: skip
    assert woe[0] > 0 > woe[1]  # gold safer than the average, bronze riskier
    assert woe[2] == woe[3]  # an unseen level: the rare levels' bin
    assert woe[4] == card.woe_["attr_tier"][-1]  # missing: its own bin
    assert auc(y, card.predict_proba(X)[:, 1]) > 0.7
    again = WoEScorecard.from_dict(json.loads(json.dumps(card.to_dict())))
    assert np.array_equal(again.decision_function(X), card.decision_function(X))
    table = card.scorecard()
    assert "lead | tin" in set(table.loc[table["feature"] == "attr_tier", "bin"])


def test_cross_fitted_decisions_come_from_cards_of_the_other_folds(card):
    ids = pd.Series([f"C{i}" for i in range(len(X))])
    folds = customer_folds(X.assign(customer_id=ids, label=Y), 3, seed=0)
    out = cross_fitted_decisions(card, X, Y, folds)
    fit, held = folds[1]
    own = WoEScorecard(DIRECTIONS, max_n_bins=5).fit(X.iloc[fit], Y[fit])
    np.testing.assert_allclose(out[held], own.decision_function(X.iloc[held]))
    assert not np.allclose(out, card.decision_function(X))  # not the card's own fit
    assert auc(Y, out) > 0.7
