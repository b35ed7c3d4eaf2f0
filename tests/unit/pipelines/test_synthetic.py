"""Synthetic book: the truth per horizon, and the random stream the other tables come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.sources.synthetic import generate

HORIZONS = [f"true_pd_{h}m" for h in range(1, 13)]
DISTRESS = [f"true_distress_{k}m" for k in range(1, 13)]
# content hashes of generate(300, 36, "2021-01-31", 42) before the truth had every horizon:
# adding the horizons must not move the one random stream (every table, the 12-month truth)
PINNED = {
    "customers": 10156689496295854707,
    # the ledger as drawn before the behaviours' own stream: the pay dates move, nothing else
    "invoices": 10930564447046038965,  # without paid_date, paid_amount
    "financials": 5221663110241251614,
    "events": 5159138955379878295,
    "industry_index": 17537444271842285935,
    "defaults": 1462685633061153613,
    "truth": 1563831711936828941,  # customer_id, as_of_date, true_pd_12m
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(300, 36, "2021-01-31", 42)


def _hash(frame: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(frame, index=False).sum())


@pytest.mark.parametrize("name", sorted(PINNED))
def test_tables_and_the_12_month_truth_are_unchanged(tables, name):
    frame = tables[name]
    if name == "truth":
        frame = frame[["customer_id", "as_of_date", "true_pd_12m"]]
    if name == "invoices":
        frame = frame.drop(columns=["paid_date", "paid_amount"])
    assert _hash(frame) == PINNED[name]


def test_truth_has_every_horizon_monotone(tables):
    truth = tables["truth"]
    assert list(truth.columns) == ["customer_id", "as_of_date", *HORIZONS, *DISTRESS]
    values = truth[HORIZONS].to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    assert (np.diff(values, axis=1) >= 0).all()
    # short horizons are rarer, and a month's PD is far below a year's
    means = values.mean(axis=0)
    assert means[0] < 0.25 * means[-1]


def test_a_distressed_customer_defaults_with_the_claim_two_months_on(tables):
    truth = tables["truth"]
    certain = truth[truth["true_pd_12m"] == 1.0]
    assert not certain.empty
    # distressed at t: certain at 3 months (claim at the end of month d + 2), never uncertain
    assert (certain["true_pd_3m"] == 1.0).all()
    assert certain["true_pd_1m"].isin([0.0, 1.0]).all()


def test_the_distress_curve_is_monotone_and_certain_once_distressed(tables):
    truth = tables["truth"]
    values = truth[DISTRESS].to_numpy()
    assert ((values >= 0) & (values <= 1)).all() and (np.diff(values, axis=1) >= 0).all()
    # a non-filer is distressed for two months before its claim: certain, and so is its PD
    distressed = truth["true_distress_1m"] == 1.0
    assert distressed.any() and (truth.loc[distressed, "true_pd_3m"] == 1.0).all()
    # a PD is the chance of distress, shifted by the claim's two months for non-filers
    assert (truth["true_pd_12m"] <= truth["true_distress_12m"] + 1e-12).all()


def test_truth_follows_the_seed():
    a = generate(60, 24, "2021-01-31", 7)["truth"]
    b = generate(60, 24, "2021-01-31", 7)["truth"]
    pd.testing.assert_frame_equal(a, b)
