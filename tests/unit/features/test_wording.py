import math

import numpy as np
import pytest

from features import wording
from features.catalogue import FEATURES, FeatureSpec, spec_for


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        (
            "on_time_rate_3m",
            0.25,
            "Only 25% of invoices due in the last 3 months were paid on time",
        ),
        (
            "days_late_wavg_12m",
            17.4,
            "Pays on average 17 days after the due date (last 12 months, amount-weighted)",
        ),
        ("n_late_90_12m", 2.0, "2 invoices more than 90 days late in the last 12 months"),
        ("industry_index_chg_3m", -0.052, "Sector index down 5.2% in 3 months"),
        ("industry_index_chg_12m", 0.1, "Sector index up 10.0% in 12 months"),
        ("debt_ratio_vs_sector", 0.125, "Debt ratio +0.12 above the sector median"),
        ("annual_revenue", 1234567.0, "Small company: annual revenue 1,234,567"),
        ("debt_ratio", math.nan, "No financial statement available"),
        ("days_since_last_payment", None, "No payment ever received"),
        ("revenue_growth", np.float64("nan"), "No previous statement to compare revenue with"),
    ],
)
def test_sentence(name, value, sentence):
    assert wording.sentence(FEATURES[name], value) == sentence


@pytest.mark.parametrize(
    ("name", "value", "median", "language", "sentence"),
    [
        ("debt_ratio", 0.85, 0.55, "en", "Debt ratio 0.85, sector median 0.55"),
        ("debt_ratio", 0.85, 0.55, "zh", "资产负债率 0.85，行业中位数 0.55"),
        ("debt_ratio", 0.85, math.nan, "en", "Debt ratio 0.85"),
        ("dso_days", 80.0, 45.0, "en", "Days sales outstanding 80 days, sector median 45 days"),
        ("dso_days", 80.0, 45.0, "zh", "应收账款周转天数 80 天，行业中位数 45 天"),
        ("on_time_rate_3m", 0.4, 0.9, "zh", "近 3 个月到期的发票仅 40% 按时付款，行业中位数 90%"),
        ("revenue_growth", -0.2, 0.03, "en", "Revenue down 20% year on year, sector median +3%"),
        ("revenue_growth", -0.2, 0.03, "zh", "营业收入同比下降 20%，行业中位数 +3%"),
        ("industry_index_chg_12m", -0.12, 0.3, "en", "Sector index down 12.0% in 12 months"),
        ("industry_index_chg_12m", -0.12, None, "zh", "行业景气指数 12 个月内下降 12.0%"),
        ("days_late_vs_sector", 20.0, 1.0, "en", "Pays 20 days later than the sector median"),
        ("debt_ratio", None, 0.5, "zh", "没有可用的财务报表"),
        (
            "interest_coverage",
            1.0,
            5.4,
            "en",
            "EBIT covers interest 1.0 times, sector median 5.4 times",
        ),
        ("interest_coverage", 1.0, 5.4, "zh", "息税前利润为利息支出的 1.0 倍，行业中位数 5.4 倍"),
        ("months_since_legal_dispute", 1.0, None, "en", "Legal dispute 1 month ago"),
        (
            "n_late_30_12m",
            1.0,
            1.0,
            "en",
            "1 invoice more than 30 days late in the last 12 months, sector median 1",
        ),
        (
            "days_late_max_12m",
            1.0,
            1.0,
            "en",
            "An invoice due in the last 12 months was 1 day late, sector median 1 day",
        ),
        ("legal_disputes_12m", 1.0, None, "en", "1 legal dispute in the last 12 months"),
        ("legal_disputes_12m", 11.0, None, "en", "11 legal disputes in the last 12 months"),
        (
            "days_late_trend_3m",
            -1.0,
            None,
            "en",
            "Payment delays down 1 day on the previous quarter",
        ),
    ],
)
def test_sentence_in_a_language_with_the_sector_median(name, value, median, language, sentence):
    # the median is appended for a customer's own measures, not for sector-level features
    assert wording.sentence(FEATURES[name], value, language, median=median) == sentence


def test_an_untranslated_entry_falls_back_to_english():
    custom = FeatureSpec("x", "attributes", "Score", "as supplied", 0, "X", "x is {value:.1f}")
    assert wording.sentence(custom, 2.0, "zh") == "x is 2.0"
    assert wording.sentence(custom, None, "zh") == "Score：暂无数据"


def test_an_unknown_language_is_an_error():
    with pytest.raises(ValueError, match=r"unknown language 'fr'; known: \['en', 'zh'\]"):
        wording.sentence(FEATURES["debt_ratio"], 0.5, "fr")


def test_missing_value_without_missing_text_falls_back_to_the_description():
    spec = FEATURES["n_late_30_12m"]
    assert spec.missing_text == ""
    assert wording.sentence(spec, math.nan) == f"{spec.description}: not available"
    custom = FeatureSpec("x", "profile", "Something", "count", 1, "X", "{value:.0f} things")
    assert wording.sentence(custom, None) == "Something: not available"
    assert wording.sentence(custom, 3.0) == "3 things"


@pytest.mark.parametrize(
    ("value", "language", "sentence"),
    [
        (12.0, "en", "Pays 12 days later than the sector median"),
        (-1.0, "en", "Pays 1 day earlier than the sector median"),
        (-3.0, "zh", "付款比行业中位数早 3 天"),
    ],
)
def test_a_template_can_name_its_own_trend_words(value, language, sentence):
    assert wording.sentence(FEATURES["days_late_vs_sector"], value, language) == sentence


def test_the_catalogue_entry_words_itself_through_this_module():
    spec = FEATURES["revenue_growth"]
    values, medians = np.array([-0.2, np.nan]), np.array([0.03, 0.03])
    assert spec.texts("zh") == wording.texts(spec, "zh")
    assert spec.sentence(-0.2, "zh", 0.03) == wording.sentence(spec, -0.2, "zh", 0.03)
    assert list(spec.sentences(values, "en", medians)) == list(
        wording.sentences(spec, values, "en", medians)
    )
    assert spec.quantity(-0.2) == wording.quantity(spec, -0.2) == "-20%"


@pytest.mark.parametrize(
    ("name", "value", "language", "quantity"),
    [
        ("dso_days", 80.0, "en", "80 days"),
        ("dso_days", 80.0, "zh", "80 天"),
        ("revenue_growth", 0.03, "en", "+3%"),
        ("debt_ratio", 0.5, "en", "0.50"),
    ],
)
def test_quantity_is_formatted_like_the_value_with_its_unit(name, value, language, quantity):
    assert wording.quantity(FEATURES[name], value, language) == quantity


@pytest.mark.parametrize(
    ("name", "signed"),
    [
        ("days_late_trend_3m", True),  # {trend}: "up" / "down"
        ("days_late_vs_sector", True),  # {trend:later|earlier}
        ("debt_ratio_vs_sector", True),  # {value:+.2f}
        ("industry_index_z", True),  # {value:+.1f}
        ("days_late_wavg_12m", False),
        ("limit_utilisation", False),
    ],
)
def test_states_sign_tells_a_change_or_difference(name, signed):
    assert wording.states_sign(FEATURES[name]) is signed


@pytest.mark.parametrize(
    ("name", "quotes"),
    [("limit_utilisation", True), ("debt_ratio", True), ("annual_revenue", True),
     ("industry_index", False), ("legal_disputes_12m", False), ("days_late_vs_sector", False)],
)  # fmt: skip
def test_quotes_median_follows_the_peer_families(name, quotes):
    spec = FEATURES[name]
    assert wording.quotes_median(spec) is quotes
    clause = ", sector median" in spec.sentence(1.0, "en", 2.0)
    assert clause is quotes


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("limit_utilisation", 0.652, 0.65),  # {value:.0%}
        ("days_late_wavg_12m", 12.4, 12.0),  # {value:.0f}
        ("debt_ratio", 0.8549, 0.85),  # {value:.2f}
        ("industry_index_chg_3m", -0.1234, -0.123),  # {value:.1%}
        ("annual_revenue", 1234.5, 1234.0),  # {value:,.0f}
    ],
)
def test_as_shown_rounds_as_the_sentence_shows(name, value, shown):
    spec = FEATURES[name]
    np.testing.assert_allclose(wording.as_shown(spec, np.array([value, np.nan])), [shown, np.nan])


def test_as_shown_keeps_a_value_without_fixed_decimals():
    spec = spec_for("attr_score")  # {value:.4g}
    np.testing.assert_array_equal(wording.as_shown(spec, np.array([1.23456])), [1.23456])


@pytest.mark.parametrize("spec", list(FEATURES.values()), ids=lambda s: s.name)
def test_every_language_words_the_sign_where_english_does(spec):
    # states_sign reads the English template: the translations must make the same claim
    zh = FeatureSpec(**{**spec.__dict__, "template": spec.template_zh})
    assert wording.states_sign(zh) is wording.states_sign(spec)
