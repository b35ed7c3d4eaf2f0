from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from models.policy import (
    ACTIONS,
    POLICY_COLUMNS,
    CreditPolicy,
    annual_purchases,
    apply_policy,
    held_grade,
)

ROOT = Path(__file__).parents[3]


def policy_dict() -> dict:
    grades = [
        {"grade": g, "max_terms_days": t, "limit_factor": f, "prepayment_pct": p, "actions": a}
        for g, t, f, p, a in [
            (1, 90, 1.2, 0, []),
            (2, 90, 1.0, 0, []),
            (3, 60, 0.5, 0, ["start_collection_early"]),
            (4, 0, 0.0, 100, ["pause_unshipped_orders"]),
        ]
    ]
    return {
        "lgd": 0.5,
        "high_risk_grade": 3,
        "grades": grades,
        "small_account": {"annual_purchases_below": 50000, "max_terms_days": 30},
        "long_terms": {"from_grade": 2, "above_days": 60, "prepayment_pct": 30},
        "limit": {
            "buffer_months": 1.5,
            "max_revenue_share": 0.1,
            "round_to": 1000,
            "reduce_tolerance": 0.1,
        },
        "deterioration": {
            "medium": ["start_collection_early"],
            "high": ["shorten_terms", "require_guarantee_or_insurance"],
        },
        "shortened_terms_days": 30,
    }


POLICY = CreditPolicy.model_validate(policy_dict())


def book() -> pd.DataFrame:
    rows = [
        # name: grade, pd, exposure, purchases_12m, months, revenue, limit, terms
        ("steady", 1, 0.002, 20000.0, 120000.0, 60.0, 5e6, 40000.0, 60),
        ("small", 1, 0.002, 1000.0, 24000.0, 60.0, 1e6, 5000.0, 60),
        ("long_terms", 2, 0.02, 50000.0, 240000.0, 60.0, 9e6, 70000.0, 90),
        ("worst", 4, 0.9, 8000.0, 120000.0, 60.0, 5e6, 40000.0, 60),
        ("young", 1, 0.002, 0.0, 30000.0, 6.0, 5e6, 20000.0, 30),
        ("capped", 1, 0.002, 0.0, 600000.0, 60.0, 1e5, 20000.0, 30),
        ("watch", 3, 0.2, 10000.0, 120000.0, 60.0, np.nan, 40000.0, 90),
    ]
    columns = [
        "name", "grade", "pd_12m", "exposure", "purchases_12m", "relationship_months",
        "annual_revenue", "current_limit", "current_terms_days",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).set_index("name")


def test_policy_columns_per_customer():
    got = apply_policy(book(), POLICY)
    assert list(got.columns) == POLICY_COLUMNS and list(got.index) == list(book().index)
    # steady: 10,000 a month x (60/30 + 1.5) x 1.2 = 42,000
    assert got.loc["steady", ["recommended_limit", "recommended_terms_days"]].tolist() == [
        42000,
        60,
    ]
    assert got.loc["steady", "action_codes"] == ""
    # small account: 30 days; 2,000 x (1 + 1.5) x 1.2 = 6,000
    assert got.loc["small", ["recommended_limit", "recommended_terms_days"]].tolist() == [6000, 30]
    assert got.loc["small", "action_codes"] == "shorten_terms"
    # grade 2 on 90 days: 30% up front; 20,000 x 4.5 = 90,000
    assert got.loc["long_terms", "prepayment_pct"] == 30
    assert got.loc["long_terms", "recommended_limit"] == 90000
    assert got.loc["long_terms", "action_codes"] == "require_prepayment"
    # a young relationship's purchases are annualised: 30,000 in 6 months is 5,000 a month
    assert got.loc["young", "recommended_limit"] == 5000 * 2.5 * 1.2
    # at most 10% of annual revenue, before the grade's factor
    assert got.loc["capped", "recommended_limit"] == 12000
    # missing revenue: no cap; grade 3 caps terms at 60 and halves the limit
    assert got.loc["watch", ["recommended_limit", "recommended_terms_days"]].tolist() == [17000, 60]


def test_the_worst_grade_gets_everything_most_severe_first():
    got = apply_policy(book(), POLICY).loc["worst"]
    assert got["recommended_limit"] == 0 and got["recommended_terms_days"] == 0
    assert got["prepayment_pct"] == 100
    codes = got["action_codes"].split("; ")
    assert codes == [
        "pause_unshipped_orders",
        "shorten_terms",
        "reduce_limit",
        "require_prepayment",
    ]
    ranks = [list(ACTIONS).index(c) for c in codes]
    assert ranks == sorted(ranks, reverse=True)
    assert got["actions"].startswith("pause unshipped orders; shorten payment terms")


def test_deterioration_adds_actions_and_shortens_terms():
    severity = pd.Series({"steady": "high", "long_terms": "medium", "small": np.nan})
    got = apply_policy(book(), POLICY, severity.reindex(book().index))
    assert got.loc["steady", "recommended_terms_days"] == 30
    # shorter terms mean a lower purchases-based limit: 10,000 x (1 + 1.5) x 1.2 = 30,000
    assert got.loc["steady", "recommended_limit"] == 30000
    codes = "require_guarantee_or_insurance; shorten_terms; reduce_limit"
    assert got.loc["steady", "action_codes"] == codes
    assert got.loc["long_terms", "action_codes"] == "require_prepayment; start_collection_early"
    assert got.loc["small", "action_codes"] == "shorten_terms"


def test_a_small_reduction_is_within_the_tolerance():
    frame = book().loc[["steady"]].assign(current_limit=45000.0)  # 42,000 > 90% of 45,000
    assert apply_policy(frame, POLICY).loc["steady", "action_codes"] == ""
    frame = frame.assign(current_limit=48000.0)
    assert apply_policy(frame, POLICY).loc["steady", "action_codes"] == "reduce_limit"


def test_a_worse_grade_cuts_the_limit_only_once_it_holds():
    # watch fell from grade 2 to 3 this month: the limit keeps grade 2's factor and terms
    last_month = pd.Series({"watch": 2.0, "worst": 4.0}).reindex(book().index)
    held = held_grade(book()["grade"], last_month)
    assert held["watch"] == 2 and held["worst"] == 4 and held["steady"] == 1
    got = apply_policy(book(), POLICY, limit_grade=held)
    assert got.loc["watch", "recommended_limit"] == 10000 * 4.5  # was 17,000 on grade 3
    assert "reduce_limit" not in got.loc["watch", "action_codes"]
    assert got.loc["watch", "recommended_terms_days"] == 60  # terms follow this month's grade
    assert "reduce_limit" in apply_policy(book(), POLICY).loc["watch", "action_codes"]
    others = got.drop(index="watch")
    pd.testing.assert_frame_equal(others, apply_policy(book(), POLICY).drop(index="watch"))


def test_a_limit_grade_outside_the_policy_is_an_error():
    with pytest.raises(ValueError, match=r"grades \[9\] are not in the policy"):
        apply_policy(book(), POLICY, limit_grade=pd.Series(9.0, index=book().index))


def test_expected_loss_is_pd_times_lgd_times_exposure():
    got = apply_policy(book(), POLICY)
    expected = book()["pd_12m"] * 0.5 * book()["exposure"]
    np.testing.assert_allclose(got["expected_loss"], expected)


def test_actions_in_chinese():
    got = apply_policy(book(), POLICY, language="zh")
    assert got.loc["worst", "actions"] == "暂停未发货订单；缩短付款期限；降低信用额度；要求预付款"


def test_the_input_is_kept():
    frame = book()
    before = frame.copy()
    apply_policy(frame, POLICY)
    pd.testing.assert_frame_equal(frame, before)


def test_annual_purchases():
    got = annual_purchases(book())
    assert got["steady"] == 120000 and got["young"] == 60000


@pytest.mark.parametrize("column", ["grade", "exposure", "current_limit", "relationship_months"])
def test_a_missing_column_is_an_error(column):
    with pytest.raises(KeyError, match=column):
        apply_policy(book().drop(columns=column), POLICY)


def test_a_grade_outside_the_policy_is_an_error():
    with pytest.raises(ValueError, match=r"grades \[7\] are not in the policy"):
        apply_policy(book().assign(grade=7), POLICY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["grades"].pop(1), r"grades must be 1, 2, \.\.\. in order, found \[1, 3, 4\]"),
        (lambda d: d.update(high_risk_grade=9), "high_risk_grade 9 is not one of the grades"),
        (lambda d: d["grades"][0].update(actions=["call_mum"]), r"unknown actions \['call_mum'\]"),
        (lambda d: d["deterioration"].update(high=["x"]), r"unknown actions \['x'\]"),
        (lambda d: d.update(lgd=1.5), "lgd"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["deterioration"].update(severe=[]), "severe"),
        (lambda d: d.pop("small_account"), "small_account"),
    ],
)
def test_a_bad_policy_is_refused_with_the_reason(change, message):
    raw = policy_dict()
    change(raw)
    with pytest.raises(ValidationError, match=message):
        CreditPolicy.model_validate(raw)


def test_the_shipped_policy_covers_the_master_scale():
    policy = CreditPolicy.model_validate(yaml.safe_load((ROOT / "configs/policy.yaml").read_text()))
    scale = yaml.safe_load((ROOT / "configs/master_scale.yaml").read_text())["grades"]
    assert [g.grade for g in policy.grades] == [g["grade"] for g in scale]
    factors = [g.limit_factor for g in policy.grades]
    assert factors == sorted(factors, reverse=True)  # scaled down as the PD rises
    assert policy.small_account.max_terms_days <= 30 and policy.long_terms.prepayment_pct == 30
