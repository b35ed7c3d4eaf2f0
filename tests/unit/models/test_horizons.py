"""The term structure judged per horizon: rows, outcomes, left-out horizons, targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models import horizons
from models.master_scale import MasterScale
from pipelines.io.artifacts import load_master_scale

REPO = Path(__file__).resolve().parents[3]


def _rows(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = rng.random(n)
    months = rng.integers(1, 25, n)
    defaults = rng.random(n) < 0.3 * risk
    as_of = pd.Timestamp("2023-06-30")
    rows = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)], "as_of_date": as_of,
        "default_date": (as_of + pd.to_timedelta(months * 30, "D")).where(defaults),
    })  # fmt: skip
    return rows, risk


def scale() -> MasterScale:
    return load_master_scale(REPO / "configs" / "master_scale.yaml")


def test_each_horizon_scores_every_model_on_the_same_known_rows():
    rows, risk = _rows()
    y = horizons.outcomes(rows, [3, 12], pd.Timestamp("2024-06-30"))
    assert set(np.unique(y[12][~np.isnan(y[12])])) == {0.0, 1.0}
    assert (y[3] <= y[12]).all()  # defaulting within 3 months is defaulting within 12
    p = {3: 0.05 * risk + 0.01, 12: 0.2 * risk + 0.01}
    table = horizons.per_horizon(
        rows, y, {"model": p, "flat": {3: np.full(400, 0.05)}}, scale(), 5, 0.01
    )
    assert set(table) == {"3m", "12m"} and "flat" not in table["12m"]
    assert table["3m"]["model"]["auc"] > 0.6 and table["3m"]["flat"]["auc"] == 0.5
    assert table["12m"]["default_rate"] == np.nanmean(y[12])


def test_a_horizon_without_known_outcomes_is_left_out():
    rows, risk = _rows()
    y = horizons.outcomes(rows, [6], pd.Timestamp("2023-09-30"))  # 3 months observed only
    assert np.isnan(y[6]).all()
    assert horizons.per_horizon(rows, y, {"model": {6: risk}}, scale(), 5, 0.01) == {}
    pairs = {6: [("model", "other")]}
    assert (
        horizons.auc_differences(rows, y, {"model": {6: risk}, "other": {6: risk}}, pairs, 20, 0)
        == {}
    )


def test_targets_read_the_table():
    row = {"default_rate": 0.02, "model": {"auc": 0.80, "ece": 0.01},
           "direct": {"auc": 0.81}, "oracle": {"auc": 0.85}}  # fmt: skip
    checks = horizons.targets({"3m": row})["3m"]
    assert checks == {
        "ece_below_0_02": True, "auc_within_0_005_of_direct": False,
        "auc_at_least_0_95_oracle": False,
    }  # fmt: skip
