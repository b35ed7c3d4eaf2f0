import json

import numpy as np
import pandas as pd
import pytest

from models.calibration import METHODS, PDCalibrator, choose_method, cross_validated_brier


def calibration_data(seed: int = 3, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose default rate rises with the score."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(-2.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(scores + 0.5)))).astype(float)
    return scores, y


SCORES, Y = calibration_data()
GRID = np.linspace(-8, 6, 200)


@pytest.mark.parametrize("method", METHODS)
def test_calibrated_pd_is_monotone_in_the_score(method):
    cal = PDCalibrator(method).fit(SCORES, Y)
    pd_values = cal.predict(GRID)
    assert np.all(np.diff(pd_values) >= 0)
    assert pd_values[-1] > pd_values[0]
    assert np.all((pd_values >= cal.pd_floor) & (pd_values <= 1 - cal.pd_floor))


def test_platt_learns_the_logistic_map():
    cal = PDCalibrator("platt", pd_floor=0.0).fit(SCORES, Y)
    # the data were made with coefficient 1 and intercept 0.5
    assert cal.coef_ == pytest.approx(1.0, abs=0.35)
    assert cal.intercept_ == pytest.approx(0.5, abs=0.6)
    expected = 1 / (1 + np.exp(-(cal.coef_ * GRID + cal.intercept_)))
    np.testing.assert_allclose(cal.predict(GRID), expected)


def test_isotonic_on_a_hand_made_case():
    cal = PDCalibrator("isotonic", pd_floor=0.01).fit(
        np.array([0.0, 1, 2, 3]), np.array([0, 0, 1, 1])
    )
    # fitted steps ~0 at 0 and 1, ~1 at 2 and 3, linear in between; clipped to [0.01, 0.99]
    got = cal.predict([-5.0, 0.0, 1.5, 1.75, 10.0])
    np.testing.assert_allclose(got, [0.01, 0.01, 0.5, 0.75, 0.99], atol=1e-6)


@pytest.mark.parametrize(
    ("floor", "low", "high"), [(0.0, 1e-6, 1 - 1e-6), (0.0003, 0.0003, 0.9997), (0.2, 0.2, 0.8)]
)
def test_pd_floor_clips_both_ends(floor, low, high):
    cal = PDCalibrator("isotonic", pd_floor=floor).fit(
        np.array([0.0, 1, 2, 3]), np.array([0, 0, 1, 1])
    )
    got = cal.predict(np.array([-1.0, 4.0]))
    np.testing.assert_allclose(got, [low, high], rtol=1e-12)


def test_the_default_floor():
    assert PDCalibrator().pd_floor == 0.0003 and PDCalibrator().method == "platt"
    cal = PDCalibrator("platt").fit(SCORES, Y)
    assert cal.predict(np.array([-100.0]))[0] == 0.0003


@pytest.mark.parametrize("method", METHODS)
def test_round_trip_through_json_gives_identical_predictions(method):
    cal = PDCalibrator(method, pd_floor=0.001).fit(SCORES, Y)
    state = json.loads(json.dumps(cal.to_dict()))
    assert state["method"] == method and state["pd_floor"] == 0.001
    again = PDCalibrator.from_dict(state)
    np.testing.assert_array_equal(again.predict(GRID), cal.predict(GRID))
    assert again.get_params() == cal.get_params()


@pytest.mark.parametrize("method", ["logit", "", "Platt"])
def test_an_unknown_method_is_an_error(method):
    with pytest.raises(ValueError, match=f"method must be one of.*got '{method}'"):
        PDCalibrator(method).fit(SCORES, Y)


@pytest.mark.parametrize("floor", [-0.01, 0.5, 1.0])
def test_a_bad_floor_is_an_error(floor):
    with pytest.raises(ValueError, match=r"pd_floor must lie in \[0, 0.5\)"):
        PDCalibrator("platt", pd_floor=floor).fit(SCORES, Y)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_a_single_class_is_an_error(method, label):
    with pytest.raises(ValueError, match="both defaults and non-defaults"):
        PDCalibrator(method).fit(SCORES[:10], np.full(10, label))


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


def test_choose_method_returns_both_methods():
    got = choose_method(SCORES, Y, folds=4, seed=0)
    assert set(got) == set(METHODS)
    for method, brier in got.items():
        assert isinstance(brier, float)
        assert 0 < brier < Y.mean()  # better than a constant 0
        assert brier == cross_validated_brier(method, SCORES, Y, 4, 0)


def test_cross_validated_brier_of_a_hand_made_case():
    # perfectly separated: platt pushes every held-out PD towards 0 or 1
    scores = np.repeat([-3.0, 3.0], 10)
    y = np.repeat([0.0, 1.0], 10)
    assert cross_validated_brier("platt", scores, y, folds=2, seed=0) < 1e-3
    assert cross_validated_brier("platt", scores, y, 2, 0, pd_floor=0.1) == pytest.approx(0.01)


def test_cross_validated_brier_checks_its_input():
    with pytest.raises(ValueError, match="1-d of equal length"):
        cross_validated_brier("platt", SCORES, Y[:-1], 3, 0)


def tail_heavy_data(seed: int = 5, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Few defaults among the lowest scores: plain isotonic gives them a step at PD 0."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(-3.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(scores + 0.5)))).astype(float)
    return scores, y


def steps(cal: PDCalibrator, scores: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Defaults and rows of each distinct fitted value on the calibration data."""
    frame = pd.DataFrame({"fitted": np.interp(scores, cal.x_, cal.y_), "y": y})
    return frame.groupby("fitted")["y"].agg(["sum", "size"])


def test_plain_isotonic_has_a_step_without_defaults():
    scores, y = tail_heavy_data()
    cal = PDCalibrator("isotonic", pd_floor=0.0003).fit(scores, y)
    assert cal.predict(np.array([scores.min()]))[0] == 0.0003
    assert (steps(cal, scores, y)["sum"] == 0).any()


@pytest.mark.parametrize("events", [1, 5, 20])
def test_pooled_steps_hold_enough_defaults_and_non_defaults(events):
    scores, y = tail_heavy_data()
    cal = PDCalibrator("isotonic", pd_floor=0.0003, min_step_events=events).fit(scores, y)
    table = steps(cal, scores, y)
    assert (table["sum"] >= events).all()
    assert (table["size"] - table["sum"] >= events).all()
    assert cal.predict(np.array([scores.min()]))[0] > 0.0003
    assert np.all(np.diff(cal.predict(GRID)) >= 0)
    again = PDCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again.min_step_events == events
    np.testing.assert_array_equal(again.predict(GRID), cal.predict(GRID))


def test_pooling_keeps_the_overall_rate():
    scores, y = tail_heavy_data()
    cal = PDCalibrator("isotonic", pd_floor=0.0, min_step_events=10).fit(scores, y)
    assert np.interp(scores, cal.x_, cal.y_).mean() == pytest.approx(y.mean(), rel=0.02)


def test_too_few_events_pool_into_one_step():
    cal = PDCalibrator("isotonic", pd_floor=0.0, min_step_events=3).fit(
        np.array([0.0, 1, 2, 3]), np.array([0, 0, 1, 1])
    )
    np.testing.assert_allclose(cal.predict(np.array([-1.0, 1.5, 9.0])), 0.5)


def test_a_negative_min_step_events_is_an_error():
    with pytest.raises(ValueError, match="min_step_events"):
        PDCalibrator("isotonic", min_step_events=-1).fit(SCORES, Y)
