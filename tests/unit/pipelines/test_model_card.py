import pandas as pd
import pytest

from pipelines.render.card import render, table
from pipelines.runtime.config import Config

HEADLINE = {
    "auc": 0.747, "auc_ci_low": 0.72, "auc_ci_high": 0.77, "gini": 0.494, "ks": 0.37,
    "pr_auc": 0.25, "brier": 0.0575, "ece": 0.007, "top_decile_lift": 3.6,
    "top_decile_capture": 0.36, "mean_pd": 0.064,
}  # fmt: skip


def inputs(synthetic: bool = True) -> dict:
    window = {"as_of": "2021-06-30 .. 2022-02-28", "rows": 100, "customers": 40, "defaults": 7}
    trial = {"max_depth": 3, "num_leaves": 7, "min_child_samples": 600, "learning_rate": 0.02,
             "best_iteration": 518, "valid_auc": 0.7786, "chosen": True}  # fmt: skip
    grades = pd.DataFrame(
        {
            "grade": [4, 5], "label": ["moderate", "acceptable"], "pd_lower": [0.01, 0.02],
            "pd_upper": [0.02, 0.04], "count": [100, 200], "customers": [40, 90],
            "defaults": [2, 6], "observed_rate": [0.02, 0.03], "mean_pd": [0.015, 0.028],
            "ci_lower": [0.001, 0.01], "ci_upper": [0.08, 0.07], "p_value": [0.6, 0.8],
            "passed": [True, True], "few_customers": [False, False],
        }
    )  # fmt: skip
    return {
        "manifest": {"source": "synthetic" if synthetic else "folder", "as_of_date": "2025-12-31"},
        "features": {"customers": 4877, "defaults_by_trigger": {"days_past_due": 5},
                     "horizon_months": 12},  # fmt: skip
        "windows": {"train": window, "calibration": window, "test": window,
                    "strategy": "out_of_time", "embargo_months": 12},  # fmt: skip
        "train": {
            "features": ["days_late_wavg_12m", "debt_ratio"],
            "excluded_features": {"industry_index": 0.95},
            "params": {"max_depth": 3, "num_leaves": 7, "min_data_in_leaf": 600,
                       "learning_rate": 0.02},  # fmt: skip
            "best_iteration": 518,
            "valid_auc": 0.7786,
            "search": {"grid": {"max_depth": [2, 3]}, "auc_tolerance": 0.005, "rule": "r",
                       "trials": [trial, {**trial, "max_depth": 2, "chosen": False}]},
        },  # fmt: skip
        "baseline": {"scorecard": {"features": ["debt_ratio"], "dropped_sign": ["x"]}},
        "calibration": {"method": "isotonic", "cv_brier": {"isotonic": 0.0579, "platt": 0.058}},
        "calibrator": {"pd_floor": 0.0003},
        "metrics": {
            "test": {**HEADLINE, "n_rows": 100, "n_defaults": 7, "default_rate": 0.07,
                     "oracle_auc": 0.78},  # fmt: skip
            "baseline": {"test": {**HEADLINE, "auc": 0.745}, "backtest": {"passed": False}},
            "comparison": {"auc_difference": 0.002, "auc_difference_ci_low": -0.007,
                           "auc_difference_ci_high": 0.011},  # fmt: skip
            "backtest": {"passed": True, "grades_failed": "", "monotone": True,
                         "monotonicity_breaks": ""},  # fmt: skip
            "stability": {"model_score_psi": 0.04, "model_score_band": "stable",
                          "baseline_score_psi": 0.05, "baseline_score_band": "stable",
                          "features_stable": 1, "features_watch": 1, "features_shift": 0},
        },  # fmt: skip
        "validation": {"success": True, "rows_rejected": 0},
        "registry": {"model_name": "trade-credit-pd", "model_version": 7, "run_id": "abc",
                     "model_uri": "models:/trade-credit-pd/7", "alias": "challenger"},
        "grades": grades,
        "psi": pd.DataFrame(
            {"feature": ["debt_ratio", "days_late_wavg_12m"], "psi": [0.12, 0.01],
             "band": ["watch", "stable"]}
        ),
    }  # fmt: skip


TAGS = {"git_commit": "0123abc", "data_md5.customers": "f00", "metrics.test.auc": "0.747"}


def test_the_card_has_every_section_a_reviewer_asks_for():
    card = render(inputs(), TAGS, Config())
    for heading in (
        "# Model card: trade-credit-pd version 7",
        "## Purpose and intended use",
        "## Default definition and horizon",
        "## Data",
        "## Features",
        "## Training and calibration",
        "## Performance on the test window",
        "## Grade back-test (test window)",
        "## Stability (training window -> test window)",
        "## Known limitations",
    ):
        assert heading in card, heading
    assert "`0123abc`" in card and "| customers | `f00` |" in card
    assert "uncommitted" not in card
    assert "uncommitted changes" in render(inputs(), TAGS | {"git_dirty": "true"}, Config())
    assert "metrics.test.auc" not in card  # only data hashes in the hash table
    assert "| AUC | 0.747 | 0.745 |" in card and "oracle (true PD)" in card
    assert "+0.002 [-0.007, +0.011]" in card
    assert "`industry_index` (0.95)" in card and "**chosen**" in card
    assert "| 4 | moderate |" in card and "Verdict: passed" in card
    assert "| `debt_ratio` | 0.120 | watch |" in card
    assert "synthetic book" in card and "within the bootstrap interval" in card
    assert "90+ days past due" in card and "12 months" in card
    assert "| train | 2021-06-30 .. 2022-02-28 | 100 | 40 | 7 |" in card
    assert "The training window is 9 months" in card and "12 months of embargo" in card


def test_limitations_follow_the_run():
    d = inputs(synthetic=False)
    d["metrics"]["comparison"]["auc_difference_ci_low"] = 0.001
    card = render(d, TAGS, Config())
    assert "synthetic book" not in card and "within the bootstrap interval" not in card


def test_a_split_by_customer_has_no_dates():
    d = inputs()
    d["windows"] = {
        "strategy": "by_customer",
        **{
            w: {"rows": 10, "customers": 10, "defaults": 1}
            for w in ("train", "calibration", "test")
        },
    }
    card = render(d, TAGS, Config())
    assert "disjoint sets of customers" in card and "| train | - | 10 | 10 | 1 |" in card
    assert "The training window is" not in card


@pytest.mark.parametrize(("headers", "rows"), [(["a", "b"], [(1, 2), (3, 4)]), (["a"], [])])
def test_markdown_table(headers, rows):
    lines = table(headers, rows)
    assert lines[0] == "| " + " | ".join(headers) + " |"
    assert len(lines) == 2 + len(rows)


def test_the_term_structure_section_lists_each_horizon_in_order():
    from pipelines.render.card import term_structure_section

    row = {"auc": 0.8, "brier": 0.01, "ece": 0.002, "mean_pd": 0.02,
           "backtest": {"passed": True, "grades_failed": []}}  # fmt: skip
    per_horizon = {f"{h}m": {"default_rate": 0.02, "model": row, "direct": row} for h in (12, 1, 3)}
    metrics = {"horizons": {
        "fitted": True, "per_horizon": per_horizon,
        "fit": {"person_periods": 12345, "events": 67, "observed_until": "2024-07-31"},
        "auc_differences": {"3m model - direct": {"mean": -0.001, "interval_95": [-0.01, 0.008]}},
    }}  # fmt: skip
    text = "\n".join(term_structure_section({"metrics": metrics}))
    assert text.index("| 1m |") < text.index("| 3m |") < text.index("| 12m |")
    assert "12,345 of them" in text and "3m model - direct: -0.0010 [-0.0100, +0.0080]" in text
    missing = term_structure_section({"metrics": {"horizons": {"fitted": False, "reason": "few"}}})
    assert missing[-1] == "Not fitted: few."
