"""The book's outlook for the summary (pipelines/book/outlook.py), on a hand-made book."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from pipelines.book.outlook import outlook_summary
from pipelines.runtime.config import LossDistributionConfig, OutlookConfig

OPTS = OutlookConfig(scenarios=500, observed_months=2)
AS_OF = pd.Timestamp("2024-12-31")


def _book() -> pd.DataFrame:
    pd_12m = pd.Series([0.02, 0.1, 0.3, 0.05, None])
    terms = {f"pd_{k}m": 1 - (1 - pd_12m) ** (k / 12) for k in (3, 6, 12)}
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "status": ["scored", "scored", "scored", "scored", "in_default"],
            "region": ["North", "North", "South", "South", "South"],
            "industry": ["retail", "energy", "energy", "retail", "retail"],
            **terms,
        }
    )


def _history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """November and October snapshots of A-E; E defaulted in December (after November's)."""
    rows = [
        {"customer_id": c, "as_of_date": d, "region": r, "industry": "retail"}
        for d in (pd.Timestamp("2024-10-31"), pd.Timestamp("2024-11-30"))
        for c, r in zip("ABCDE", ["North", "North", "South", "South", "South"], strict=True)
    ]
    defaults = pd.DataFrame({"customer_id": ["E"], "default_date": [pd.Timestamp("2024-12-10")]})
    return pd.DataFrame(rows), defaults


def test_outlook_per_region_sector_and_book_beside_the_observed_rate() -> None:
    snapshots, defaults = _history()
    block = outlook_summary(_book(), snapshots, defaults, AS_OF, OPTS, LossDistributionConfig())
    out = block["outlook"]
    assert out["horizons"] == [3, 6] and out["level"] == 0.9
    groups = {(g["grouping"], g["group"]): g for g in out["groups"]}
    assert set(groups) == {
        ("book", "All"), ("region", "North"), ("region", "South"),
        ("industry", "energy"), ("industry", "retail"),
    }  # fmt: skip
    south = groups[("region", "South")]
    assert south["customers"] == 2  # E is in default: not in the outlook
    book = _book()
    expected = book.loc[book["customer_id"].isin(["C", "D"]), "pd_3m"].sum()
    assert south["3m"]["expected_defaults"] == pytest.approx(expected, abs=1e-6)
    # South: 3 customers at risk in each of October and November, E defaulted in December
    assert south["3m"]["observed_rate"] == pytest.approx(1 - (1 - 1 / 6) ** 3, abs=1e-6)
    assert groups[("region", "North")]["6m"]["observed_rate"] == 0
    assert south["6m"]["low"] <= south["6m"]["expected_defaults"] <= south["6m"]["high"]
    json.dumps(block, allow_nan=False)  # missing figures are null, never NaN


def test_a_book_without_the_term_structure_has_no_outlook(caplog) -> None:
    snapshots, defaults = _history()
    book = _book().drop(columns=["pd_3m", "pd_6m"])
    with caplog.at_level(logging.INFO, logger="pipelines.score"):
        block = outlook_summary(book, snapshots, defaults, AS_OF, OPTS, LossDistributionConfig())
    assert block == {}
    assert "no outlook" in caplog.text and "pd_3m" in caplog.text


def test_a_group_nobody_was_at_risk_in_has_no_observed_rate() -> None:
    snapshots, defaults = _history()
    book = _book().assign(region=["North", "North", "West", "South", "South"])
    block = outlook_summary(book, snapshots, defaults, AS_OF, OPTS, LossDistributionConfig())
    west = next(g for g in block["outlook"]["groups"] if g["group"] == "West")
    assert west["3m"]["observed_rate"] is None
    assert west["customers"] == 1


def test_the_outlooks_own_correlation_overrides_the_loss_distributions() -> None:
    snapshots, defaults = _history()
    book = pd.concat([_book()] * 50, ignore_index=True).assign(
        customer_id=lambda f: [f"X{i}" for i in range(len(f))]
    )
    loss = LossDistributionConfig(asset_correlation=0.2)
    wide, narrow = (
        outlook_summary(book, snapshots, defaults, AS_OF, OPTS.model_copy(update=u), loss)
        for u in ({}, {"asset_correlation": 0.01})
    )
    assert wide["outlook"]["asset_correlation"] == 0.2
    assert narrow["outlook"]["asset_correlation"] == 0.01
    width = [b["outlook"]["groups"][0]["6m"] for b in (wide, narrow)]
    assert width[1]["high"] - width[1]["low"] < width[0]["high"] - width[0]["low"]
