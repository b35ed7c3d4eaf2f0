import math

import numpy as np
import pandas as pd
import pytest

from features import events, financials, industry, late_payment, peers, profile
from features.catalogue import (
    CATALOGUE,
    FAMILIES,
    FEATURE_NAMES,
    FEATURES,
    LANGUAGES,
    FeatureSpec,
    feature_names,
    monotone_constraints,
)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_every_entry_is_complete(spec):
    assert spec.direction in {-1, 0, 1}
    assert isinstance(spec.direction, int)
    assert spec.family in FAMILIES
    assert spec.reason_code and spec.reason_code == spec.reason_code.upper()
    assert spec.description and spec.unit
    for language in LANGUAGES:
        template, _ = spec.texts(language)
        assert "{value" in template
        sentence = spec.sentence(0.5, language, median=0.25)
        assert sentence and "{" not in sentence
        assert spec.sentence(math.nan, language)  # never an empty reason
    assert spec.template_zh and spec.missing_text_zh  # every catalogue entry is translated


def test_names_are_unique_and_indexed():
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == len(CATALOGUE)
    assert list(FEATURES) == FEATURE_NAMES
    assert all(FEATURES[s.name] is s for s in CATALOGUE)


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
    assert FEATURES[name].sentence(value) == sentence


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
    assert FEATURES[name].sentence(value, language, median=median) == sentence


def test_an_untranslated_entry_falls_back_to_english():
    custom = FeatureSpec("x", "attributes", "Score", "as supplied", 0, "X", "x is {value:.1f}")
    assert custom.sentence(2.0, "zh") == "x is 2.0"
    assert custom.sentence(None, "zh") == "Score：暂无数据"


def test_an_unknown_language_is_an_error():
    with pytest.raises(ValueError, match=r"unknown language 'fr'; known: \['en', 'zh'\]"):
        FEATURES["debt_ratio"].sentence(0.5, "fr")


def test_missing_value_without_missing_text_falls_back_to_the_description():
    spec = FEATURES["n_late_30_12m"]
    assert spec.missing_text == ""
    assert spec.sentence(math.nan) == f"{spec.description}: not available"
    custom = FeatureSpec("x", "profile", "Something", "count", 1, "X", "{value:.0f} things")
    assert custom.sentence(None) == "Something: not available"
    assert custom.sentence(3.0) == "3 things"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["days_late_wavg_12m", "on_time_rate_3m", "payment_terms_days"], [1, -1, 0]),
        (["debt_ratio", "current_ratio", "annual_revenue"], [1, -1, -1]),
        ([], []),
    ],
)
def test_monotone_constraints(names, expected):
    assert monotone_constraints(names) == expected


def test_monotone_constraints_of_unknown_names_is_an_error():
    with pytest.raises(KeyError, match=r"not in the catalogue: \['colour', 'log_annual_revenue'\]"):
        monotone_constraints(["debt_ratio", "colour", "log_annual_revenue"])


def test_feature_names_of_all_families():
    names = feature_names()
    assert names == FEATURE_NAMES
    names.append("changed")  # a copy: the catalogue is not modified
    assert "changed" not in FEATURE_NAMES


@pytest.mark.parametrize(
    ("families", "expected"),
    [
        (("peers",), ["days_late_vs_sector", "debt_ratio_vs_sector"]),
        (["profile"], ["annual_revenue", "relationship_months", "payment_terms_days"]),
        (
            ("profile", "peers"),  # catalogue order, not the order asked for
            [
                "days_late_vs_sector",
                "debt_ratio_vs_sector",
                "annual_revenue",
                "relationship_months",
                "payment_terms_days",
            ],
        ),
        ((), []),
    ],
)
def test_feature_names_of_some_families(families, expected):
    assert feature_names(families) == expected


def test_feature_names_of_each_family_partition_the_catalogue():
    parts = [feature_names([f]) for f in FAMILIES]
    assert sorted(sum(parts, [])) == sorted(FEATURE_NAMES)
    assert FAMILIES == ("late_payment", "industry", "financials", "events", "peers", "profile")


def test_unknown_family_is_an_error():
    with pytest.raises(ValueError, match=r"unknown feature families \['bureau'\]"):
        feature_names(["events", "bureau"])


def tiny_inputs() -> dict[str, pd.DataFrame]:
    """One customer, one snapshot (2024-03-31), one row of every table."""
    day = pd.Timestamp("2024-01-31")
    return {
        "snapshots": pd.DataFrame(
            {
                "customer_id": ["A"],
                "industry": ["retail"],
                "month": [2024 * 12 + 2],
                "as_of_date": [pd.Timestamp("2024-03-31")],
            }
        ),
        "customers": pd.DataFrame(
            {
                "customer_id": ["A"],
                "industry": ["retail"],
                "annual_revenue": [1e6],
                "relationship_start": [pd.Timestamp("2020-01-01")],
                "credit_limit": [1e4],
                "payment_terms_days": [30],
            }
        ),
        "invoices": pd.DataFrame(
            {
                "invoice_id": ["I1"],
                "customer_id": ["A"],
                "issue_date": [day],
                "due_date": [day],
                "amount": [100.0],
                "paid_date": [pd.NaT],
                "disputed": [False],
            }
        ),
        "financials": pd.DataFrame(
            {"customer_id": ["A"], "period_end": [day], "available_date": [day]}
            | {c: [1.0] for c in ("total_assets", "total_liabilities", "current_assets")}
            | {c: [1.0] for c in ("current_liabilities", "cash", "revenue", "ebit")}
            | {"operating_cash_flow": [1.0], "interest_expense": [1.0]}
        ),
        "events": pd.DataFrame(
            {"customer_id": ["A"], "event_date": [day], "event_type": ["legal_dispute"]}
        ),
        "industry_index": pd.DataFrame({"industry": ["retail"], "month": [day], "value": [1.0]}),
        "defaults": pd.DataFrame({"customer_id": ["B"], "default_date": [day]}),
    }


def added_columns(family: str) -> set[str]:
    t = tiny_inputs()
    snaps = t["snapshots"]
    build = {
        "late_payment": lambda: late_payment.add_late_payment_features(
            snaps, t["invoices"], t["customers"]
        ),
        "industry": lambda: industry.add_sector_default_rate(
            industry.add_industry_features(snaps, t["industry_index"], 1),
            t["defaults"],
            t["customers"],
        ),
        "financials": lambda: financials.add_financial_features(snaps, t["financials"], 90),
        "events": lambda: events.add_event_features(snaps, t["events"]),
        "peers": lambda: peers.add_peer_features(
            snaps.assign(days_late_wavg_12m=1.0, debt_ratio=0.5)
        ),
        "profile": lambda: profile.add_profile_features(snaps, t["customers"]),
    }[family]
    extra = {"days_late_wavg_12m", "debt_ratio"} if family == "peers" else set()
    return set(build().columns) - set(snaps.columns) - extra


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_writes_exactly_its_catalogue_features(family):
    assert added_columns(family) == set(feature_names([family]))


def test_module_constants_name_catalogue_features():
    assert {*events.COUNTED.values(), *events.SINCE.values()} <= set(feature_names(["events"]))
    assert set(peers.PEER_FEATURES.values()) == set(feature_names(["peers"]))
    late = {f"n_late_{k}_12m" for k in late_payment.LATE_THRESHOLDS}
    assert late <= set(feature_names(["late_payment"]))


@pytest.mark.parametrize(
    ("value", "language", "sentence"),
    [
        (12.0, "en", "Pays 12 days later than the sector median"),
        (-1.0, "en", "Pays 1 day earlier than the sector median"),
        (-3.0, "zh", "付款比行业中位数早 3 天"),
    ],
)
def test_a_template_can_name_its_own_trend_words(value, language, sentence):
    assert FEATURES["days_late_vs_sector"].sentence(value, language) == sentence
