import copy
import pickle

import numpy as np
import pandas as pd
import pytest

from features.catalogue import FEATURES as CATALOGUE
from features.catalogue import monotone_constraints
from models.hazard import HazardModel, HazardSettings
from models.pd_model import PDModel
from models.reasons import MIN_REASON_LOGODDS, reason_columns, render_reasons

# directions +1, -1, +1, -1, 0
NAMES = [
    "days_late_wavg_12m",
    "on_time_rate_12m",
    "debt_ratio",
    "current_ratio",
    "payment_terms_days",
]


@pytest.fixture(scope="module")
def model_and_rows(tiny_pd_model):
    return tiny_pd_model(NAMES, seed=11, n=300, num_boost_round=30, monotone=True)


@pytest.fixture(scope="module")
def model(model_and_rows):
    model, X = model_and_rows
    return model.fit_reference(X)  # as load_pd_model does, over the training rows


@pytest.fixture(scope="module")
def rows(model_and_rows):
    return model_and_rows[1].iloc[:40]


def test_predict_returns_pd_grade_and_reasons(model, rows):
    got = model.predict(rows)
    assert list(got.columns) == model.output_columns == ["pd_12m", "grade", *reason_columns(3)]
    assert list(got.index) == list(rows.index)
    assert got["pd_12m"].between(0, 1).all() and got["pd_12m"].nunique() > 1
    assert np.issubdtype(got["grade"].dtype, np.integer)
    assert got["grade"].tolist() == model.scale.assign(got["pd_12m"]).tolist()
    codes = {spec.reason_code for spec in CATALOGUE.values()} | {""}
    for k in (1, 2, 3):
        assert set(got[f"reason_{k}_code"]) <= codes
    assert (got["reason_1_code"] != "").any()
    for k in (1, 2, 3):  # the speaking feature belongs to the reason code
        has = got[f"reason_{k}_code"] != ""
        spoken = got.loc[has, f"reason_{k}_feature"].map(lambda n: CATALOGUE[n].reason_code)
        assert (spoken == got.loc[has, f"reason_{k}_code"]).all()
        assert (got.loc[~has, f"reason_{k}_feature"] == "").all()
    # a row whose first reason is empty has no other reason either
    empty = got["reason_1_code"] == ""
    assert (got.loc[empty, ["reason_2_code", "reason_3_code"]] == "").all().all()


def test_reason_sentences_in_chinese(model, rows):
    en, zh = model.predict(rows), model.predict(rows, language="zh")
    pd.testing.assert_frame_equal(
        en.drop(columns=["reason_1", "reason_2", "reason_3"]),
        zh.drop(columns=["reason_1", "reason_2", "reason_3"]),
    )
    has = en["reason_1_code"] != ""
    assert (en.loc[has, "reason_1"] != zh.loc[has, "reason_1"]).all()
    assert zh.loc[has, "reason_1"].str.contains(r"[\u4e00-\u9fff]").all()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_median_columns_word_the_sector_median(model, rows, language):
    assert model.median_columns == [f"median__{n}" for n in NAMES]
    medians = pd.DataFrame({n: rows[n].median() for n in NAMES}, index=rows.index)
    given = rows.assign(**medians.add_prefix("median__"))
    got = model.predict(given, language=language)
    sentences = ["reason_1", "reason_2", "reason_3"]
    pd.testing.assert_frame_equal(got[sentences], render_reasons(got, rows, medians, language))
    clause = ", sector median" if language == "en" else "，行业中位数"
    assert got["reason_1"].str.contains(clause).any()
    # a speaker whose sentence quotes the median is worse than it, in its risk direction
    for k in (1, 2, 3):
        spoken = got[f"reason_{k}_feature"]
        for name in set(spoken) - {"", "payment_terms_days"}:  # no direction: nothing to judge
            at = spoken == name
            gap = (rows.loc[at, name] - medians.loc[at, name]) * CATALOGUE[name].direction
            assert (gap > 0).all(), name


def test_a_missing_median_column_leaves_its_clause_out(model, rows):
    given = rows.assign(median__debt_ratio=0.5)
    got = model.predict(given)
    expected = render_reasons(
        got, rows, given[["median__debt_ratio"]].set_axis(["debt_ratio"], axis=1)
    )
    pd.testing.assert_frame_equal(got[expected.columns], expected)
    for k in (1, 2, 3):  # only the debt ratio has a median to quote
        quoted = got[f"reason_{k}"].str.contains("sector median")
        assert (got.loc[quoted, f"reason_{k}_feature"] == "debt_ratio").all()


def test_fit_reference_stores_each_features_median(model_and_rows):
    model, X = model_and_rows
    fitted = copy.deepcopy(model).fit_reference(X.assign(other=1.0))
    assert fitted.reference_ == {n: float(X[n].median()) for n in NAMES}
    with pytest.raises(ValueError, match="input lacks model feature columns"):
        copy.deepcopy(model).fit_reference(X.drop(columns="debt_ratio"))


def test_without_a_reference_only_a_stated_comparison_can_speak(model, rows):
    # no sector median, no change, no population reference: nothing to judge a value by
    bare = copy.deepcopy(model)
    bare.reference_ = None
    got = bare.predict(rows)
    assert set(got[["reason_1_feature", "reason_2_feature"]].stack()) <= {"", "payment_terms_days"}


def test_the_minimum_is_the_models_and_survives_pickling(model, rows):
    strict = pickle.loads(pickle.dumps(copy.deepcopy(model)))
    assert strict.reference_ == model.reference_
    assert strict.min_reason_logodds == MIN_REASON_LOGODDS
    strict.min_reason_logodds = 100.0  # no contribution is that large: no reason for anyone
    got = strict.predict(rows)
    assert (got[reason_columns(3)] == "").all().all()
    pd.testing.assert_frame_equal(
        got[["pd_12m", "grade"]], model.predict(rows)[["pd_12m", "grade"]]
    )


def test_a_model_pickled_before_the_minimum_gets_the_defaults(model):
    state = model.__getstate__()
    del state["min_reason_logodds"], state["reference_"]
    old = PDModel.__new__(PDModel)
    old.__setstate__(state)
    assert old.min_reason_logodds == MIN_REASON_LOGODDS and old.reference_ is None


@pytest.mark.parametrize("minimum", [-0.01, float("nan")])
def test_a_bad_minimum_is_refused(model, minimum):
    with pytest.raises(ValueError, match="min_reason_logodds"):
        PDModel(model.booster, model.calibrator, model.scale, 3, minimum)


def test_a_non_numeric_median_is_an_error(model, rows):
    with pytest.raises(ValueError, match="sector median columns must be numeric"):
        model.predict(rows.assign(median__debt_ratio="high"))


def test_pd_is_the_calibrated_raw_score(model, rows):
    raw = model.booster.predict(rows[NAMES], raw_score=True)
    expected = model.calibrator.predict(raw)
    np.testing.assert_allclose(model.predict(rows)["pd_12m"], expected, rtol=1e-10)
    np.testing.assert_allclose(model.predict_pd(rows), expected, rtol=1e-12)


def test_missing_values_are_scored(model, rows):
    with_nan = rows.copy()
    with_nan.loc[with_nan.index[:5], "debt_ratio"] = np.nan
    got = model.predict(with_nan)
    assert got["pd_12m"].notna().all()


def test_column_order_and_extra_columns_do_not_matter(model, rows):
    shuffled = rows[NAMES[::-1]].assign(customer_id="C1", other=1.0)
    pd.testing.assert_frame_equal(model.predict(shuffled), model.predict(rows))
    assert model.feature_names == NAMES


def test_integer_columns_are_accepted(model, rows):
    ints = rows.assign(payment_terms_days=30)
    assert ints["payment_terms_days"].dtype.kind == "i"
    assert model.feature_frame(ints)["payment_terms_days"].dtype == float


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_feature_column_is_an_error_naming_it(model, rows, name):
    with pytest.raises(ValueError, match=rf"input lacks model feature columns: \['{name}'\]"):
        model.predict(rows.drop(columns=name))
    with pytest.raises(ValueError, match=name):
        model.predict_pd(rows.drop(columns=name))


def test_a_non_numeric_feature_is_an_error(model, rows):
    bad = rows.astype({"debt_ratio": object})
    bad.loc[bad.index[0], "debt_ratio"] = "high"
    with pytest.raises(ValueError, match="must be numeric"):
        model.predict(bad)


def sweep(model, rows: pd.DataFrame, name: str) -> np.ndarray:
    """Raw scores (rows x grid) as ``name`` runs over a grid, the other features held."""
    grid = np.linspace(-3, 3, 25)
    swept = rows.loc[rows.index.repeat(len(grid)), NAMES].assign(**{name: np.tile(grid, len(rows))})
    return model.booster.predict(swept, raw_score=True).reshape(len(rows), len(grid))


@pytest.mark.parametrize("name", NAMES)
def test_monotone_constraints_hold(model, rows, name):
    direction = monotone_constraints([name])[0]
    scores = sweep(model, rows, name)
    if direction == 0:
        return
    steps = np.diff(scores, axis=1) * direction
    assert (steps >= -1e-12).all(), f"{name}: raising it moves the score against {direction:+d}"


def test_the_monotone_check_can_fail(tiny_pd_model, rows):
    # the same data without constraints: some constrained feature moves the wrong way
    free, _ = tiny_pd_model(NAMES, seed=11, n=300, num_boost_round=30, monotone=False)
    against = []
    for name, direction in zip(NAMES, monotone_constraints(NAMES), strict=True):
        steps = np.diff(sweep(free, rows, name), axis=1) * direction
        against.append(direction != 0 and (steps < -1e-12).any())
    assert any(against)


def test_days_late_raises_the_pd(model, rows):
    scores = sweep(model, rows, "days_late_wavg_12m")
    assert (scores[:, -1] > scores[:, 0]).all()


def test_scaled_contributions_add_up_to_the_pds_log_odds(model, rows):
    contrib = model.contributions(rows[NAMES])
    raw, base = contrib.sum(axis=1), contrib[0, -1]
    scale = model.pd_logodds_scale(raw, base)
    assert (scale > 0).all()
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    pd_12m, pd_base = model.predict_pd(rows), model.calibrator.predict(np.array([base]))
    scaled = contrib[:, :-1].sum(axis=1) * scale
    np.testing.assert_allclose(scaled, logit(pd_12m) - logit(pd_base), atol=1e-9)
    # a row at the average customer's raw score takes the calibrator's slope there
    at_base = model.pd_logodds_scale(np.array([base]), base)[0]
    np.testing.assert_allclose(at_base, model.pd_logodds_scale(np.array([base + 1e-3]), base)[0],
                               rtol=1e-2)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "rule"),
    [(np.inf, "must be finite"), (-np.inf, "must be finite"), (1e308, "within"), (-2e12, "within")],
)
def test_an_infinite_or_impossible_value_is_refused_naming_the_column(model, rows, value, rule):
    bad = rows.head(5).copy()
    column = model.feature_names[0]
    bad.iloc[3, bad.columns.get_loc(column)] = value
    with pytest.raises(ValueError, match=rule) as err:
        model.predict(bad)
    assert repr(column) in str(err.value) and "row 3" in str(err.value)
    with pytest.raises(ValueError, match=rule):
        model.predict_pd(bad)  # batch and evaluation refuse it too


def test_a_missing_value_is_scored_not_refused(model, rows):
    gaps = rows.head(5).copy()
    gaps.iloc[:, 0] = np.nan
    assert model.predict(gaps)["pd_12m"].between(0, 1).all()


def test_an_unknown_language_is_refused_even_with_nothing_to_word(model, rows):
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        model.predict(rows.head(1), language="fr")


@pytest.fixture(scope="module")
def with_terms(tiny_pd_model):
    """The model with a term structure fitted on its own rows."""
    model, X = tiny_pd_model(NAMES, seed=11, n=300, num_boost_round=30, monotone=True,
                             term_structure=True)  # fmt: skip
    return model.fit_reference(X)


def test_the_term_structure_adds_monotone_pds_up_to_the_12_month_one(with_terms, rows):
    got = with_terms.predict(rows)
    curve = [f"pd_{k}m" for k in range(1, 12)]
    assert list(got.columns) == ["pd_12m", "grade", *curve, "pd_terms", *reason_columns(3)]
    assert list(got.columns) == with_terms.output_columns
    months = got[[*curve, "pd_12m"]].to_numpy()
    assert (np.diff(months, axis=1) >= -1e-15).all()
    # never above the 12-month PD (equal where the hazard's own 1-month PD reaches it)
    assert (got["pd_1m"] > 0).all() and (got["pd_1m"] <= got["pd_12m"]).all()
    assert (got["pd_1m"] < got["pd_12m"]).any()
    assert (got["pd_terms"] >= 0).all() and (got["pd_terms"] <= got["pd_12m"]).all()
    # the 12-month PD, grade and reasons are the model's without a term structure
    plain = copy.copy(with_terms)
    plain.term_structure = None
    pd.testing.assert_frame_equal(plain.predict(rows), got[plain.output_columns])
    again = pickle.loads(pickle.dumps(with_terms)).predict(rows)
    pd.testing.assert_frame_equal(again, got)


def test_longer_terms_give_a_higher_pd_within_terms(with_terms, rows):
    short = with_terms.predict(rows.assign(payment_terms_days=15.0))["pd_terms"]
    long = with_terms.predict(rows.assign(payment_terms_days=120.0))["pd_terms"]
    assert (long >= short).all() and (long > short).any()


def test_a_term_structure_on_other_features_is_refused(model_and_rows):
    model, _ = model_and_rows
    other = HazardModel(HazardSettings(), model.feature_names[:2])
    with pytest.raises(ValueError, match="same features|12-month model's features"):
        PDModel(model.booster, model.calibrator, model.scale, term_structure=other)


def test_a_model_pickled_before_term_structures_has_none(model):
    state = {k: v for k, v in model.__dict__.items() if k != "term_structure"}
    old = PDModel.__new__(PDModel)
    old.__setstate__(state)
    assert old.term_structure is None and old.term_columns == []
