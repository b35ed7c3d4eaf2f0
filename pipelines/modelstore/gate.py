"""The gate's checks: how a challenger is judged against the champion and the baseline.

Pure decisions on what the registry and the test window say; ``pipelines.promote`` moves the
aliases and records the outcome.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from models import backtest, metrics
from pipelines.book.rows import score_rows
from pipelines.io.artifacts import load_master_scale
from pipelines.io.files import StageError
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.modelstore.tags import GOVERNANCE
from pipelines.runtime.config import Config


def test_rows(paths: Paths) -> pd.DataFrame:
    """The labelled snapshots of the current test window, with defaults and non-defaults."""
    rows = window_rows(paths, ["test"])
    if rows["label"].nunique() < 2:
        raise StageError("the test window needs labelled rows with defaults and non-defaults")
    return rows


def assess(model: Any, rows: pd.DataFrame, cfg: Config, paths: Paths) -> dict[str, Any]:
    """Score ``rows`` with a registered pyfunc; return its AUC, calibration and back-test."""
    out = score_rows(rows, model)
    y, p = rows["label"].to_numpy(float), out["pd_12m"].to_numpy(float)
    customers = rows["customer_id"].to_numpy()
    e = cfg.evaluate
    table = backtest.grade_backtest(
        y,
        p,
        out["grade"].to_numpy(int),
        load_master_scale(paths.master_scale),
        customers,
        alpha=e.backtest_alpha,
        min_customers=e.backtest_min_customers,
    )
    return {
        "auc": metrics.auc(y, p),
        "ece": metrics.expected_calibration_error(y, p, e.calibration_bins),
        "ece_chance": backtest.chance_calibration_error(p, customers, e.calibration_bins),
        "mean_pd_gap": float(p.mean() / y.mean() - 1),
        "backtest": backtest.summarize_backtest(table, e.backtest_alpha),
    }


def decide(challenger: dict, champion: dict | None, cfg: Config) -> list[str]:
    """Reasons to refuse the challenger; empty when it may become champion."""
    rules, reasons = cfg.promote, []
    lead = challenger.get("baseline", {})
    if lead.get("auc_difference_ci_high", 0.0) < 0:
        reasons.append(
            f"it loses to the transparent baseline scorecard: AUC lead "
            f"{lead['auc_difference']:+.4f}, 95% interval [{lead['auc_difference_ci_low']:+.4f}, "
            f"{lead['auc_difference_ci_high']:+.4f}]"
        )
    if challenger["auc"] < rules.min_auc:
        reasons.append(f"AUC {challenger['auc']:.4f} is below the floor {rules.min_auc}")
    if champion is not None and challenger["auc"] < champion["auc"] - rules.auc_tolerance:
        reasons.append(
            f"AUC {challenger['auc']:.4f} is below the champion's {champion['auc']:.4f} by more "
            f"than the tolerance {rules.auc_tolerance}"
        )
    # a small test window's calibration error is mostly chance: refuse only beyond both
    chance = challenger.get("ece_chance", 0.0)
    if challenger["ece"] > max(rules.max_ece, chance):
        reasons.append(
            f"calibration error {challenger['ece']:.4f} exceeds {rules.max_ece} and what chance "
            f"gives on this test window ({chance:.4f})"
        )
    if abs(challenger["mean_pd_gap"]) > rules.max_mean_pd_gap:
        reasons.append(
            f"mean PD is {challenger['mean_pd_gap']:+.1%} off the observed default rate "
            f"(bound {rules.max_mean_pd_gap:.0%})"
        )
    bt = challenger["backtest"]
    if not bt["grades_consistent"]:
        reasons.append(f"grade back-test fails in grades {bt['grades_failed']}")
    if not bt["monotone"]:
        reasons.append(f"observed default rates are not monotone: {bt['monotonicity_breaks']}")
    return reasons


def incomplete(tags: dict[str, str]) -> list[str]:
    """Reasons to refuse a version that lacks governance tags (an interrupted register)."""
    missing = [t for t in GOVERNANCE if t not in tags]
    return (
        [f"the version lacks the governance tags {missing}: register it again"] if missing else []
    )


def baseline_lead(tags: dict[str, str]) -> dict[str, float]:
    """The challenger's AUC lead over the baseline scorecard and its interval (version tags)."""
    keys = ("auc_difference", "auc_difference_ci_low", "auc_difference_ci_high")
    return {k: float(tags[f"comparison.{k}"]) for k in keys if f"comparison.{k}" in tags}


def decision_tags(
    decision: str, reasons: list[str], found: dict, old: int | None, n_rows: int, now: str
) -> dict[str, str]:
    """The ``promotion.*`` tags of one decision."""
    c = found["challenger"]
    tags = {
        "promotion.decision": decision,
        "promotion.reasons": "; ".join(reasons) or "all checks passed",
        "promotion.decided_at": now,
        "promotion.champion_before": "none" if old is None else str(old),
        "promotion.test_rows": str(n_rows),
        "promotion.auc": f"{c['auc']:.6f}",
        "promotion.ece": f"{c['ece']:.6f}",
        "promotion.ece_chance": f"{c['ece_chance']:.6f}",
        "promotion.mean_pd_gap": f"{c['mean_pd_gap']:.6f}",
        "promotion.backtest_passed": str(c["backtest"]["passed"]).lower(),
    }
    if "champion" in found:
        tags["promotion.champion_auc"] = f"{found['champion']['auc']:.6f}"
    return tags
