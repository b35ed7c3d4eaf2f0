"""The industry cycle in the trained model: it is in, and a falling index hits cyclical sectors.

The synthetic book gives each sector a cyclicality: how much the cycle moves its customers'
default risk (``pipelines.sources.synthetic_world.INDUSTRIES``). A model that learnt the cycle
raises the PDs of the most cyclical sectors most when every sector's index falls.
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from features.build import FeatureSettings
from models.cycle import industry_gains, industry_stress
from pipelines.sources.synthetic_world import INDUSTRIES

CYCLICALITY = pd.Series({sector: cyc for sector, (cyc, _) in INDUSTRIES.items()})


def test_an_industry_cycle_feature_carries_weight(trained):
    gains = industry_gains(trained.model, trained.test).set_index("feature")
    relative = gains[gains["kind"] == "relative"]
    assert relative["in_model"].any()
    assert (relative["gain"] > 0).any() and (relative["mean_abs_contribution"] > 0).any()
    # the screen judges the levels only: every relative feature is in the model
    assert not set(relative.index) & set(trained.records["train"]["excluded_features"])


def stress(trained) -> pd.Series:
    lag = FeatureSettings().index_publication_lag_months
    table = industry_stress(trained.model, trained.test, trained.industry_index, lag, -1.0)
    return table.set_index("industry")["pd_change"]


def test_a_falling_index_raises_every_sector_s_pd(trained):
    change = stress(trained)
    assert (change > 0).all(), change.round(4).to_dict()


def test_a_falling_index_raises_the_pd_most_in_the_most_cyclical_sectors(trained):
    change = stress(trained)
    shown = change.round(4).to_dict()
    # robust to a tree's steps: the sector that moves most is among the three most cyclical,
    # and the ranking goes the generator's way (a flat region can hold one sector back)
    assert change.idxmax() in CYCLICALITY.nlargest(3).index, shown
    assert spearmanr(CYCLICALITY[change.index], change).statistic > 0, shown
