import numpy as np
import pandas as pd
import pytest

from features.industry import INDEX_FEATURES, add_industry_features
from features.timeline import month_end
from models.cycle import STRESS_COLUMNS, industry_gains, industry_stress

BASE = 2020 * 12
FEATURES = ["industry_index_vs_history", "industry_index_z", "days_late_wavg_12m"]
AMPLITUDE = {"calm": 0.03, "wild": 0.3}  # how far each sector's index swings


def index_table() -> pd.DataFrame:
    months = np.arange(48)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "industry": sector,
                    "month": month_end(BASE + months),
                    "value": 100 * np.exp(amplitude * np.sin(2 * np.pi * months / 24)),
                }
            )
            for sector, amplitude in AMPLITUDE.items()
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def index() -> pd.DataFrame:
    return index_table()


@pytest.fixture(scope="module")
def rows(index) -> pd.DataFrame:
    """30 customers per sector and month; the risk falls as the index rises above its mean."""
    rng = np.random.default_rng(3)
    keys = pd.MultiIndex.from_product([list(AMPLITUDE), BASE + np.arange(20, 48), range(30)])
    frame = keys.to_frame(index=False, name=["industry", "month", "k"]).drop(columns="k")
    frame = add_industry_features(frame, index, publication_lag_months=1)
    frame["days_late_wavg_12m"] = rng.normal(size=len(frame))
    logit = -2.5 - 8 * frame["industry_index_vs_history"] + frame["days_late_wavg_12m"]
    frame["label"] = (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


@pytest.fixture(scope="module")
def model(rows, tiny_pd_model):
    model, _ = tiny_pd_model(
        train=(rows[FEATURES], rows["label"]), num_boost_round=60, monotone=True
    )
    return model


def test_the_most_volatile_sector_moves_most(model, rows, index):
    got = industry_stress(model, rows, index, publication_lag_months=1, shock_sd=-1.0)
    assert list(got.columns) == STRESS_COLUMNS
    assert got["industry"].tolist() == ["wild", "calm"]  # largest change first
    assert (got["pd_change"] > 0).all()
    assert got["pd_change"].iat[0] > 3 * got["pd_change"].iat[1]
    assert got["rows"].tolist() == [28 * 30, 28 * 30]
    sd = index.groupby("industry")["value"].std()
    assert got.set_index("industry")["index_sd"].to_dict() == pytest.approx(sd.to_dict())
    relative = got["pd_change"] / got["mean_pd"]
    assert got["pd_change_relative"].to_numpy() == pytest.approx(relative.to_numpy())


def test_no_shock_changes_no_pd(model, rows, index):
    got = industry_stress(model, rows, index, publication_lag_months=1, shock_sd=0.0)
    assert (got["pd_change"] == 0).all()
    assert (got["mean_pd"] == got["stressed_mean_pd"]).all()


def test_the_stress_keeps_the_rows(model, rows, index):
    before = rows.copy()
    industry_stress(model, rows, index, publication_lag_months=1, shock_sd=-1.0)
    pd.testing.assert_frame_equal(rows, before)


def test_gains_of_every_industry_feature_present(model, rows):
    got = industry_gains(model, rows)
    present = [n for n in INDEX_FEATURES if n in rows]
    assert got["feature"].tolist() == present  # catalogue order; no customer feature
    by_name = got.set_index("feature")
    assert by_name.loc["industry_index_vs_history", "in_model"]
    assert by_name.loc["industry_index_vs_history", "gain"] > 0
    assert by_name.loc["industry_index_vs_history", "mean_abs_contribution"] > 0
    left_out = by_name.loc["industry_index"]  # in the rows, not in the model
    assert not left_out["in_model"] and left_out["gain"] == 0
    assert left_out["mean_abs_contribution"] == 0
    assert by_name.loc["industry_index", "kind"] == "level"
    assert by_name.loc["industry_index_z", "kind"] == "relative"
    total = model.booster.feature_importance("gain").sum()
    assert by_name["gain_share"].sum() == pytest.approx(by_name["gain"].sum() / total)
    assert by_name["gain_share"].sum() < 1  # days late carries the rest
