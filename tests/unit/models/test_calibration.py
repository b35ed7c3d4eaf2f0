import json

import numpy as np
import pytest
from scipy.special import expit, logit

from models.calibration import METHODS, PDCalibrator, choose_method, cross_validate


def calibration_data(seed: int = 3, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose default rate rises with the score."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(-2.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(scores + 0.5)))).astype(float)
    return scores, y


def tail_heavy_data(seed: int = 5, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Few defaults among the lowest scores: plain isotonic gives them a block at PD 0."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(-3.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(scores + 0.5)))).astype(float)
    return scores, y


SCORES, Y = calibration_data()
GRID = np.linspace(-8, 6, 200)


@pytest.mark.parametrize("method", METHODS)
def test_calibrated_pd_is_strictly_monotone_in_the_score(method):
    cal = PDCalibrator(method, pd_floor=0.0).fit(SCORES, Y)
    pd_values = cal.predict(GRID)
    assert np.all(np.diff(pd_values) > 0)
    assert np.all(np.diff(cal.log_odds(np.linspace(-30, 30, 2001))) > 0)  # far outside too


@pytest.mark.parametrize("method", METHODS)
def test_distinct_scores_get_distinct_pds(method):
    scores, y = tail_heavy_data()
    cal = PDCalibrator(method, pd_floor=0.0003, min_step_events=5).fit(scores, y)
    pd_values = cal.predict(scores)
    above_floor = pd_values > 0.0003
    assert above_floor.mean() > 0.95
    assert len(np.unique(pd_values[above_floor])) == len(np.unique(scores[above_floor]))


@pytest.mark.parametrize("method", METHODS)
def test_extrapolation_follows_a_logistic_tail(method):
    cal = PDCalibrator(method, pd_floor=0.0).fit(SCORES, Y)
    # beyond the window's scores, the log-odds keep a positive slope no steeper than 3 per unit
    for edge, step in ((SCORES.min(), -1.0), (SCORES.max(), 1.0)):
        far = cal.log_odds(np.array([edge + step, edge + 4 * step]))
        slope = (far[1] - far[0]) / (3 * step)
        assert 0 < slope < 3


def test_platt_learns_the_logistic_map():
    cal = PDCalibrator("platt", pd_floor=0.0).fit(SCORES, Y)
    # the data were made with coefficient 1 and intercept 0.5
    assert cal.coef_ == pytest.approx(1.0, abs=0.35)
    assert cal.intercept_ == pytest.approx(0.5, abs=0.6)
    expected = 1 / (1 + np.exp(-(cal.coef_ * GRID + cal.intercept_)))
    np.testing.assert_allclose(cal.predict(GRID), expected)


def test_beta_nests_platt_and_fits_at_least_as_well():
    platt = PDCalibrator("platt", pd_floor=0.0).fit(SCORES, Y)
    beta = PDCalibrator("beta", pd_floor=0.0).fit(SCORES, Y)
    assert beta.a_ >= 0 and beta.b_ >= 0

    def log_loss(p):
        return -np.mean(Y * np.log(p) + (1 - Y) * np.log1p(-p))

    assert log_loss(beta.predict(SCORES)) <= log_loss(platt.predict(SCORES)) + 1e-9
    # with a = b the beta map is the Platt map
    beta.a_ = beta.b_ = platt.coef_
    beta.c_ = platt.intercept_
    np.testing.assert_allclose(beta.predict(GRID), platt.predict(GRID), rtol=1e-9)


def test_beta_finds_two_slopes():
    rng = np.random.default_rng(7)
    scores = rng.normal(-2.0, 1.5, 20_000)
    true = 0.3 - 0.5 * np.logaddexp(0, -scores) + 1.5 * np.logaddexp(0, scores)
    y = (rng.random(len(scores)) < expit(true)).astype(float)
    cal = PDCalibrator("beta", pd_floor=0.0).fit(scores, y)
    assert (cal.a_, cal.b_, cal.c_) == pytest.approx((0.5, 1.5, 0.3), abs=0.2)


def test_centred_isotonic_on_a_hand_made_case():
    scores = np.array([0.0, 1, 2, 3, 4, 5])
    y = np.array([0.0, 1, 0, 0, 1, 1])
    cal = PDCalibrator("centred_isotonic", pd_floor=0.0).fit(scores, y)
    # isotonic blocks {0} at 0, {1, 2, 3} at 1/3, {4, 5} at 1: rates kept inside 1e-6
    np.testing.assert_allclose(cal.x_, [0.0, 2.0, 4.5])
    np.testing.assert_allclose(expit(cal.y_), [1e-6, 1 / 3, 1 - 1e-6])
    # linear in log-odds between the knots (block centres); Platt's slope beyond them
    middle = cal.predict(np.array([1.0, 2.0, 3.25]))
    np.testing.assert_allclose(logit(middle[1]), logit(1 / 3))
    np.testing.assert_allclose(logit(middle[2]), (logit(1 / 3) + logit(1 - 1e-6)) / 2)
    np.testing.assert_allclose(cal.log_odds(np.array([5.5])), cal.y_[-1] + cal.coef_)


def test_centred_isotonic_keeps_the_rate_of_each_block():
    scores, y = tail_heavy_data()
    cal = PDCalibrator("centred_isotonic", pd_floor=0.0, min_step_events=10).fit(scores, y)
    assert cal.predict(scores).mean() == pytest.approx(y.mean(), rel=0.05)
    assert len(cal.x_) > 3 and np.all(np.diff(cal.x_) > 0) and np.all(np.diff(cal.y_) > 0)


@pytest.mark.parametrize("events", [1, 5, 20])
def test_pooled_blocks_hold_enough_defaults_and_non_defaults(events):
    scores, y = tail_heavy_data()
    cal = PDCalibrator("centred_isotonic", pd_floor=0.0, min_step_events=events).fit(scores, y)
    order = np.argsort(scores)
    s, outcome = scores[order], y[order]
    first = 0
    for centre, rate in zip(cal.x_, expit(cal.y_), strict=True):
        # the block is the run of sorted scores from ``first`` whose mean is the knot's score
        means = np.cumsum(s[first:]) / np.arange(1, len(s) - first + 1)
        end = first + int(np.argmin(np.abs(means - centre))) + 1
        inside = outcome[first:end]
        assert inside.sum() >= events and len(inside) - inside.sum() >= events
        assert rate == pytest.approx(inside.mean())
        first = end
    assert first == len(s)
    assert cal.predict(np.array([scores.min()]))[0] > 1e-4


def test_plain_isotonic_blocks_at_zero_are_not_a_floor():
    scores, y = tail_heavy_data()
    cal = PDCalibrator("centred_isotonic", pd_floor=0.0003).fit(scores, y)
    assert expit(cal.y_[0]) == pytest.approx(1e-6)  # a block without a default
    low = np.sort(scores)[:50]
    assert np.all(np.diff(cal.log_odds(low)) > 0)


def test_too_few_events_pool_into_one_knot():
    cal = PDCalibrator("centred_isotonic", pd_floor=0.0, min_step_events=3).fit(
        np.array([0.0, 1, 2, 3]), np.array([0, 0, 1, 1])
    )
    assert cal.x_.tolist() == [1.5] and cal.predict(np.array([1.5]))[0] == pytest.approx(0.5)
    assert np.all(np.diff(cal.predict(np.array([-1.0, 1.5, 9.0]))) > 0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("floor", "low", "high"), [(0.0003, 0.0003, 0.9997), (0.2, 0.2, 0.8)])
def test_pd_floor_clips_both_ends(method, floor, low, high):
    cal = PDCalibrator(method, pd_floor=floor).fit(SCORES, Y)
    got = cal.predict(np.array([-100.0, 100.0]))
    np.testing.assert_allclose(got, [low, high], rtol=1e-12)
    assert cal.predict(GRID).min() >= floor


def test_the_default_floor():
    assert PDCalibrator().pd_floor == 0.0003 and PDCalibrator().method == "platt"
    cal = PDCalibrator("platt").fit(SCORES, Y)
    assert cal.predict(np.array([-100.0]))[0] == 0.0003


@pytest.mark.parametrize("method", METHODS)
def test_round_trip_through_json_gives_identical_predictions(method):
    cal = PDCalibrator(method, pd_floor=0.001, min_step_events=3).fit(SCORES, Y)
    state = json.loads(json.dumps(cal.to_dict()))
    assert state["method"] == method and state["pd_floor"] == 0.001
    again = PDCalibrator.from_dict(state)
    np.testing.assert_array_equal(again.predict(GRID), cal.predict(GRID))
    assert again.get_params() == cal.get_params()
    assert again.to_dict() == cal.to_dict()


def test_a_retired_step_calibrator_read_back_predicts_as_fitted():
    # the state a step-function isotonic calibrator wrote: thresholds and their values
    state = {"method": "isotonic", "pd_floor": 0.01, "min_step_events": 0,
             "x": [0.0, 1.0, 2.0, 3.0], "y": [1e-6, 1e-6, 1 - 1e-6, 1 - 1e-6]}  # fmt: skip
    cal = PDCalibrator.from_dict(state)
    got = cal.predict([-5.0, 0.0, 1.5, 1.75, 10.0])
    np.testing.assert_allclose(got, [0.01, 0.01, 0.5, 0.75, 0.99], atol=1e-6)
    assert cal.to_dict() == state
    with pytest.raises(ValueError, match="method must be one of"):
        PDCalibrator("isotonic").fit(SCORES, Y)  # never fitted again


def test_an_unknown_method_in_a_state_is_an_error():
    with pytest.raises(ValueError, match="method must be one of.*got 'spline'"):
        PDCalibrator.from_dict({"method": "spline", "coef": 1.0, "intercept": 0.0})


@pytest.mark.parametrize("method", ["logit", "", "Platt", "isotonic"])
def test_an_unknown_method_is_an_error(method):
    with pytest.raises(ValueError, match=f"method must be one of.*got '{method}'"):
        PDCalibrator(method).fit(SCORES, Y)


@pytest.mark.parametrize("floor", [-0.01, 0.5, 1.0])
def test_a_bad_floor_is_an_error(floor):
    with pytest.raises(ValueError, match=r"pd_floor must lie in \[0, 0.5\)"):
        PDCalibrator("platt", pd_floor=floor).fit(SCORES, Y)


def test_a_negative_min_step_events_is_an_error():
    with pytest.raises(ValueError, match="min_step_events"):
        PDCalibrator("centred_isotonic", min_step_events=-1).fit(SCORES, Y)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_a_single_class_is_an_error(method, label):
    with pytest.raises(ValueError, match="both defaults and non-defaults"):
        PDCalibrator(method).fit(SCORES[:10], np.full(10, label))


@pytest.mark.parametrize("method", METHODS)
def test_a_score_that_does_not_rank_is_an_error(method):
    with pytest.raises(ValueError, match="does not rank defaults"):
        PDCalibrator(method).fit(-SCORES, Y)


@pytest.mark.parametrize(
    ("scores", "y"),
    [
        (np.array([0.1, np.nan, 0.3]), np.array([0.0, 1.0, 0.0])),
        (np.array([0.1, 0.2, 0.3]), np.array([0.0, np.nan, 1.0])),
    ],
)
def test_missing_values_are_an_error(scores, y):
    with pytest.raises(ValueError, match="must not contain missing values"):
        PDCalibrator().fit(scores, y)


@pytest.mark.parametrize(
    ("scores", "y"),
    [
        (np.zeros(3), np.array([0.0, 1.0])),
        (np.zeros((3, 1)), np.array([0.0, 1.0, 0.0])),
        (np.zeros((2, 2)), np.zeros((2, 2))),
    ],
)
def test_shape_mismatch_is_an_error(scores, y):
    with pytest.raises(ValueError, match="must be 1-d of equal length"):
        PDCalibrator().fit(scores, y)


@pytest.mark.parametrize("criterion", ["log_loss", "brier"])
def test_choose_method_takes_the_lowest_cross_validated_criterion(criterion):
    chosen, table = choose_method(SCORES, Y, folds=4, seed=0, criterion=criterion)
    assert set(table) == set(METHODS)
    for method, scores in table.items():
        assert set(scores) == {"log_loss", "brier"}
        assert 0 < scores["brier"] < Y.mean()  # better than a constant 0
        assert scores == cross_validate(method, SCORES, Y, 4, 0)
    assert table[chosen][criterion] == min(s[criterion] for s in table.values())


def test_choose_method_follows_the_data():
    # two slopes: beta should beat the single-slope Platt out of fold
    rng = np.random.default_rng(11)
    scores = rng.normal(-2.0, 1.5, 6000)
    true = -0.2 * np.logaddexp(0, -scores) + 2.5 * np.logaddexp(0, scores) - 0.5
    y = (rng.random(len(scores)) < expit(true)).astype(float)
    chosen, table = choose_method(scores, y, folds=5, seed=0)
    assert table["beta"]["log_loss"] < table["platt"]["log_loss"]
    assert chosen != "platt"


def test_an_unknown_criterion_is_an_error():
    with pytest.raises(ValueError, match="criterion must be one of"):
        choose_method(SCORES, Y, 4, 0, criterion="auc")


def test_cross_validation_of_a_hand_made_case():
    # perfectly separated: platt pushes every held-out PD towards 0 or 1
    scores = np.repeat([-3.0, 3.0], 10)
    y = np.repeat([0.0, 1.0], 10)
    assert cross_validate("platt", scores, y, folds=2, seed=0)["brier"] < 1e-3
    floored = cross_validate("platt", scores, y, 2, 0, pd_floor=0.1)
    assert floored["brier"] == pytest.approx(0.01)
    assert floored["log_loss"] == pytest.approx(-np.log(0.9))


def test_cross_validation_checks_its_input():
    with pytest.raises(ValueError, match="1-d of equal length"):
        cross_validate("platt", SCORES, Y[:-1], 3, 0)
