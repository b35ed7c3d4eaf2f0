import math

import pandas as pd
import pytest

from features import (
    events,
    financials,
    industry,
    late_payment,
    payment_behaviour,
    peers,
    profile,
    wording,
)
from features.catalogue import (
    CATALOGUE,
    FAMILIES,
    FEATURE_NAMES,
    FEATURES,
    KINDS,
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
    for language in wording.LANGUAGES:
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
    assert FAMILIES == (
        "late_payment", "industry", "financials", "events", "partial_payments", "payment_plans",
        "peers", "profile",
    )  # fmt: skip


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
        "payments": pd.DataFrame(
            {"invoice_id": ["I1"], "customer_id": ["A"], "payment_date": [day], "amount": [60.0]}
        ),
        "payment_plans": pd.DataFrame(
            {"customer_id": ["A"], "agreed_date": [day], "end_date": [pd.Timestamp("2024-04-30")]}
            | {"status": ["open"], "instalments": [3], "broken_date": [pd.NaT]}
        ),
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
        "partial_payments": lambda: snaps.assign(
            **payment_behaviour.payment_columns(
                snaps, payment_behaviour.payment_rows(t["payments"], t["invoices"])
            )
        ),
        "payment_plans": lambda: snaps.assign(
            **payment_behaviour.plan_columns(snaps, t["payment_plans"])
        ),
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


def test_a_missing_value_stands_for_a_value_only_where_absence_has_one():
    # "never happened": infinitely long ago; anything else missing is a gap in the data
    stands = {n: s.missing_value for n, s in FEATURES.items() if s.missing_value is not None}
    assert stands == {
        "days_since_last_payment": math.inf,  # no payment ever received: adverse
        "months_since_legal_dispute": math.inf,  # no legal dispute on record: favourable
        "months_since_ownership_change": math.inf,
        "months_since_plan": math.inf,  # no payment plan ever agreed: favourable
    }


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_every_entry_has_a_kind(spec):
    assert spec.kind in KINDS


def test_the_industry_cycle_has_levels_and_relative_features():
    kinds = {s.name: s.kind for s in CATALOGUE if s.family == "industry"}
    assert {n for n, k in kinds.items() if k == "level"} == {
        "industry_index",
        "sector_default_rate_12m",
    }
    # the features that mean the same in every phase of the cycle
    assert {n for n, k in kinds.items() if k == "relative"} == {
        "industry_index_chg_3m",
        "industry_index_chg_12m",
        "industry_index_z",
        "industry_index_vs_history",
        "industry_index_pct",
        "sector_default_rate_vs_book",
    }
    assert FEATURES["industry_index_pct"].direction == -1
    assert FEATURES["sector_default_rate_vs_book"].direction == 1


def test_every_feature_is_described_in_chinese_too():
    from features.catalogue import CATALOGUE, DESCRIPTIONS_ZH

    assert set(DESCRIPTIONS_ZH) == {spec.name for spec in CATALOGUE}
    assert all(spec.label("zh") == DESCRIPTIONS_ZH[spec.name] for spec in CATALOGUE)
    assert all(spec.label("en") == spec.description for spec in CATALOGUE)
