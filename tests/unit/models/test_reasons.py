import numpy as np
import pandas as pd
import pytest

from features.catalogue import FEATURES
from models.reasons import reason_columns, render_reasons, top_reasons

# reason codes: DAYS_LATE, DAYS_LATE, LEVERAGE, LIQUIDITY
NAMES = ["days_late_wavg_12m", "days_late_max_12m", "debt_ratio", "current_ratio"]
VALUES = pd.DataFrame(
    [[25.0, 40.0, 0.85, 0.9], [12.0, 30.0, np.nan, 0.6], [1.0, 2.0, 0.1, 3.0]],
    columns=NAMES,
    index=["a", "b", "c"],
)
CONTRIB = np.array(
    [
        [0.2, 0.3, 0.4, -0.1],  # DAYS_LATE 0.5, LEVERAGE 0.4, LIQUIDITY -0.1
        [0.3, -0.25, 0.1, 0.2],  # DAYS_LATE 0.05 < LEVERAGE 0.1 < LIQUIDITY 0.2
        [-0.2, -0.1, -0.3, 0.0],  # nothing raises the risk
    ]
)


def test_reason_columns():
    assert reason_columns(2) == [
        "reason_1_code", "reason_1", "reason_1_feature",
        "reason_2_code", "reason_2", "reason_2_feature",
    ]  # fmt: skip
    assert reason_columns(0) == []


def test_codes_group_and_sum_contributions():
    got = top_reasons(CONTRIB, VALUES, n_reasons=3)
    assert list(got.columns) == reason_columns(3)
    assert list(got.index) == ["a", "b", "c"]
    codes = got[["reason_1_code", "reason_2_code", "reason_3_code"]].to_numpy().tolist()
    assert codes == [
        ["DAYS_LATE", "LEVERAGE", ""],  # LIQUIDITY lowers the risk: not a reason
        ["LIQUIDITY", "LEVERAGE", "DAYS_LATE"],  # DAYS_LATE's 0.3 is offset by -0.25
        ["", "", ""],
    ]


def test_sentences_carry_the_customers_value():
    got = top_reasons(CONTRIB, VALUES, n_reasons=3)
    # DAYS_LATE in row a speaks through its largest contributor, days_late_max_12m
    assert got.loc["a", "reason_1"] == "An invoice due in the last 12 months was 40 days late"
    assert got.loc["a", "reason_2"] == "Debt ratio 0.85"
    assert got.loc["a", "reason_3"] == ""
    assert got.loc["b", "reason_1"] == "Current ratio 0.60"
    assert got.loc["b", "reason_2"] == "No financial statement available"  # missing debt ratio
    assert got.loc["b", "reason_3"] == (
        "Pays on average 12 days after the due date (last 12 months, amount-weighted)"
    )
    assert (got.loc["c"] == "").all()
    features = got[["reason_1_feature", "reason_2_feature", "reason_3_feature"]]
    assert features.to_numpy().tolist() == [
        ["days_late_max_12m", "debt_ratio", ""],
        ["current_ratio", "debt_ratio", "days_late_wavg_12m"],
        ["", "", ""],
    ]


@pytest.mark.parametrize(("n_reasons", "width"), [(1, 1), (2, 2), (5, 5)])
def test_the_number_of_reasons(n_reasons, width):
    got = top_reasons(CONTRIB, VALUES, n_reasons=n_reasons)
    assert list(got.columns) == reason_columns(width)
    assert got.loc["a", "reason_1_code"] == "DAYS_LATE"
    if n_reasons == 5:  # more reasons than reason codes: the rest are empty
        assert (got[reason_columns(5)[9:]] == "").all().all()


@pytest.mark.parametrize(
    ("contribution", "is_reason"), [(1e-9, True), (0.0, False), (-1e-9, False)]
)
def test_only_positive_groups_are_reasons(contribution, is_reason):
    values = VALUES[["debt_ratio"]].iloc[:1]
    got = top_reasons(np.array([[contribution]]), values, n_reasons=1)
    assert (got.iloc[0]["reason_1_code"] == "LEVERAGE") is is_reason


def test_the_input_is_kept():
    contrib, values = CONTRIB.copy(), VALUES.copy()
    top_reasons(contrib, values)
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


def test_every_catalogue_feature_can_be_a_reason():
    names = list(FEATURES)
    values = pd.DataFrame([np.full(len(names), 0.5), np.full(len(names), np.nan)], columns=names)
    contrib = np.full((2, len(names)), 0.01)
    got = top_reasons(contrib, values, n_reasons=3)
    assert (got != "").all().all()


def test_sentences_in_chinese():
    got = top_reasons(CONTRIB, VALUES, n_reasons=2, language="zh")
    assert got.loc["a", "reason_1"] == "近 12 个月有发票逾期 40 天"
    assert got.loc["a", "reason_2"] == "资产负债率 0.85"
    assert got.loc["b", "reason_2"] == "没有可用的财务报表"


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
    reasons = top_reasons(CONTRIB, VALUES, n_reasons=3)
    got = render_reasons(reasons, VALUES, MEDIANS, language)
    assert list(got.columns) == ["reason_1", "reason_2", "reason_3"]
    assert got.loc["a", "reason_1"] == first
    assert got.loc["a", "reason_2"] == second
    assert got.loc["a", "reason_3"] == ""
    # current_ratio has no median column: the sentence is the value's alone
    assert got.loc["b", "reason_1"] == FEATURES["current_ratio"].sentence(0.6, language)


def test_render_without_medians_gives_the_model_sentences():
    reasons = top_reasons(CONTRIB, VALUES, n_reasons=3)
    got = render_reasons(reasons, VALUES)
    pd.testing.assert_frame_equal(got, reasons[["reason_1", "reason_2", "reason_3"]])


def test_render_checks_alignment_and_columns():
    reasons = top_reasons(CONTRIB, VALUES, n_reasons=2)
    with pytest.raises(ValueError, match="values are not aligned"):
        render_reasons(reasons, VALUES.reset_index(drop=True))
    with pytest.raises(ValueError, match="medians are not aligned"):
        render_reasons(reasons, VALUES, MEDIANS.iloc[::-1])
    with pytest.raises(KeyError, match="debt_ratio"):
        render_reasons(reasons, VALUES.drop(columns="debt_ratio"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_top_reasons_word_the_medians_through_render(language):
    plain = top_reasons(CONTRIB, VALUES, n_reasons=3)
    got = top_reasons(CONTRIB, VALUES, 3, language, MEDIANS)
    sentences = ["reason_1", "reason_2", "reason_3"]
    pd.testing.assert_frame_equal(got.drop(columns=sentences), plain.drop(columns=sentences))
    pd.testing.assert_frame_equal(got[sentences], render_reasons(plain, VALUES, MEDIANS, language))
    assert got.loc["a", "reason_2"].startswith(FEATURES["debt_ratio"].sentence(0.85, language))
