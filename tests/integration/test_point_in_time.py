"""Point in time: rewriting everything dated after t changes no feature at or before t."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import FeatureSettings, build_features
from features.catalogue import FEATURE_NAMES, spec_for
from pipelines.sources.synthetic import generate

SETTINGS = FeatureSettings()
FEATURE_START = 7  # first feature column after the id columns
# the industry-cycle features that mean the same in every phase: the index's changes, its
# position against the sector's own history, the sector's default rate against the book's
CYCLE_FEATURES = [
    n for n in FEATURE_NAMES if spec_for(n).family == "industry" and spec_for(n).kind == "relative"
]


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return generate(n_customers=250, n_months=36, start="2021-01-31", seed=7)


def rewrite_future(tables: dict[str, pd.DataFrame], t: pd.Timestamp, seed: int) -> dict:
    """Change every fact that became known only after ``t``; keep what was known at ``t``."""
    rng = np.random.default_rng(seed)
    out = {k: v.copy() for k, v in tables.items() if k != "truth"}
    inv = out["invoices"]
    inv = inv[inv["issue_date"] <= t].copy()  # invoices issued later vanish
    later = inv["paid_date"] > t  # payments after t move, or never happen
    shift = pd.to_timedelta(rng.integers(1, 200, later.sum()), unit="D")
    inv.loc[later, "paid_date"] = inv.loc[later, "paid_date"] + shift
    inv.loc[later & (rng.random(len(inv)) < 0.3), "paid_date"] = pd.NaT
    open_at_t = inv["paid_date"].isna()
    inv.loc[open_at_t, "paid_date"] = t + pd.Timedelta(days=5)  # open ones get paid
    out["invoices"] = inv
    ev = out["events"]
    extra = ev.sample(20, random_state=seed).assign(event_date=t + pd.Timedelta(days=3))
    out["events"] = pd.concat([ev[ev["event_date"] <= t], extra], ignore_index=True)
    fin = out["financials"]
    unknown = fin["available_date"] > t
    fin.loc[unknown, ["total_liabilities", "ebit", "revenue"]] *= 3.0
    idx = out["industry_index"]
    lag_start = t - pd.offsets.MonthEnd(SETTINGS.index_publication_lag_months)
    idx.loc[idx["month"] > lag_start, "value"] *= 0.5
    dflt = out["defaults"]
    out["defaults"] = dflt[dflt["default_date"] <= t]
    pays = out["payments"]  # payments after t move a year on; plans agreed after t vanish
    pays.loc[pays["payment_date"] > t, "payment_date"] += pd.Timedelta(days=365)
    plans = out["payment_plans"]
    plans = plans[plans["agreed_date"] <= t].copy()
    ended = plans["end_date"] <= t  # how a plan ends is known at its end (or when broken)
    plans.loc[~ended & ~(plans["broken_date"] <= t), ["status", "broken_date"]] = ["kept", pd.NaT]
    out["payment_plans"] = plans
    return out


@pytest.mark.parametrize("t", ["2022-06-30", "2022-11-30"])
def test_features_at_t_ignore_everything_after_t(world, t):
    t = pd.Timestamp(t)
    as_of = world["industry_index"]["month"].max()
    before, _, _ = build_features({k: v for k, v in world.items() if k != "truth"}, as_of, SETTINGS)
    after, _, _ = build_features(rewrite_future(world, t, seed=1), as_of, SETTINGS)
    keep_b = before[before["as_of_date"] <= t].reset_index(drop=True)
    keep_a = after[after["as_of_date"] <= t].reset_index(drop=True)
    assert len(keep_b) > 1000
    features = list(before.columns[FEATURE_START:])
    assert set(CYCLE_FEATURES) <= set(features)
    assert keep_b[CYCLE_FEATURES].notna().mean().min() > 0.3  # compared on values, not gaps
    pd.testing.assert_frame_equal(
        keep_b[["customer_id", "as_of_date", *features]],
        keep_a[["customer_id", "as_of_date", *features]],
    )


def test_the_rewrite_does_change_later_features(world):
    """Guard against a vacuous test: the rewrite must move features after t."""
    t = pd.Timestamp("2022-06-30")
    as_of = world["industry_index"]["month"].max()
    before, _, _ = build_features({k: v for k, v in world.items() if k != "truth"}, as_of, SETTINGS)
    after, _, _ = build_features(rewrite_future(world, t, seed=1), as_of, SETTINGS)
    later_b = before[before["as_of_date"] > t].set_index(["customer_id", "as_of_date"])
    later_a = after[after["as_of_date"] > t].set_index(["customer_id", "as_of_date"])
    common = later_b.index.intersection(later_a.index)
    diff = later_b.loc[common, "days_late_wavg_12m"] - later_a.loc[common, "days_late_wavg_12m"]
    assert (diff.abs() > 1e-9).mean() > 0.3
    for name in ["industry_index", *CYCLE_FEATURES]:
        b, a = later_b.loc[common, name], later_a.loc[common, name]
        assert not np.allclose(b, a, equal_nan=True), name
