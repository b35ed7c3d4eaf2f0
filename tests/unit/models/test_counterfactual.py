import numpy as np
import pandas as pd
import pytest

from features.catalogue import ACTIONABLE, CATALOGUE, FIXED
from features.peers import PEER_FEATURES
from models import counterfactual as cf
from models.policy import CreditPolicy

# +1 actionable, -1 actionable, +1 actionable, -1 fixed, +1 fixed (follows days late)
NAMES = [
    "days_late_wavg_12m",
    "on_time_rate_12m",
    "overdue_share",
    "relationship_months",
    "days_late_vs_sector",
]
ACTIONABLE_HERE = ["days_late_wavg_12m", "on_time_rate_12m", "overdue_share"]


def toy_book(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    days = np.round(rng.uniform(0, 60, n))
    X = pd.DataFrame(
        {
            "days_late_wavg_12m": days,
            "on_time_rate_12m": np.round(rng.uniform(0, 1, n), 2),
            "overdue_share": np.round(rng.uniform(0, 1, n), 2),
            "relationship_months": np.round(rng.uniform(1, 120, n)),
            "days_late_vs_sector": days - 20,
        }
    )
    logit = (-5 + 0.08 * X["days_late_wavg_12m"] - 2 * X["on_time_rate_12m"]
             + 2.5 * X["overdue_share"] - 0.01 * X["relationship_months"])  # fmt: skip
    return X, pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))


@pytest.fixture(scope="module")
def model(tiny_pd_model):
    model, _ = tiny_pd_model(
        NAMES, train=toy_book(4000, 3), num_boost_round=60, min_data_in_leaf=30, monotone=True
    )
    return model


@pytest.fixture(scope="module")
def book():
    return toy_book(300, 4)[0]


@pytest.fixture(scope="module")
def ranges(book):
    return cf.plausible_ranges(book)


@pytest.fixture(scope="module")
def grades(model, book):
    return model.scale.assign(model.predict_pd(book))


@pytest.fixture(scope="module")
def answers(model, book, grades, ranges):
    targets = np.where(grades > 1, grades - 1, np.nan)
    return cf.solve(model, book, targets, ranges, chunk=64)


def test_every_catalogue_feature_is_deliberately_actionable_or_fixed():
    names = {spec.name for spec in CATALOGUE}
    assert set(ACTIONABLE) | FIXED == names and not set(ACTIONABLE) & FIXED
    for spec in CATALOGUE:
        if spec.name in ACTIONABLE:
            en, zh = spec.actionable
            assert en and zh and spec.direction != 0
        else:
            assert spec.actionable == ()
    # sector, size, age and a peer comparison (it follows its source) are never changed
    never = ("industry_index", "annual_revenue", "relationship_months", *PEER_FEATURES.values())
    assert set(never) <= FIXED


def test_plausible_ranges_are_percentiles_and_iqr():
    X = pd.DataFrame({"a": np.arange(101.0), "b": np.r_[np.zeros(100), 5.0]})
    got = cf.plausible_ranges(X)
    assert got.loc["a"].tolist() == pytest.approx([1.0, 99.0, 50.0])
    assert got.loc["b", "spread"] == 1.0  # no spread at all: 1
    with pytest.raises(ValueError, match="low < high"):
        cf.plausible_ranges(X, 0.9, 0.1)


def test_answers_reach_the_grade_only_actionable_safe_and_in_range(model, book, answers, ranges):
    assert sum(a is not None for a in answers) > len(book) / 3
    for (_, row), answer in zip(book.iterrows(), answers, strict=True):
        if answer is None:
            continue
        assert 1 <= len(answer.changes) <= 2
        for c in answer.changes:
            assert c.feature in ACTIONABLE_HERE
            assert c.before == row[c.feature]
            direction = model.specs[c.feature].direction
            assert direction * (c.after - c.before) < 0  # only in the risk-lowering direction
            assert ranges.loc[c.feature, "lo"] <= c.after <= ranges.loc[c.feature, "hi"]
        changed = cf.apply_changes(row.to_frame().T, [answer.changes])
        assert model.scale.assign(model.predict_pd(changed))[0] <= answer.target_grade
        assert answer.grade <= answer.target_grade


def test_single_feature_answer_is_exact(model, book, answers):
    """The value found reaches the grade; one shown step less far does not."""
    singles = [(i, a) for i, a in enumerate(answers) if a is not None and len(a.changes) == 1]
    assert len(singles) > 20
    for i, answer in singles:
        (c,) = answer.changes
        step = 1.0 if c.feature == "days_late_wavg_12m" else 0.01  # as the sentence shows it
        less = cf.Change(c.feature, c.before, c.after + model.specs[c.feature].direction * step)
        if model.specs[c.feature].direction * (less.after - c.before) >= 0:
            continue  # one step back is no change at all
        row = book.iloc[[i]]
        assert model.scale.assign(model.predict_pd(cf.apply_changes(row, [(c,)])))[0] <= (
            answer.target_grade
        )
        assert model.scale.assign(model.predict_pd(cf.apply_changes(row, [(less,)])))[0] > (
            answer.target_grade
        )


def test_no_answer_where_the_range_leaves_no_room(model, book, grades):
    # a book where nobody varies: no change stays within its range
    still = pd.concat([book.iloc[[0]]] * 20, ignore_index=True)
    target = np.array([grades[0] - 1.0] * 20)
    assert cf.solve(model, still, target, cf.plausible_ranges(still)) == [None] * 20


def test_no_target_no_answer(model, book, ranges):
    assert cf.solve(model, book.iloc[:3], np.full(3, np.nan), ranges) == [None] * 3
    with pytest.raises(ValueError, match="one target per row"):
        cf.solve(model, book.iloc[:3], np.array([1.0]), ranges)


def test_a_peer_comparison_follows_its_source():
    row = pd.DataFrame({"days_late_wavg_12m": [30.0], "days_late_vs_sector": [10.0]})
    change = cf.Change("days_late_wavg_12m", 30.0, 12.0)
    got = cf.apply_changes(row, [(change,)])
    assert got.iloc[0].tolist() == [12.0, -8.0]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Reduce average days late (12 months) from 31 days to 12 days and raise the "
               "on-time payment rate (12 months) from 40% to 75% to reach grade 5 (limit 50,000)"),
        ("zh", "将近 12 个月平均逾期天数从 31 天降至 12 天，并将近 12 个月按时付款率从 40%提高到 "
               "75%，即可达到 5 级（额度 50,000）"),
    ],
)  # fmt: skip
def test_wording_in_both_languages(model, language, expected):
    answer = cf.Answer(5, 5, 0.03, 1.0, (
        cf.Change("days_late_wavg_12m", 31.0, 12.0), cf.Change("on_time_rate_12m", 0.4, 0.75),
    ))  # fmt: skip
    assert cf.word(answer, model, language, limit=50_000) == expected
    assert answer.code() == "days_late_wavg_12m:31->12;on_time_rate_12m:0.4->0.75"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_up_one_grade_columns(model, book, grades, ranges, language):
    got = cf.up_one_grade(model, book.iloc[:60], grades[:60], ranges, language)
    assert list(got.columns) == ["what_it_would_take", "what_it_would_take_code"]
    assert list(got.index) == list(book.index[:60])
    has = got["what_it_would_take"] != ""
    assert has.any() and (has == (got["what_it_would_take_code"] != "")).all()
    assert (got.loc[grades[:60] == 1, "what_it_would_take"] == "").all()
    if language == "zh":
        assert got.loc[has, "what_it_would_take"].str.contains("即可达到").all()
    else:
        assert got.loc[has, "what_it_would_take"].str.contains("to reach grade").all()


POLICY = CreditPolicy.model_validate({
    "lgd": 0.45, "high_risk_grade": 4,
    "grades": [{"grade": g, "max_terms_days": 60, "limit_factor": f, "prepayment_pct": 0,
                "actions": []} for g, f in enumerate([1.2, 1.0, 0.6, 0.3, 0.2, 0.1, 0.1, 0.1,
                                                       0.1, 0.0], start=1)],
    "small_account": {"annual_purchases_below": 1000, "max_terms_days": 30},
    "long_terms": {"from_grade": 6, "above_days": 60, "prepayment_pct": 30},
    "limit": {"buffer_months": 1.0, "max_revenue_share": 1.0, "round_to": 1000},
})  # fmt: skip
# monthly purchases 10,000 x (60 / 30 + 1) = 30,000 before the grade's factor
CUSTOMER = pd.DataFrame({
    "grade": [6], "pd_12m": [0.06], "exposure": [20_000.0], "purchases_12m": [120_000.0],
    "relationship_months": [60.0], "annual_revenue": [np.nan], "current_limit": [20_000.0],
    "current_terms_days": [60.0],
})  # fmt: skip


@pytest.mark.parametrize(
    ("limit", "grade"), [(30_000, 2), (36_000, 1), (18_000, 3), (9_000, 4), (40_000, None)]
)
def test_a_requested_limit_maps_to_the_riskiest_grade_that_gives_it(limit, grade):
    assert cf.grade_for_limit(CUSTOMER, POLICY, limit) == grade


def test_what_it_would_take_for_a_limit(model, book, grades, ranges):
    i = int(np.flatnonzero(grades >= 4)[0])
    features = book.iloc[[i]]
    customer = CUSTOMER.assign(grade=int(grades[i]))
    answer, text = cf.what_it_would_take(
        model, features, ranges, limit=18_000, book=customer, policy=POLICY
    )
    if answer is not None:  # grade 3 is reachable with a plausible change
        assert answer.target_grade == 3 and answer.grade <= 3
        assert text.endswith("to reach grade 3 (limit 18,000)")
    none, words = cf.what_it_would_take(
        model, features, ranges, limit=40_000, book=customer, policy=POLICY, language="zh"
    )
    assert none is None and words == "按信用政策，任何等级的额度都达不到 40,000"
    there, said = cf.what_it_would_take(model, features, ranges, grade=10)
    assert there is not None and there.changes == () and said.startswith("already at grade")
    with pytest.raises(ValueError, match="exactly one of grade or limit"):
        cf.what_it_would_take(model, features, ranges)
    with pytest.raises(ValueError, match="book row and the policy"):
        cf.what_it_would_take(model, features, ranges, limit=1000)
