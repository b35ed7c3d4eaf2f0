import dataclasses
import pickle

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.attributes import attribute_specs, resolve_schema
from models.calibration import METHODS, PDCalibrator
from models.master_scale import MasterScale
from models.pd_model import PDModel
from models.recipe import (
    SMALL_FIT_ROWS,
    BoosterSettings,
    CalibratorSettings,
    fit_booster,
    fit_calibrator,
    fit_pd_model,
    fit_threads,
    model_features,
    row_factor,
    scale_leaf_sizes,
    screen_features,
)
from models.train import booster_levels, cross_fitted_scores, customer_folds

STABLE = ["days_late_wavg_12m", "on_time_rate_12m", "debt_ratio"]  # directions +1, -1, +1
DRIFTING = "industry_index"  # moves with the month: unstable inside the window
FEATURES = [*STABLE, DRIFTING]
SETTINGS = BoosterSettings(
    seed=5,
    learning_rate=0.2,
    num_leaves=4,
    max_depth=3,
    min_child_samples=10,
    reg_lambda=1.0,
    feature_fraction=1.0,
    bagging_fraction=1.0,
    num_boost_round=30,
    early_stopping_rounds=5,
    validation_months=2,
    validation_share=0.25,
    max_feature_psi=0.25,
    psi_bins=10,
    search={},
    search_auc_tolerance=0.005,
)
SCALE = MasterScale.from_records(
    [{"grade": 1, "label": "low", "max_pd": 0.05}, {"grade": 2, "label": "high", "max_pd": 1.0}]
)
CALIBRATION = CalibratorSettings(
    method="auto",
    criterion="log_loss",
    cv_folds=3,
    pd_floor=0.0003,
    min_step_events=5,
    seed=0,
    report_bins=5,
)


def window(months: range, customers: int = 80, seed: int = 0) -> pd.DataFrame:
    """``customers`` rows per month; the default risk rises with lateness."""
    rng = np.random.default_rng(seed)
    n = customers * len(months)
    frame = pd.DataFrame(rng.normal(size=(n, len(STABLE))), columns=STABLE)
    month = np.repeat(list(months), customers)
    frame[DRIFTING] = month + rng.normal(0, 0.1, n)
    logit = -1.5 + 1.2 * frame["days_late_wavg_12m"] - 0.8 * frame["on_time_rate_12m"]
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame["month"] = month
    frame["customer_id"] = [f"C{i}" for i in np.tile(np.arange(customers), len(months))]
    return frame


TRAIN = window(range(1, 7))
CALIBRATE = window(range(9, 11), customers=200, seed=1)


@pytest.fixture(scope="module")
def fitted() -> tuple[lgb.Booster, dict]:
    return fit_booster(TRAIN, FEATURES, SETTINGS)


def test_model_features_are_catalogue_order_then_attributes():
    frame = pd.DataFrame(columns=["attr_size", "debt_ratio", "label", "attr_age", "dso_days"])
    assert model_features(frame) == ["dso_days", "debt_ratio", "attr_age", "attr_size"]


def test_screen_drops_the_drifting_feature():
    fit, valid = TRAIN[TRAIN["month"] <= 4], TRAIN[TRAIN["month"] > 4]
    kept, excluded = screen_features(fit, valid, FEATURES, max_psi=0.25, n_bins=10)
    assert kept == STABLE and list(excluded) == [DRIFTING] and excluded[DRIFTING] > 0.25
    assert screen_features(fit, valid, FEATURES, max_psi=None, n_bins=10) == (FEATURES, {})


def test_fit_booster_screens_then_fits_the_kept_features(fitted):
    booster, record = fitted
    assert booster.feature_name() == record["features"] == STABLE
    assert list(record["excluded_features"]) == [DRIFTING]
    assert record["n_train"] == 4 * 80 and record["n_valid"] == 2 * 80  # latest two months
    assert booster.num_trees() == record["best_iteration"]
    assert record["params"]["monotone_constraints"] == [1, -1, 1]
    assert record["params"]["num_threads"] == 1  # small data: one thread


def test_without_the_screen_every_feature_is_fitted():
    booster, record = fit_booster(
        TRAIN, FEATURES, dataclasses.replace(SETTINGS, max_feature_psi=None)
    )
    assert booster.feature_name() == FEATURES and record["excluded_features"] == {}


def test_no_search_is_one_trial_of_the_settings(fitted):
    _, record = fitted
    (trial,) = record["search"]["trials"]
    assert trial["chosen"] and trial["max_depth"] == 3 and "seed" not in trial
    assert record["search"]["grid"] == {}


@pytest.mark.parametrize(
    ("tolerance", "shallowest"),
    [(1.0, True), (0.0, False)],  # everything within tolerance / only the best
)
def test_the_shallowest_trial_within_tolerance_is_chosen(tolerance, shallowest):
    grid = {"max_depth": [1, 2, 3], "min_child_samples": [10, 40]}
    settings = dataclasses.replace(SETTINGS, search=grid, search_auc_tolerance=tolerance)
    booster, record = fit_booster(TRAIN, FEATURES, settings)
    trials = pd.DataFrame(record["search"]["trials"])
    assert len(trials) == 6 and trials["chosen"].sum() == 1
    chosen = trials[trials["chosen"]].iloc[0]
    if shallowest:
        assert chosen["max_depth"] == 1 and chosen["min_child_samples"] == 40
    else:
        assert chosen["valid_auc"] == trials["valid_auc"].max()
    assert record["params"]["max_depth"] == chosen["max_depth"]
    assert record["params"]["min_data_in_leaf"] == chosen["min_child_samples"]
    assert record["valid_auc"] == pytest.approx(chosen["valid_auc"])
    assert booster.num_trees() == chosen["best_iteration"]


def test_the_same_settings_give_the_same_booster(fitted):
    again, record = fit_booster(TRAIN, FEATURES, SETTINGS)
    assert again.model_to_string() == fitted[0].model_to_string() and record == fitted[1]


def test_one_date_holds_out_customers_to_stop_early():
    one_date = window(range(1, 2), customers=400)
    _, record = fit_booster(one_date, STABLE, SETTINGS)
    assert record["n_train"] + record["n_valid"] == 400
    assert record["n_valid"] == pytest.approx(0.25 * 400, abs=2)


def test_a_window_without_early_stopping_rows_is_an_error():
    one_date = TRAIN[TRAIN["month"] == 1]
    settings = dataclasses.replace(SETTINGS, validation_share=0.001)
    with pytest.raises(ValueError, match="leaves 80 rows to fit and 0 to stop early"):
        fit_booster(one_date, STABLE, settings)


def test_an_unknown_search_key_is_an_error():
    settings = dataclasses.replace(SETTINGS, search={"colour": [1]})
    with pytest.raises(ValueError, match="not training settings"):
        fit_booster(TRAIN, FEATURES, settings)


@pytest.mark.parametrize("name", [*STABLE, "label", "month"])
def test_fit_booster_requires_columns(name):
    with pytest.raises(KeyError, match=name):
        fit_booster(TRAIN.drop(columns=name), STABLE, SETTINGS)


def test_a_one_date_window_requires_customer_ids():  # customers are held out whole
    with pytest.raises(KeyError, match="customer_id"):
        fit_booster(TRAIN[TRAIN["month"] == 1].drop(columns="customer_id"), STABLE, SETTINGS)


def test_fit_threads():
    assert fit_threads(SMALL_FIT_ROWS - 1) == 1 and fit_threads(SMALL_FIT_ROWS) == 0


@pytest.mark.parametrize("method", ["auto", "platt", "beta", "centred_isotonic"])
@pytest.mark.parametrize("criterion", ["log_loss", "brier"])
def test_the_calibrator_is_strictly_monotone_in_the_score(fitted, method, criterion):
    booster, _ = fitted
    settings = dataclasses.replace(CALIBRATION, method=method, criterion=criterion)
    calibrator, report = fit_calibrator(booster, CALIBRATE, settings)
    assert isinstance(calibrator, PDCalibrator) and report["requested"] == method
    cv = report[f"cv_{criterion}"]
    assert report["method"] == (min(cv, key=cv.get) if method == "auto" else method)
    assert report["criterion"] == criterion
    pd_values = calibrator.predict(np.linspace(-6, 4, 200))
    assert pd_values.min() >= 0.0003
    inside = pd_values[(pd_values > 0.0003) & (pd_values < 0.9997)]  # the floor's the only tie
    assert len(inside) > 100 and (np.diff(inside) > 0).all()


def test_the_calibration_report(fitted):
    booster, _ = fitted
    calibrator, report = fit_calibrator(booster, CALIBRATE, CALIBRATION)
    y = CALIBRATE["label"]
    assert report["rows"] == len(CALIBRATE) and report["defaults"] == y.sum()
    assert report["observed_rate"] == pytest.approx(y.mean())
    assert set(report["cv_brier"]) == set(report["cv_log_loss"]) == set(METHODS)
    after = calibrator.predict(booster.predict(CALIBRATE[STABLE], raw_score=True))
    assert report["after"]["mean_pd"] == pytest.approx(after.mean())
    assert report["distinct_pds"] == len(np.unique(after)) == report["distinct_scores"]
    raw = booster.predict(CALIBRATE[STABLE], raw_score=True)
    assert report["before"]["mean_pd"] == pytest.approx(np.mean(1 / (1 + np.exp(-raw))))


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_a_calibration_window_of_one_outcome_is_an_error(fitted, label):
    with pytest.raises(ValueError, match="both defaults and non-defaults"):
        fit_calibrator(fitted[0], CALIBRATE.assign(label=label), CALIBRATION)


def test_an_unknown_calibration_method_is_an_error(fitted):
    with pytest.raises(ValueError, match="'auto' or one of"):
        fit_calibrator(fitted[0], CALIBRATE, dataclasses.replace(CALIBRATION, method="isotonic"))


def test_inputs_are_not_modified():
    train, calibrate = TRAIN.copy(), CALIBRATE.copy()
    features = list(FEATURES)
    searched = dataclasses.replace(SETTINGS, search={"max_depth": [1, 2]})
    fit_pd_model(train, calibrate, features, searched, CALIBRATION, SCALE)
    pd.testing.assert_frame_equal(train, TRAIN)
    pd.testing.assert_frame_equal(calibrate, CALIBRATE)
    assert features == FEATURES


def test_fit_pd_model_is_fit_booster_then_fit_calibrator(fitted):
    booster, record = fitted
    calibrator, report = fit_calibrator(booster, CALIBRATE, CALIBRATION)
    model, records = fit_pd_model(
        TRAIN, CALIBRATE, FEATURES, SETTINGS, CALIBRATION, SCALE, n_reasons=2
    )
    assert isinstance(model, PDModel) and model.n_reasons == 2
    assert model.booster.model_to_string() == booster.model_to_string()
    assert model.calibrator.to_dict() == calibrator.to_dict()
    assert records == {"train": record, "calibration": report}


@pytest.mark.parametrize(
    ("kinds", "excluded"),
    [
        (("customer", "level"), [DRIFTING]),  # the level is judged, the change stays in
        (("level",), [DRIFTING]),
        (("customer",), []),
        (("customer", "level", "relative"), ["industry_index_chg_12m", DRIFTING]),
        (None, ["industry_index_chg_12m", DRIFTING]),  # every feature judged
    ],
)
def test_the_screen_judges_only_the_kinds_asked_for(kinds, excluded):
    rows = TRAIN.assign(industry_index_chg_12m=TRAIN[DRIFTING] / 10)  # a relative feature
    fit, valid = rows[rows["month"] <= 4], rows[rows["month"] > 4]
    names = [*FEATURES, "industry_index_chg_12m"]
    kept, got = screen_features(fit, valid, names, max_psi=0.25, n_bins=10, kinds=kinds)
    assert sorted(got) == sorted(excluded)
    assert kept == [n for n in names if n not in excluded]


def test_the_record_names_the_kinds_the_screen_judged(fitted):
    assert fitted[1]["screen_kinds"] == list(SETTINGS.screen_kinds) == ["customer", "level"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (450, (32, [16, 32, 64])),  # a small book: leaves it can fill
        (10_000, (150, [75, 150, 300])),
        (40_000, (300, [150, 300, 600])),  # the reference: as configured
        (75_000, (300, [150, 300, 600])),  # larger books keep them
        (1, (5, [5])),  # never below 5 rows
    ],
)
def test_leaf_sizes_shrink_with_the_square_root_of_the_rows_below_the_reference(rows, expected):
    grid = {"max_depth": [2, 3], "min_child_samples": [150, 300, 600]}
    leaf, scaled = scale_leaf_sizes(300, grid, rows, 40_000)
    assert (leaf, scaled["min_child_samples"]) == expected
    assert scaled["max_depth"] == [2, 3]
    assert scale_leaf_sizes(300, grid, rows, None) == (300, grid)


@pytest.mark.parametrize(("rows", "factor"), [(400, 0.1), (10_000, 0.5), (40_000, 1.0), (9e9, 1.0)])
def test_settings_for_the_reference_rows_shrink_with_the_square_root_below_it(rows, factor):
    assert row_factor(rows, 40_000) == pytest.approx(factor)
    assert row_factor(rows, None) == 1.0


def test_a_small_window_spends_less_auc_on_shallow_trees_and_tries_the_plain_shape():
    settings = dataclasses.replace(
        SETTINGS, search={"max_depth": [1, 3]}, search_plain=True, leaf_reference_rows=40_000
    )
    _, record = fit_booster(TRAIN, FEATURES, settings)
    search = record["search"]
    assert search["auc_tolerance"] == pytest.approx(0.005 * row_factor(record["n_train"], 40_000))
    assert search["plain_trial"] == {"num_leaves": 31, "max_depth": -1, "min_child_samples": 20}
    assert [t["max_depth"] for t in search["trials"]] == [1, 3, -1]
    # a book at the reference keeps the shallow grid and the whole tolerance
    _, record = fit_booster(TRAIN, FEATURES, dataclasses.replace(settings, leaf_reference_rows=50))
    assert record["search"]["auc_tolerance"] == 0.005 and record["search"]["plain_trial"] is None
    assert [t["max_depth"] for t in record["search"]["trials"]] == [1, 3]


def with_tier(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A categorical attribute: ``bronze`` customers default far more often."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["gold", "silver", "bronze"], len(frame))
    bronze = (tier == "bronze") & (rng.random(len(frame)) < 0.5)
    return frame.assign(attr_tier=tier, label=np.where(bronze, 1.0, frame["label"]))


def test_a_categorical_attribute_is_split_on_natively_and_worded_by_its_level(tmp_path):
    train, calibrate = with_tier(TRAIN, 3), with_tier(CALIBRATE, 4)
    raw = pd.DataFrame({"customer_id": ["x"], "known_date": [pd.Timestamp("2024-01-31")],
                        "tier": ["gold"]})  # fmt: skip
    declared = {"tier": {"label": {"en": "Customer tier", "zh": "客户等级"}}}
    specs = attribute_specs(resolve_schema(declared, raw))
    names = [*STABLE, "attr_tier"]
    model, _ = fit_pd_model(train, calibrate, names, SETTINGS, CALIBRATION, SCALE, 3, specs)
    assert model.levels == {"attr_tier": ["bronze", "gold", "silver"]}
    assert model.booster.feature_importance("split")[names.index("attr_tier")] > 0
    rows = calibrate[names].head(60).reset_index(drop=True)
    bronze, gold = rows.assign(attr_tier="bronze"), rows.assign(attr_tier="gold")
    higher = model.predict_pd(bronze) - model.predict_pd(gold)
    assert (higher > 0).mean() > 0.9 and higher.mean() > 0.1
    out = model.predict(bronze)
    assert out["reason_1"].str.fullmatch("Customer tier: bronze").any()
    assert model.predict(bronze, "zh")["reason_1"].str.fullmatch("客户等级：bronze").any()
    # a level never seen in training scores as a missing value does
    unseen, missing = rows.assign(attr_tier="platinum"), rows.assign(attr_tier=None)
    assert np.array_equal(model.predict_pd(unseen), model.predict_pd(missing))
    # the levels travel with the booster's file, and the model pickles
    path = tmp_path / "booster.txt"
    model.booster.save_model(str(path))
    assert booster_levels(lgb.Booster(model_file=str(path))) == model.levels
    again = pickle.loads(pickle.dumps(model))
    assert again.predict(bronze).equals(out)


ONE_DATE = window(range(1, 2), customers=600, seed=4)


@pytest.fixture(scope="module")
def cross_fitted() -> tuple[lgb.Booster, dict]:
    searched = dataclasses.replace(SETTINGS, search={"max_depth": [1, 3]})
    return fit_booster(ONE_DATE, STABLE, searched, cross_fit_folds=4)


def test_a_cross_fitted_booster_learns_from_every_row(cross_fitted):
    booster, record = cross_fitted
    assert record["cross_fit_folds"] == 4 and record["excluded_features"] == {}
    assert record["n_train"] == len(ONE_DATE)  # nothing set aside to stop early
    assert booster.num_trees() == record["best_iteration"]  # as many as the folds' boosters
    chosen = next(t for t in record["search"]["trials"] if t["chosen"])
    assert chosen["best_iteration"] == record["best_iteration"]
    # the refit is the chosen settings at the chosen iteration, on every row
    again = lgb.train(record["params"], lgb.Dataset(ONE_DATE[STABLE], ONE_DATE["label"]),
                      record["best_iteration"])  # fmt: skip
    np.testing.assert_array_equal(
        booster.predict(ONE_DATE[STABLE], raw_score=True),
        again.predict(ONE_DATE[STABLE], raw_score=True),
    )


def test_a_cross_fitted_calibrator_learns_from_out_of_fold_scores(cross_fitted):
    booster, record = cross_fitted
    calibrator, report = fit_calibrator(booster, ONE_DATE, CALIBRATION, record)
    assert report["cross_fit_folds"] == 4 and report["rows"] == len(ONE_DATE)
    folds = customer_folds(ONE_DATE, 4, CALIBRATION.seed)
    expected = cross_fitted_scores(ONE_DATE, STABLE, record["params"], record["best_iteration"],
                                   folds)  # fmt: skip
    in_sample = booster.predict(ONE_DATE[STABLE], raw_score=True)
    assert report["distinct_scores"] == len(np.unique(expected))
    assert report["before"]["mean_pd"] == pytest.approx(np.mean(1 / (1 + np.exp(-expected))))
    assert not np.allclose(expected, in_sample)
    plain, _ = fit_calibrator(booster, ONE_DATE, CALIBRATION)  # without the record: own scores
    assert plain.to_dict() != calibrator.to_dict()


def test_fit_pd_model_cross_fits_without_a_calibration_window():
    model, records = fit_pd_model(
        ONE_DATE, None, STABLE, SETTINGS, CALIBRATION, SCALE, cross_fit_folds=3
    )
    assert records["train"]["cross_fit_folds"] == records["calibration"]["cross_fit_folds"] == 3
    pd_values = model.predict_pd(ONE_DATE)
    assert pd_values.mean() == pytest.approx(ONE_DATE["label"].mean(), abs=0.03)
