"""Behavioural tests of a trained PD model: direction, invariance, minimum quality."""

from __future__ import annotations

import numpy as np
import pytest

from models import metrics

LATE_FEATURES = {
    "days_late_wavg_12m": 25.0,
    "days_late_max_12m": 40.0,
    "n_late_30_12m": 3.0,
    "n_late_45_12m": 2.0,
    "consecutive_quarters_late_45": 2.0,
    "days_since_last_payment": 45.0,
}


def test_paying_later_never_lowers_the_pd_and_raises_it_on_average(trained):
    # rows with a payment history: a missing value is its own branch, outside the constraint
    history = trained.test.dropna(subset=[*LATE_FEATURES, "on_time_rate_12m"])
    rows = history.sample(500, random_state=0)
    worse = rows.copy()
    for name, extra in LATE_FEATURES.items():
        worse[name] = worse[name] + extra
    worse["on_time_rate_12m"] = worse["on_time_rate_12m"] * 0.5
    before = trained.model.predict_pd(rows)
    after = trained.model.predict_pd(worse)
    assert (after >= before - 1e-12).all()
    assert after.mean() > 1.3 * before.mean()


@pytest.mark.parametrize(
    ("feature", "direction"),
    [("debt_ratio", 1), ("current_ratio", -1), ("legal_disputes_12m", 1), ("industry_index", -1)],
)
def test_single_feature_direction_follows_the_catalogue(trained, feature, direction):
    if feature not in trained.model.feature_names:
        # only the stability screen may leave a feature out (the industry cycle drifts within
        # the training window); the PD then cannot move with it
        assert feature in trained.records["train"]["excluded_features"]
    rows = trained.test.sample(300, random_state=1)
    moved = rows.copy()
    moved[feature] = rows[feature].fillna(rows[feature].median()) + direction * rows[feature].std()
    base = rows.copy()
    base[feature] = rows[feature].fillna(rows[feature].median())
    assert (trained.model.predict_pd(moved) >= trained.model.predict_pd(base) - 1e-12).all()


def test_fields_outside_the_model_do_not_change_the_pd(trained):
    rows = trained.test.head(200)
    changed = rows.assign(region="Elsewhere", industry="unknown", customer_id="X", label=np.nan)
    np.testing.assert_array_equal(trained.model.predict_pd(rows), trained.model.predict_pd(changed))


def test_discrimination_and_calibration_on_the_out_of_time_window(trained):
    y = trained.test["label"].to_numpy()
    p = trained.model.predict_pd(trained.test)
    oracle = trained.test.merge(trained.truth, on=["customer_id", "as_of_date"])["true_pd_12m"]
    auc, oracle_auc = metrics.auc(y, p), metrics.auc(y, oracle.to_numpy())
    assert auc > 0.68
    assert auc > 0.9 * oracle_auc
    assert metrics.expected_calibration_error(y, p, 10) < 0.04


def test_pds_keep_the_ranking_and_its_resolution(trained):
    model, y = trained.model, trained.test["label"].to_numpy()
    raw = model.booster.predict(model.feature_frame(trained.test), raw_score=True)
    p = model.predict_pd(trained.test)
    above = p > model.calibrator.pd_floor
    assert above.mean() > 0.99
    assert len(np.unique(p[above])) == len(np.unique(raw[above]))  # no two scores share a PD
    assert metrics.auc(y, p) == pytest.approx(metrics.auc(y, raw), abs=1e-12)
    # beyond the calibration window's scores the PD rises along a tail, not from a plateau
    far = model.calibrator.predict(raw.max() + np.array([0.0, 1.0, 2.0]))
    assert (np.diff(far) > 0).all() and far[-1] < 1 - model.calibrator.pd_floor


def test_reasons_explain_the_riskiest_customers(trained):
    out = trained.model.predict(trained.test)
    risky = out.nlargest(50, "pd_12m")
    assert (risky["reason_1_code"] != "").all()
    assert risky["reason_1"].str.contains(r"\d").mean() > 0.8  # sentences carry the value
    assert set(out["grade"]).issubset(set(range(1, 11)))
