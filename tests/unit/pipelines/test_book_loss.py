"""The book's loss distribution for the summary (pipelines/book/loss.py), on a hand-made book."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.book.loss import loss_summary
from pipelines.runtime.config import LossDistributionConfig

OPTS = LossDistributionConfig(scenarios=2000, top_contributors=3)


def _book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E", "F"],
            "status": ["scored", "scored", "scored", "scored", "in_default", "rejected"],
            "grade": [3, 8, 9, 5, None, None],
            "industry": ["retail", "retail", "energy", "energy", "retail", "energy"],
            "pd_12m": [0.01, 0.2, 0.4, 0.05, None, None],
            "exposure": [10_000.0, 50_000.0, 80_000.0, 0.0, 30_000.0, 99_000.0],
            "current_limit": [20_000.0, 60_000.0, 100_000.0, 5_000.0, None, None],
            "recommended_limit": [20_000.0, 20_000.0, 90_000.0, 1_000.0, None, None],
            "action_codes": [
                "",
                "start_collection_early; reduce_limit",
                "",
                "reduce_limit",
                "",
                "",
            ],
        }
    )


def test_figures_add_up_and_the_defaulted_loss_is_certain() -> None:
    out = loss_summary(_book(), 0.5, OPTS)
    assert out["customers"] == 4  # D has no exposure, F is not in the book's risk
    assert out["defaulted_loss"] == 15_000.0
    expected = 0.5 * (0.01 * 10_000 + 0.2 * 50_000 + 0.4 * 80_000) + 15_000
    assert out["expected_loss"] == pytest.approx(expected, abs=0.05)
    assert out["var_99"] <= out["var_99_9"] <= out["es_99_9"]
    assert out["var_99"] >= out["defaulted_loss"]
    assert sum(s["es_99_9"] for s in out["by_sector"]) == pytest.approx(out["es_99_9"], abs=0.05)
    assert {s["sector"] for s in out["by_sector"]} == {"retail", "energy"}
    assert out["hhi"] == pytest.approx((1 + 25 + 64 + 9) / 170**2 * 100, abs=1e-6)
    assert out["top_10_share"] == 1.0


def test_top_contributors_are_performing_customers() -> None:
    out = loss_summary(_book(), 0.5, OPTS)
    assert [c["customer_id"] for c in out["top_contributors"]][:2] == ["C", "B"]
    assert "E" not in {c["customer_id"] for c in out["top_contributors"]}


def test_limit_cuts_cap_only_where_the_policy_reduces_the_limit() -> None:
    out = loss_summary(_book(), 0.5, OPTS)
    # B (reduce_limit) owes at most 20,000; C is below its limit without the action; D owes 0
    assert out["limit_cuts"]["customers"] == 1
    assert out["limit_cuts"]["exposure_removed"] == 30_000.0
    assert out["limit_cuts"]["after_es_99_9"] < out["es_99_9"]


def test_a_book_without_sectors_or_limits() -> None:
    book = _book().drop(columns=["industry", "recommended_limit"])
    out = loss_summary(book, 0.5, OPTS)
    assert out["by_sector"] == []
    assert out["limit_cuts"]["customers"] == 0
    assert out["limit_cuts"]["after_es_99_9"] == out["es_99_9"]
