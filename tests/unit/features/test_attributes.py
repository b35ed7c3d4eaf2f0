from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from features.attributes import (
    add_attribute_features,
    as_model_input,
    attribute_specs,
    categorical_levels,
    check_schema,
    level_codes,
    resolve_schema,
)
from features.catalogue import monotone_constraints, spec_for

T = pd.Timestamp


def test_latest_value_known_at_the_snapshot_is_used():
    snaps = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "as_of_date": [T("2024-01-31"), T("2024-03-31"), T("2024-01-31")],
        }
    )
    attrs = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "known_date": [T("2024-01-15"), T("2024-02-15"), T("2024-02-01")],
            "score": [1.0, 2.0, 9.0],
        }
    )
    out = add_attribute_features(snaps, attrs)
    assert out["attr_score"].tolist()[:2] == [1.0, 2.0]
    assert np.isnan(out["attr_score"].iloc[2])  # B's value became known after the snapshot
    assert "attr_score" not in snaps  # input untouched


def test_attribute_spec_is_unconstrained_with_its_own_reason():
    spec = spec_for("attr_bureau_score")
    assert spec.direction == 0 and spec.reason_code == "ATTR_BUREAU_SCORE"
    assert spec.sentence(512.0) == "bureau_score is 512"
    assert spec.sentence(512.0, "zh") == "bureau_score 为 512"
    assert monotone_constraints(["debt_ratio", "attr_bureau_score"]) == [1, 0]
    with pytest.raises(KeyError, match="not in the catalogue"):
        spec_for("bureau_score")


def test_the_schema_is_checked_naming_the_attribute_and_the_key():
    columns = ["tier", "score"]

    def check(entries):
        return check_schema({"attributes": entries}, columns)

    assert check({"tier": {"type": "categorical", "label": "Tier"}}) == {
        "tier": {"type": "categorical", "label": "Tier"}
    }
    cases = [
        ({"nope": {}}, r"attributes\.nope: no such column"),
        ({"tier": {"colour": "red"}}, r"attributes\.tier: unknown keys \['colour'\]"),
        ({"tier": {"type": "text"}}, r"attributes\.tier\.type: 'text' is not one of"),
        ({"score": {"direction": 2}}, r"attributes\.score\.direction: 2; use 1"),
        ({"score": {"direction": True}}, r"attributes\.score\.direction"),
        ({"tier": {"type": "categorical", "direction": 1}}, "categorical attribute has no dir"),
        ({"score": {"sentence": {"fr": "x"}}}, r"attributes\.score\.sentence: text, or a map"),
        ({"score": {"sentence": "Score {value:.0f} {other}"}}, r"does not format .*KeyError"),
        ({"tier": {"type": "categorical", "sentence": "Tier {value:.1f}"}}, "does not format"),
        ({"score": {"unit": 5}}, r"attributes\.score\.unit: must be text"),
        ({"score": "high"}, r"attributes\.score: must be a mapping"),
    ]
    for entries, message in cases:
        with pytest.raises(ValueError, match=message):
            check(entries)
    with pytest.raises(ValueError, match="one key, 'attributes'"):
        check_schema({"tier": {}}, columns)


def test_the_resolved_schema_fills_what_the_user_left_out():
    attributes = pd.DataFrame(
        {"customer_id": ["A"], "known_date": [T("2024-01-31")], "tier": ["gold"],
         "bureau_score": [512.0]}
    )  # fmt: skip
    schema = resolve_schema({"bureau_score": {"unit": "points", "direction": -1}}, attributes)
    assert schema["tier"] == {
        "label": {"en": "Tier", "zh": "Tier"}, "type": "categorical", "unit": "",
        "direction": 0, "sentence": {}, "missing": {},
    }  # fmt: skip
    assert schema["bureau_score"]["label"] == {"en": "Bureau score", "zh": "Bureau score"}
    assert schema["bureau_score"]["direction"] == -1 and schema["bureau_score"]["type"] == "numeric"
    with pytest.raises(ValueError, match="tier: text, so categorical: it has no direction"):
        resolve_schema({"tier": {"direction": 1}}, attributes)


def test_attribute_specs_word_reasons_in_the_users_words_and_directions_constrain():
    attributes = pd.DataFrame(
        {"customer_id": ["A"], "known_date": [T("2024-01-31")], "checking": ["< 0"],
         "duration": [24.0], "age": [30.0]}
    )  # fmt: skip
    declared = {
        "checking": {"label": {"en": "Checking account", "zh": "支票账户"}},
        "duration": {"label": "Loan duration", "unit": "months", "direction": 1,
                     "sentence": {"en": "Loan runs {value:.0f} months",
                                  "zh": "贷款期限 {value:.0f} 个月"}},
        "age": {"label": {"en": "Age", "zh": "年龄"}, "unit": "years", "direction": -1,
                "missing": {"en": "Age not given"}},
    }  # fmt: skip
    specs = attribute_specs(resolve_schema(declared, attributes))
    duration, age = specs["attr_duration"], specs["attr_age"]
    assert duration.sentence(24.0) == "Loan runs 24 months"
    assert duration.sentence(24.0, "zh") == "贷款期限 24 个月"
    assert age.sentence(31.0) == "Age: 31 years" and age.sentence(31.0, "zh") == "年龄：31 years"
    assert age.sentence(None) == "Age not given" and age.sentence(None, "zh") == "年龄：暂无数据"
    checking = dataclasses.replace(specs["attr_checking"], levels=("0 to 200", "< 0"))
    assert checking.categorical and checking.direction == 0
    assert checking.sentence(1.0) == "Checking account: < 0"
    assert checking.sentence(0.0, "zh") == "支票账户：0 to 200"
    names = ["debt_ratio", "attr_duration", "attr_age", "attr_checking"]
    assert monotone_constraints(names, specs) == [1, 1, -1, 0]
    assert spec_for("attr_age", specs) is age


def test_categorical_levels_and_codes():
    frame = pd.DataFrame({"tier": ["gold", None, "silver", "gold"], "score": [1, 2, 3, 4]})
    levels = categorical_levels(frame, ["tier", "score"])
    assert levels == {"tier": ["gold", "silver"]}
    new = pd.DataFrame({"tier": ["silver", "platinum", None], "score": [5, 6, 7]})
    codes = level_codes(new, ["score", "tier"], levels)
    assert list(codes.columns) == ["score", "tier"]
    assert codes["tier"].tolist()[0] == 1.0 and np.isnan(codes["tier"].iloc[1:]).all()
    numbers = pd.DataFrame({"tier": [1.0, np.nan]})  # a level sent as the number 1 is "1"
    assert level_codes(numbers, ["tier"], {"tier": ["1", "2"]})["tier"].tolist()[0] == 0.0
    with pytest.raises(ValueError, match="feature 'score' must be numeric"):
        level_codes(new.assign(score=["x", "y", "z"]), ["score"], {})
    model_input = as_model_input(frame)
    assert model_input["tier"].tolist() == ["gold", None, "silver", "gold"]
    assert model_input["score"].dtype == "float64"


def test_a_categorical_attribute_stays_text_in_the_snapshots():
    snaps = pd.DataFrame({"customer_id": ["A", "B"], "as_of_date": [T("2024-01-31")] * 2})
    attrs = pd.DataFrame(
        {"customer_id": ["A", "B"], "known_date": [T("2024-01-15"), T("2024-03-01")],
         "tier": ["gold", "silver"]}
    )  # fmt: skip
    out = add_attribute_features(snaps, attrs)
    assert out["attr_tier"].iloc[0] == "gold"
    assert pd.isna(out["attr_tier"].iloc[1])  # B's tier was not known yet
