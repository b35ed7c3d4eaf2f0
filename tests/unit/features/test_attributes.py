from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.attributes import add_attribute_features
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
