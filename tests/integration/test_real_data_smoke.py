"""Smoke run of every public-data adapter end to end, on a small sample (bench/real_data.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipelines.sources.public import read_fama_french, real_industry_index

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"public data sets not found at {SHARED}"),
]


def test_each_adapter_runs_end_to_end_on_a_sample(tmp_path):
    out = tmp_path / "real_data.json"
    cmd = [sys.executable, "bench/real_data.py", "--sample", "2500", "--cv-folds", "2"]
    cmd += ["--out", str(out), "--sources"]
    cmd += ["taiwan_credit_default", "polish_bankruptcy", "ibm_ar_late_payment"]
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads(out.read_text())
    for source in ("taiwan_credit_default", "polish_bankruptcy"):
        r = results[source]
        # the gate judges a sample as it would a book: a refusal is a recorded outcome (the
        # champion-less run then stops at score, saying why); anything else must not stop it
        assert r["gate"] in ("promoted", "refused"), r
        if r["gate"] == "refused":
            assert r["gate_reasons"] and r["stopped"].startswith("score: model"), r
            assert "has no champion: the gate refused" in r["stopped"], r
        else:
            assert r["stopped"] is None, r
        assert r["rows"] > 1000 and r["positives"] > 50
        assert 0.6 < r["auc"] <= 1 and r["brier"] < 0.25
        # one date: also judged by cross-validation, the recipe and plain LightGBM alike
        assert r["cv_folds"] == 2 and 0.6 < r["cv_auc"] <= 1 and 0.6 < r["cv_plain_auc"] <= 1
        low, high = r["cv_auc_folds"]
        assert low <= r["cv_auc"] <= high and 0 <= r["cv_ece"] < 0.1
    ibm = results["ibm_ar_late_payment"]
    assert ibm["auc"] is None and ibm["positives"] == 0
    assert ibm["stopped"].startswith("split: no defaults in the labelled snapshots")
    assert "cv_auc" not in ibm  # nothing to cross-validate
    assert "data set" in done.stdout and "reference" in done.stdout  # the printed table


def test_real_industry_series_are_read_and_laid_on_the_calendar():
    returns = read_fama_french(SHARED / "industry_cycle" / "12_Industry_Portfolios.CSV")
    assert list(returns.columns[:3]) == ["NoDur", "Durbl", "Manuf"]
    assert returns.index.min() == pd.Timestamp("1926-07-31")
    months = pd.date_range("2021-01-31", periods=60, freq="ME")
    index = real_industry_index(SHARED / "industry_cycle", months, ["retail", "x"])
    assert len(index) == 120 and index["value"].notna().all()
    assert index.loc[index["industry"] == "retail", "value"].iloc[0] > 0
