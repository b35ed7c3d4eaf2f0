import numpy as np
import pandas as pd
import pytest

from features.catalogue import FEATURES
from models.reasons import (
    MIN_REASON_LOGODDS,
    adverse_values,
    no_adverse_factor,
    reason_columns,
    render_reasons,
    top_reasons,
)

# reason codes: DAYS_LATE, DAYS_LATE, LEVERAGE, LIQUIDITY; directions +1, +1, +1, -1
NAMES = ["days_late_wavg_12m", "days_late_max_12m", "debt_ratio", "current_ratio"]
# the population reference (training medians): every value of rows a and b is worse, c's better
REFERENCE = {"days_late_wavg_12m": 10.0, "days_late_max_12m": 20.0, "debt_ratio": 0.5,
             "current_ratio": 1.5}  # fmt: skip
VALUES = pd.DataFrame(
    [[25.0, 40.0, 0.85, 0.9], [12.0, 30.0, np.nan, 0.6], [1.0, 2.0, 0.1, 3.0]],
    columns=NAMES,
    index=["a", "b", "c"],
)
CONTRIB = np.array(
    [
        [0.2, 0.3, 0.4, -0.1],  # DAYS_LATE 0.5, LEVERAGE 0.4, LIQUIDITY -0.1
        [0.3, -0.25, 0.15, 0.2],  # DAYS_LATE 0.05 (below the minimum) < LEVERAGE < LIQUIDITY
        [-0.2, -0.1, -0.3, 0.0],  # nothing raises the risk
    ]
)


def reasons(contrib=CONTRIB, values=VALUES, n_reasons=3, language="en", medians=None,
            reference=REFERENCE, min_logodds=MIN_REASON_LOGODDS):  # fmt: skip
    return top_reasons(contrib, values, n_reasons, language, medians, reference, min_logodds)


def test_reason_columns():
    assert reason_columns(2) == [
        "reason_1_code", "reason_1", "reason_1_feature",
        "reason_2_code", "reason_2", "reason_2_feature",
    ]  # fmt: skip
    assert reason_columns(0) == []


def test_codes_group_and_sum_contributions():
    got = reasons()
    assert list(got.columns) == reason_columns(3)
    assert list(got.index) == ["a", "b", "c"]
    codes = got[["reason_1_code", "reason_2_code", "reason_3_code"]].to_numpy().tolist()
    assert codes == [
        ["DAYS_LATE", "LEVERAGE", ""],  # LIQUIDITY lowers the risk: not a reason
        ["LIQUIDITY", "LEVERAGE", ""],  # DAYS_LATE's 0.3 is offset by -0.25: below the minimum
        ["", "", ""],  # no adverse factor: no reason at all
    ]
    no_minimum = reasons(min_logodds=0.0)
    assert no_minimum.loc["b", "reason_3_code"] == "DAYS_LATE"


def test_sentences_carry_the_customers_value():
    got = reasons()
    # DAYS_LATE in row a speaks through its largest contributor, days_late_max_12m
    assert got.loc["a", "reason_1"] == "An invoice due in the last 12 months was 40 days late"
    assert got.loc["a", "reason_2"] == "Debt ratio 0.85"
    assert got.loc["a", "reason_3"] == ""
    assert got.loc["b", "reason_1"] == "Current ratio 0.60"
    assert got.loc["b", "reason_2"] == "No financial statement available"  # missing debt ratio
    assert (got.loc["c"] == "").all()
    features = got[["reason_1_feature", "reason_2_feature", "reason_3_feature"]]
    assert features.to_numpy().tolist() == [
        ["days_late_max_12m", "debt_ratio", ""],
        ["current_ratio", "debt_ratio", ""],
        ["", "", ""],
    ]


@pytest.mark.parametrize(("n_reasons", "width"), [(1, 1), (2, 2), (5, 5)])
def test_the_number_of_reasons(n_reasons, width):
    got = reasons(n_reasons=n_reasons)
    assert list(got.columns) == reason_columns(width)
    assert got.loc["a", "reason_1_code"] == "DAYS_LATE"
    if n_reasons == 5:  # more reasons than reason codes: the rest are empty
        assert (got[reason_columns(5)[9:]] == "").all().all()


@pytest.mark.parametrize(
    ("contribution", "minimum", "is_reason"),
    [
        (0.1001, 0.1, True),
        (0.1, 0.1, False),  # not more than the minimum
        (0.06, 0.1, False),
        (0.06, 0.05, True),
        (1e-9, 0.0, True),
        (0.0, 0.0, False),
        (-1e-9, 0.0, False),
    ],
)
def test_a_reason_must_raise_the_log_odds_by_more_than_the_minimum(
    contribution, minimum, is_reason
):
    values = VALUES[["debt_ratio"]].iloc[:1]
    got = reasons(np.array([[contribution]]), values, 1, min_logodds=minimum)
    assert (got.iloc[0]["reason_1_code"] == "LEVERAGE") is is_reason
    assert (got.iloc[0]["reason_1"] == "Debt ratio 0.85") is is_reason


def test_the_default_minimum_is_material():
    # odds x1.105, a seventh of a master-scale grade step (the grades double the PD)
    assert 0.05 <= MIN_REASON_LOGODDS <= 0.1


@pytest.mark.parametrize("minimum", [-0.1, np.nan, np.inf])
def test_a_bad_minimum_is_an_error(minimum):
    with pytest.raises(ValueError, match="min_logodds"):
        reasons(min_logodds=minimum)


# one feature, a contribution of +0.5: does its value speak? (value, median, reference, speaks)
FAVOURABLE_OR_NOT = {
    "earlier than the sector median": ("days_late_vs_sector", -2.0, None, None, False),
    "later than the sector median": ("days_late_vs_sector", 2.0, None, None, True),
    "delays down on the quarter": ("days_late_trend_3m", -3.0, None, None, False),
    "delays up on the quarter": ("days_late_trend_3m", 3.0, None, None, True),
    "delays up, less than the sector": ("days_late_trend_3m", 2.0, 5.0, None, False),
    "revenue up": ("revenue_growth", 0.05, None, None, False),
    "revenue down": ("revenue_growth", -0.05, None, None, True),
    "sector index above its history": ("industry_index_z", 0.8, None, None, False),
    "debt ratio below the sector's": ("debt_ratio_vs_sector", -0.1, None, None, False),
    "utilisation under the sector median": ("limit_utilisation", 0.58, 0.65, 0.9, False),
    "utilisation over the sector median": ("limit_utilisation", 0.70, 0.65, 0.9, True),
    "utilisation as shown, equal to the median": ("limit_utilisation", 0.652, 0.648, 0.1, False),
    "current ratio above the sector median": ("current_ratio", 1.8, 1.2, None, False),
    "current ratio below the sector median": ("current_ratio", 0.9, 1.2, None, True),
    "no median: below the reference": ("days_late_wavg_12m", 5.0, np.nan, 10.0, False),
    "no median: above the reference": ("days_late_wavg_12m", 15.0, np.nan, 10.0, True),
    "no legal dispute": ("legal_disputes_12m", 0.0, None, 0.0, False),
    "two legal disputes": ("legal_disputes_12m", 2.0, None, 0.0, True),
    "no reference to compare with": ("legal_disputes_12m", 2.0, None, None, False),
    "no legal dispute on record": ("months_since_legal_dispute", np.nan, None, 30.0, False),
    "legal dispute 3 months ago": ("months_since_legal_dispute", 3.0, None, 30.0, True),
    "never paid": ("days_since_last_payment", np.nan, 10.0, 20.0, True),
    "no statement: a gap in the data": ("debt_ratio", np.nan, 0.5, 0.5, True),
    "no direction: the model decides": ("payment_terms_days", 30.0, 60.0, 60.0, True),
}


@pytest.mark.parametrize(
    ("name", "value", "median", "reference", "speaks"),
    list(FAVOURABLE_OR_NOT.values()),
    ids=list(FAVOURABLE_OR_NOT),
)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_favourable_value_never_speaks(name, value, median, reference, speaks, language):
    values = pd.DataFrame({name: [value]})
    medians = None if median is None else pd.DataFrame({name: [median]})
    ref = None if reference is None else {name: reference}
    got = reasons(np.array([[0.5]]), values, 1, language, medians, ref)
    assert (got.loc[0, "reason_1_feature"] == name) is speaks
    assert (got.loc[0, "reason_1"] != "") is speaks
    assert adverse_values(values, medians, ref).tolist() == [[speaks]]


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "An invoice due in the last 12 months was 40 days late"),
        ("zh", "近 12 个月有发票逾期 40 天"),
    ],
)
def test_an_adverse_neighbour_speaks_for_the_group(language, sentence):
    # days_late_wavg_12m adds most but is favourable (5 < 10); days_late_max_12m is adverse
    values = pd.DataFrame({"days_late_wavg_12m": [5.0] * 3, "days_late_max_12m": [40.0] * 3})
    contrib = np.array([[0.4, 0.15], [0.4, 0.05], [0.4, -0.1]])
    got = reasons(contrib, values, 1, language)
    # the group counts what its adverse feature adds (0.15), no more than its net contribution
    assert got["reason_1_code"].tolist() == ["DAYS_LATE", "", ""]
    assert got["reason_1_feature"].tolist() == ["days_late_max_12m", "", ""]
    assert got["reason_1"].tolist() == [sentence, "", ""]


def test_the_group_counts_only_what_its_adverse_features_add():
    # LEVERAGE: debt_ratio adverse +0.3, debt_ratio_vs_sector favourable (-0.2 below) +0.5
    values = pd.DataFrame({"debt_ratio": [0.9], "debt_ratio_vs_sector": [-0.2],
                           "current_ratio": [0.5]})  # fmt: skip
    contrib = np.array([[0.3, 0.5, 0.4]])
    got = reasons(contrib, values, 2, reference={"debt_ratio": 0.5, "current_ratio": 1.5})
    # LIQUIDITY 0.4 ranks above LEVERAGE's adverse 0.3, not above its total 0.8
    assert got.loc[0, ["reason_1_code", "reason_2_code"]].tolist() == ["LIQUIDITY", "LEVERAGE"]
    assert got.loc[0, "reason_2_feature"] == "debt_ratio"


def test_a_group_whose_adverse_feature_is_offset_gives_no_reason():
    # adverse days_late_max_12m adds 0.3, but the group's net contribution is 0.05
    values = pd.DataFrame({"days_late_wavg_12m": [25.0], "days_late_max_12m": [40.0]})
    got = reasons(np.array([[-0.25, 0.3]]), values, 1)
    assert got.loc[0, "reason_1_code"] == ""


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_customer_with_no_adverse_factor_gets_no_reason(language):
    # every contribution positive, every value better than its reference: no reason at all
    got = reasons(np.full((1, 4), 0.5), VALUES.loc[["c"]], 3, language)
    assert (got == "").all().all()
    assert no_adverse_factor(got) == {"no_adverse_factor": 1, "no_adverse_factor_share": 1.0}


def test_no_adverse_factor_counts_rows_without_a_first_reason():
    got = reasons()
    assert no_adverse_factor(got) == {"no_adverse_factor": 1, "no_adverse_factor_share": 0.3333}
    with_missing = got[["reason_1_code"]].astype(object)
    with_missing.loc["a", "reason_1_code"] = None  # read back from a file: missing, not ""
    assert no_adverse_factor(with_missing)["no_adverse_factor"] == 2
    assert no_adverse_factor(got.iloc[:0]) == {
        "no_adverse_factor": 0,
        "no_adverse_factor_share": None,
    }
    with pytest.raises(KeyError, match="reason_1_code"):
        no_adverse_factor(got.drop(columns="reason_1_code"))


def test_the_input_is_kept():
    contrib, values = CONTRIB.copy(), VALUES.copy()
    reasons(contrib, values)
    np.testing.assert_array_equal(contrib, CONTRIB)
    pd.testing.assert_frame_equal(values, VALUES)


@pytest.mark.parametrize(
    "contrib",
    [CONTRIB[:2], CONTRIB[:, :3], np.hstack([CONTRIB, np.zeros((3, 1))]), CONTRIB.ravel()],
    ids=["rows", "fewer columns", "bias column", "flat"],
)
def test_shape_mismatch_is_an_error(contrib):
    with pytest.raises(ValueError, match="does not match values"):
        top_reasons(contrib, VALUES)


def test_a_feature_outside_the_catalogue_is_an_error():
    values = VALUES.rename(columns={"debt_ratio": "colour"})
    with pytest.raises(KeyError, match="colour"):
        top_reasons(CONTRIB, values)


@pytest.mark.parametrize("name", list(FEATURES))
def test_every_catalogue_feature_can_be_a_reason(name):
    spec = FEATURES[name]
    # a value on the risky side of the reference (and of 0, for a change), and a missing one
    values = pd.DataFrame({name: [2.0 * (spec.direction or 1), np.nan]})
    got = reasons(np.full((2, 1), 0.5), values, 1, reference={name: 0.0})
    assert got.loc[0, "reason_1_feature"] == name and got.loc[0, "reason_1"] != ""
    # a missing value speaks unless it stands for the favourable end (never happened)
    favourable = spec.missing_value is not None and spec.direction * spec.missing_value < 0
    assert (got.loc[1, "reason_1"] == "") is favourable


def test_sentences_in_chinese():
    got = reasons(language="zh", n_reasons=2)
    assert got.loc["a", "reason_1"] == "近 12 个月有发票逾期 40 天"
    assert got.loc["a", "reason_2"] == "资产负债率 0.85"
    assert got.loc["b", "reason_2"] == "没有可用的财务报表"
    assert (got.loc["c"] == "").all()


MEDIANS = pd.DataFrame(
    {"days_late_max_12m": [10.0, 10.0, 10.0], "debt_ratio": [0.55, 0.5, np.nan]},
    index=VALUES.index,
)


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        (
            "en",
            "An invoice due in the last 12 months was 40 days late, sector median 10 days",
            "Debt ratio 0.85, sector median 0.55",
        ),
        ("zh", "近 12 个月有发票逾期 40 天，行业中位数 10 天", "资产负债率 0.85，行业中位数 0.55"),
    ],
)
def test_render_adds_the_sector_median(language, first, second):
    got = render_reasons(reasons(), VALUES, MEDIANS, language)
    assert list(got.columns) == ["reason_1", "reason_2", "reason_3"]
    assert got.loc["a", "reason_1"] == first
    assert got.loc["a", "reason_2"] == second
    assert got.loc["a", "reason_3"] == ""
    # current_ratio has no median column: the sentence is the value's alone
    assert got.loc["b", "reason_1"] == FEATURES["current_ratio"].sentence(0.6, language)


def test_render_without_medians_gives_the_model_sentences():
    given = reasons()
    got = render_reasons(given, VALUES)
    pd.testing.assert_frame_equal(got, given[["reason_1", "reason_2", "reason_3"]])


def test_render_checks_alignment_and_columns():
    given = reasons(n_reasons=2)
    with pytest.raises(ValueError, match="values are not aligned"):
        render_reasons(given, VALUES.reset_index(drop=True))
    with pytest.raises(ValueError, match="medians are not aligned"):
        render_reasons(given, VALUES, MEDIANS.iloc[::-1])
    with pytest.raises(KeyError, match="debt_ratio"):
        render_reasons(given, VALUES.drop(columns="debt_ratio"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_top_reasons_word_the_medians_through_render(language):
    plain = reasons()
    got = reasons(language=language, medians=MEDIANS)
    sentences = ["reason_1", "reason_2", "reason_3"]
    # every speaker is worse than its median too: the same reasons, with the median clause
    pd.testing.assert_frame_equal(got.drop(columns=sentences), plain.drop(columns=sentences))
    pd.testing.assert_frame_equal(got[sentences], render_reasons(plain, VALUES, MEDIANS, language))
    assert got.loc["a", "reason_2"].startswith(FEATURES["debt_ratio"].sentence(0.85, language))


def test_a_median_the_value_is_not_worse_than_silences_the_speaker():
    # debt ratio 0.85 against a sector median of 0.9: the sentence would state a good fact
    medians = MEDIANS.assign(debt_ratio=[0.9, 0.5, np.nan])
    got = reasons(medians=medians)
    assert got.loc["a", ["reason_1_code", "reason_2_code"]].tolist() == ["DAYS_LATE", ""]
