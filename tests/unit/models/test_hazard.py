"""Discrete-time hazard model: person-period rows, censoring, term structure, calibration."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.timeline import month_end, month_index
from models.hazard import (
    EVENT,
    MONTH_AT_RISK,
    HazardModel,
    HazardSettings,
    expand_person_periods,
    forced_month_splits,
    interpolate_terms,
)
from models.horizons import default_within

CUTOFF = pd.Timestamp("2024-06-30")
FEATURES = ["days_late_wavg_12m", "on_time_rate_12m"]


def _snapshots(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "as_of_date", "default_date"])
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"])
    frame["default_date"] = pd.to_datetime(frame["default_date"])
    frame["month"] = month_index(frame["as_of_date"])
    frame["days_late_wavg_12m"] = np.arange(len(frame), dtype=float)
    frame["on_time_rate_12m"] = 0.5
    return frame


@pytest.fixture
def snapshots() -> pd.DataFrame:
    return _snapshots(
        [
            ("A", "2024-01-31", "2024-04-15"),  # defaults in month 3
            ("B", "2024-01-31", None),  # no default: censored after 5 months
            ("C", "2024-01-31", "2024-09-10"),  # default after the cutoff: unknown
            ("D", "2024-07-31", None),  # as-of after the cutoff: nothing
            ("E", "2023-01-31", "2024-05-01"),  # default beyond 12 months: 12 quiet months
            ("F", "2024-05-31", "2024-06-30"),  # defaults on the cutoff date
        ]
    )


def _periods(frame: pd.DataFrame) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for row in frame.itertuples(index=False):
        out.setdefault(row.customer_id, []).append((int(row.month_at_risk), int(row.event)))
    return out


def test_expansion_censors_at_default_and_cutoff(snapshots):
    periods = _periods(expand_person_periods(snapshots, FEATURES, 12, CUTOFF))
    assert periods["A"] == [(1, 0), (2, 0), (3, 1)]
    assert periods["B"] == [(k, 0) for k in range(1, 6)]
    assert periods["C"] == [(k, 0) for k in range(1, 6)]
    assert "D" not in periods
    assert periods["E"] == [(k, 0) for k in range(1, 13)]
    assert periods["F"] == [(1, 1)]


def test_expansion_never_looks_past_the_cutoff(snapshots):
    base = expand_person_periods(snapshots, FEATURES, 12, CUTOFF)
    months = base["month"].to_numpy() + base[MONTH_AT_RISK].to_numpy().astype(int)
    assert months.max() <= month_index(pd.Series([CUTOFF]))[0]
    # whatever happens after the cutoff changes nothing
    later = snapshots.copy()
    later["default_date"] = later["default_date"].where(
        later["default_date"] <= CUTOFF, pd.Timestamp("2024-07-02")
    )
    later.loc[later["customer_id"] == "B", "default_date"] = pd.Timestamp("2024-08-20")
    pd.testing.assert_frame_equal(base, expand_person_periods(later, FEATURES, 12, CUTOFF))


def test_expansion_carries_features_as_float32(snapshots):
    out = expand_person_periods(snapshots, FEATURES, 12, CUTOFF)
    assert out[FEATURES].dtypes.eq(np.float32).all()
    a = out[out["customer_id"] == "A"]
    assert (a["days_late_wavg_12m"] == 0).all() and a[EVENT].sum() == 1


@pytest.mark.parametrize("column", ["customer_id", "as_of_date", "month", "default_date"])
def test_expansion_requires_columns(snapshots, column):
    with pytest.raises(KeyError, match=column):
        expand_person_periods(snapshots.drop(columns=column), FEATURES, 12, CUTOFF)


def test_expansion_rejects_a_snapshot_after_its_default():
    frame = _snapshots([("A", "2024-01-31", "2024-01-15")])
    with pytest.raises(ValueError, match="after its customer's default"):
        expand_person_periods(frame, FEATURES, 12, CUTOFF)


def test_default_within_matches_the_month_arithmetic(snapshots):
    assert default_within(snapshots, 3, CUTOFF).tolist()[:2] == [1.0, 0.0]
    assert default_within(snapshots, 2, CUTOFF).tolist()[0] == 0.0
    # unknown where the horizon ends after the cutoff
    assert np.isnan(default_within(snapshots, 6, CUTOFF).iloc[1])
    assert default_within(snapshots, 12, CUTOFF).iloc[4] == 0.0


def test_interpolate_terms_lies_between_month_points():
    cumulative = np.array([[0.01, 0.03, 0.06], [0.1, 0.1, 0.2]])
    out = interpolate_terms(cumulative, np.array([1.5, 2.0]))
    assert out == pytest.approx([0.02, 0.1])
    assert interpolate_terms(cumulative, np.array([0.0, 0.5])) == pytest.approx([0.0, 0.05])
    assert interpolate_terms(cumulative, np.array([5.0, 3.0])) == pytest.approx([0.06, 0.2])


def _toy_book(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Independent snapshots whose monthly hazard is known: logit h = -5 + x + 0.1 k."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    t = rng.integers(month_index(pd.Series([pd.Timestamp("2021-01-31")]))[0], 24_290, n)
    k = np.arange(1, 13)
    hazard = 1 / (1 + np.exp(-(-5 + x[:, None] + 0.1 * k[None, :])))
    survive = np.cumprod(1 - hazard, axis=1)
    true_cum = 1 - survive
    u = rng.random(n)
    month = np.argmax(true_cum > u[:, None], axis=1) + 1
    defaults = true_cum[:, -1] > u
    default_month = np.where(defaults, t + month, -1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "as_of_date": month_end(t),
            "month": t,
            "default_date": pd.DatetimeIndex(
                np.where(defaults, month_end(np.maximum(default_month, t + 1)), pd.NaT)
            )
            - pd.Timedelta(days=3),
            "days_late_wavg_12m": x,
            "on_time_rate_12m": rng.random(n),
            "payment_terms_days": 30.0,
        }
    )
    return frame, true_cum


SETTINGS = HazardSettings(learning_rate=0.1, num_boost_round=300, min_child_samples=100)


@pytest.fixture(scope="module")
def fitted() -> tuple[HazardModel, pd.DataFrame, np.ndarray]:
    train, _ = _toy_book(6000, 1)
    # the last year's snapshots are censored: they count for the months observed
    cutoff = month_end(train["month"].max())[0]
    model = HazardModel(SETTINGS, FEATURES).fit(train, cutoff)
    calibration, _ = _toy_book(6000, 2)
    model.calibrate(calibration, month_end(calibration["month"].max() + 12)[0])
    test, true_cum = _toy_book(3000, 3)
    return model, test, true_cum


def test_fit_recovers_the_known_term_structure(fitted):
    model, test, true_cum = fitted
    predicted = model.predict_cumulative(test)
    for k in (1, 3, 6, 12):
        error = np.abs(predicted[:, k - 1] - true_cum[:, k - 1]).mean()
        assert error < 0.25 * true_cum[:, k - 1].mean(), k
    assert np.corrcoef(predicted[:, 11], true_cum[:, 11])[0, 1] > 0.95


def test_predictions_are_monotone_in_the_horizon(fitted):
    model, test, _ = fitted
    raw = model.cumulative_raw(test)
    assert (np.diff(raw, axis=1) >= 0).all()
    assert (np.diff(model.predict_cumulative(test), axis=1) >= 0).all()


def test_pd_terms_between_the_month_points(fitted):
    model, test, _ = fitted
    frame = model.predict_frame(test)
    assert list(frame.columns) == [f"pd_{k}m" for k in range(1, 13)] + ["pd_terms"]
    # 30 days of terms + 15 of grace: between the 1- and the 2-month PD
    assert (frame["pd_terms"] >= frame["pd_1m"] - 1e-12).all()
    assert (frame["pd_terms"] <= frame["pd_2m"] + 1e-12).all()
    # unknown terms: the default terms (30 days), as when the column is absent
    unknown = test.assign(payment_terms_days=np.nan)
    pd.testing.assert_series_equal(model.predict_frame(unknown)["pd_terms"], frame["pd_terms"])
    absent = model.predict_frame(test.drop(columns="payment_terms_days"))["pd_terms"]
    pd.testing.assert_series_equal(absent, frame["pd_terms"])
    longer = model.predict_frame(test.assign(payment_terms_days=90))["pd_terms"]
    assert (longer >= frame["pd_terms"]).all() and (longer > frame["pd_terms"]).any()


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        ((), {}),
        ((3,), {"feature": 7, "threshold": 3.5}),
        ((3, 1), {"feature": 7, "threshold": 3.5, "left": {"feature": 7, "threshold": 1.5}}),
        (
            (6, 1, 3, 3),
            {
                "feature": 7,
                "threshold": 3.5,
                "left": {"feature": 7, "threshold": 1.5},
                "right": {"feature": 7, "threshold": 6.5},
            },
        ),
    ],
)
def test_forced_month_splits(months, expected):
    assert forced_month_splits(7, months) == expected


def test_every_tree_splits_first_at_the_forced_months(fitted):
    model, _, _ = fitted
    month = len(FEATURES)  # the month at risk is the booster's last column
    trees = [t["tree_structure"] for t in model.booster_.dump_model()["tree_info"]]

    def at(node: dict, threshold: float) -> bool:
        return node.get("split_feature") == month and node.get("threshold") == pytest.approx(
            threshold
        )

    assert len(trees) > 10 and all(at(root, 3.5) for root in trees)
    # LightGBM leaves out a forced split that gains nothing: the children in most trees
    for side, threshold in (("left_child", 1.5), ("right_child", 6.5)):
        assert np.mean([at(root[side], threshold) for root in trees]) > 0.9, side


def test_predict_frame_served_with_the_12_month_pd(fitted):
    model, test, _ = fitted
    pd_12m = np.linspace(0.001, 0.9, len(test))
    frame = model.predict_frame(test, pd_12m)
    np.testing.assert_allclose(frame["pd_12m"], pd_12m)
    curve = frame.iloc[:, :12].to_numpy()
    assert (np.diff(curve, axis=1) >= -1e-15).all() and (curve <= pd_12m[:, None]).all()
    own = model.predict_frame(test)
    below = own["pd_1m"] <= pd_12m  # one month: the hazard's own, unless above the 12-month PD
    np.testing.assert_allclose(frame["pd_1m"][below], own["pd_1m"][below], rtol=1e-12)
    np.testing.assert_allclose(frame["pd_1m"][~below], pd_12m[~below], rtol=1e-12)


def test_state_round_trip_predicts_the_same(fitted, tmp_path):
    model, test, _ = fitted
    path = tmp_path / "hazard.txt"
    model.booster_.save_model(str(path))
    state = json.loads(json.dumps(model.state()))
    again = HazardModel.from_state(state, lgb.Booster(model_file=str(path)))
    pd.testing.assert_frame_equal(again.predict_frame(test), model.predict_frame(test))
    uncalibrated = HazardModel.from_state(state | {"calibrators": []}, again.booster_)
    np.testing.assert_allclose(
        uncalibrated.predict_cumulative(test), model.cumulative_raw(test), rtol=1e-12
    )


def test_fit_is_deterministic(fitted):
    model, test, _ = fitted
    train, _ = _toy_book(6000, 1)
    again = HazardModel(SETTINGS, FEATURES).fit(train, model.fit_record_["observed_until"])
    np.testing.assert_array_equal(again.cumulative_raw(test), model.cumulative_raw(test))
    # same bytes: nothing of the fit's passing files (the forced splits') stays in the model
    assert again.booster_.model_to_string() == model.booster_.model_to_string()
    assert "[forcedsplits_filename: ]" in model.booster_.model_to_string()


def test_negative_subsample_keeps_the_base_rate():
    train, _ = _toy_book(6000, 1)
    test, true_cum = _toy_book(3000, 3)
    cutoff = month_end(train["month"].max() + 12)[0]
    settings = HazardSettings(**(vars(SETTINGS) | {"negative_share": 0.3}))
    model = HazardModel(settings, FEATURES).fit(train, cutoff)
    mean = model.cumulative_raw(test)[:, 11].mean()
    assert mean == pytest.approx(true_cum[:, 11].mean(), rel=0.15)
