import math

import numpy as np
import pandas as pd
import pytest

from features.industry import (
    INDEX_FEATURES,
    LONG_RUN_MONTHS,
    add_industry_features,
    add_sector_default_rate,
    add_stressed_industry_features,
    index_features,
)
from features.timeline import month_end, month_index

JAN_2023 = 2023 * 12
COLUMNS = list(INDEX_FEATURES)


def index_table() -> pd.DataFrame:
    """Retail: 100, 110, ..., 330 for Jan 2023 .. Dec 2024 (month i -> 100 + 10 i); energy flat."""
    months = month_end(np.arange(JAN_2023, JAN_2023 + 24))
    retail = pd.DataFrame(
        {"industry": "retail", "month": months, "value": 100.0 + 10 * np.arange(24)}
    )
    energy = pd.DataFrame({"industry": "energy", "month": months[:3], "value": [50.0, 50.0, 50.0]})
    return pd.concat([energy, retail], ignore_index=True)


def snaps(*keys: tuple[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"industry": [k for k, _ in keys], "month": [m for _, m in keys]})


def row(frame: pd.DataFrame, i: int = 0) -> dict:
    return {c: frame[c].iloc[i] for c in COLUMNS}


@pytest.mark.parametrize(("lag", "used"), [(0, 12), (1, 11), (2, 10)])
def test_the_value_of_month_m_is_used_at_m_plus_lag(lag, used):
    got = add_industry_features(snaps(("retail", JAN_2023 + 12)), index_table(), lag)
    assert got["industry_index"].iloc[0] == 100.0 + 10 * used


@pytest.mark.parametrize(("lag", "known"), [(2, False), (1, True)])
def test_a_value_is_not_used_before_it_is_published(lag, known):
    # the first value (Jan 2023) is published at the end of Jan + lag
    got = add_industry_features(snaps(("retail", JAN_2023 + 1)), index_table(), lag)
    value = got["industry_index"].iloc[0]
    assert value == 100.0 if known else np.isnan(value)


def test_changes_and_positions_against_the_history():
    got = add_industry_features(snaps(("retail", JAN_2023 + 14)), index_table(), 2)
    # index month 12 (Jan 2024): value 220; 3 months before 190; 12 months before 100
    values = 100.0 + 10 * np.arange(13)
    z = (220.0 - values.mean()) / values.std(ddof=1)  # 60 / (10 * sqrt(182 / 12))
    assert row(got) == pytest.approx(
        {
            "industry_index": 220.0,
            "industry_index_chg_3m": 220 / 190 - 1,
            "industry_index_chg_12m": 1.2,
            "industry_index_z": z,
            "industry_index_vs_history": 220 / 160 - 1,  # mean of 100 .. 220
            "industry_index_pct": 1.0,  # the highest of its history
        }
    )
    assert z == pytest.approx(60 / (10 * math.sqrt(182 / 12)))


@pytest.mark.parametrize(
    ("last", "pct"),
    [(50.0, 0.0), (300.0, 1.0), (125.0, 3 / 12), (120.0, 2.5 / 12)],  # 120: a tie counts half
)
def test_percentile_is_the_share_of_the_history_below(last, pct):
    series = pd.Series([*(100.0 + 10 * np.arange(12)), last])
    assert index_features(series)["industry_index_pct"].iat[-1] == pytest.approx(pct)


def test_a_flat_index_sits_in_the_middle_of_its_history():
    got = index_features(pd.Series([50.0] * 14))
    assert got["industry_index_pct"].iat[-1] == 0.5
    assert got["industry_index_vs_history"].iat[-1] == 0.0


def test_the_history_is_the_trailing_long_run_window():
    # a crash long ago leaves the window: afterwards the position uses only the last 10 years
    values = np.r_[10.0, np.full(LONG_RUN_MONTHS - 1, 100.0), 100.0]
    got = index_features(pd.Series(values))
    assert got["industry_index_vs_history"].iat[-2] > 0  # the crash is in the window
    assert got["industry_index_vs_history"].iat[-1] == 0.0  # it has left
    assert got["industry_index_pct"].iat[-1] == 0.5


def test_positions_against_the_history_use_no_later_value():
    series = pd.Series(100.0 + 10 * np.arange(30))
    changed = series.copy()
    changed.iloc[20:] = 5.0
    pd.testing.assert_frame_equal(
        index_features(series).iloc[:20], index_features(changed).iloc[:20]
    )


@pytest.mark.parametrize(("index_month", "has_z"), [(10, False), (11, True)])
@pytest.mark.parametrize(
    "name", ["industry_index_z", "industry_index_vs_history", "industry_index_pct"]
)
def test_positions_need_twelve_months_of_history(index_month, has_z, name):
    got = add_industry_features(snaps(("retail", JAN_2023 + index_month)), index_table(), 0)
    assert bool(np.isnan(got[name].iloc[0])) is not has_z


def test_short_histories_give_missing_changes():
    got = add_industry_features(
        snaps(("retail", JAN_2023 + 2), ("energy", JAN_2023 + 2)), index_table(), 0
    )
    assert np.isnan(got["industry_index_chg_3m"]).all()
    assert np.isnan(got["industry_index_chg_12m"]).all()
    got = add_industry_features(snaps(("energy", JAN_2023 + 2)), index_table(), 0)
    assert got["industry_index"].iloc[0] == 50.0


def test_a_gap_in_the_index_is_missing_not_the_previous_value():
    table = index_table()
    gap = month_end(JAN_2023 + 5)[0]
    table = table[~((table["industry"] == "retail") & (table["month"] == gap))]
    got = add_industry_features(snaps(("retail", JAN_2023 + 5), ("retail", JAN_2023 + 8)), table, 0)
    assert np.isnan(got["industry_index"].iloc[0])
    assert np.isnan(got["industry_index_chg_3m"].iloc[1])  # 180 / missing
    assert got["industry_index"].iloc[1] == 180.0


def test_sectors_are_kept_apart_and_unknown_sectors_are_missing():
    got = add_industry_features(
        snaps(("energy", JAN_2023 + 1), ("retail", JAN_2023 + 1), ("mining", JAN_2023 + 1)),
        index_table(),
        0,
    )
    assert got["industry_index"].iloc[:2].tolist() == [50.0, 110.0]
    assert all(np.isnan(v) for v in row(got, 2).values())


def test_industry_features_keep_the_input():
    frame = snaps(("retail", JAN_2023 + 14), ("energy", JAN_2023 + 1))
    frame.index = [7, 3]
    before = frame.copy()
    got = add_industry_features(frame, index_table(), 2)
    pd.testing.assert_frame_equal(frame, before)
    assert list(got.index) == [7, 3] and list(got.columns) == ["industry", "month", *COLUMNS]
    assert got["industry_index"].iloc[0] == 220.0


@pytest.mark.parametrize("name", ["industry", "month"])
def test_industry_snapshots_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_industry_features(snaps(("retail", JAN_2023)).drop(columns=name), index_table(), 0)


@pytest.mark.parametrize("name", ["industry", "month", "value"])
def test_industry_index_requires_columns(name):
    with pytest.raises(KeyError, match=name):
        add_industry_features(snaps(("retail", JAN_2023)), index_table().drop(columns=name), 0)


def test_a_shock_moves_the_latest_published_value_by_the_sectors_standard_deviation():
    table = index_table()
    frame = snaps(("retail", JAN_2023 + 14), ("retail", JAN_2023 + 20), ("energy", JAN_2023 + 2))
    frame.index = [4, 2, 9]
    before = frame.copy()
    base = add_industry_features(frame, table, 2)
    got = add_stressed_industry_features(frame, table, 2, shock_sd=-1.0)
    sd = (100.0 + 10 * np.arange(24)).std(ddof=1)
    assert list(got.index) == [4, 2, 9] and list(got.columns) == list(base.columns)
    assert got["industry_index"].tolist() == pytest.approx([220.0 - sd, 280.0 - sd, 50.0])
    # every snapshot month shocks only its own latest value: 3 months back is unchanged
    assert got["industry_index_chg_3m"].iat[1] == pytest.approx((280.0 - sd) / 250 - 1)
    assert got["industry_index_pct"].iat[0] < base["industry_index_pct"].iat[0]
    assert (got["industry_index_z"].iloc[:2] < base["industry_index_z"].iloc[:2]).all()
    assert np.isnan(got["industry_index_z"].iat[2])  # energy: too short a history
    pd.testing.assert_frame_equal(frame, before)


JUNE_2024 = int(month_index(pd.DatetimeIndex(["2024-06-30"]))[0])


def sector_inputs(default_dates: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E", "F", "G"],
            "industry": ["retail"] * 4 + ["energy"] * 3,
        }
    )
    snapshots = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "E", "F"],
            "industry": ["retail", "retail", "retail", "energy", "energy"],
            "month": JUNE_2024,
        }
    )
    defaults = pd.DataFrame(
        {"customer_id": ["D"] * len(default_dates), "default_date": pd.to_datetime(default_dates)}
    )
    return snapshots, defaults, customers


@pytest.mark.parametrize(
    ("default_date", "rate"),
    [
        ("2024-03-10", 0.25),  # 1 default / (3 in the book + 1 default)
        ("2024-06-30", 0.25),  # the snapshot month counts
        ("2023-07-01", 0.25),  # 11 months back: inside (t - 12 months, t]
        ("2023-06-15", 0.0),  # 12 months back: outside
        ("2024-07-01", 0.0),  # after t
    ],
)
def test_sector_default_rate_window(default_date, rate):
    got = add_sector_default_rate(*sector_inputs([default_date]))
    assert got["sector_default_rate_12m"].tolist() == [rate, rate, rate, 0.0, 0.0]


def test_sector_default_rate_counts_every_default():
    snapshots, defaults, customers = sector_inputs(["2024-01-31", "2024-05-31"])
    defaults.loc[1, "customer_id"] = "G"  # an energy default
    got = add_sector_default_rate(snapshots, defaults, customers)
    assert got["sector_default_rate_12m"].tolist() == [0.25, 0.25, 0.25, 1 / 3, 1 / 3]
    assert "sector_default_rate_12m" not in snapshots
    # the book: 2 defaults / (5 in the book + 2)
    assert got["sector_default_rate_vs_book"].tolist() == pytest.approx(
        [0.25 * 7 / 2] * 3 + [7 / 6] * 2
    )


@pytest.mark.parametrize(("default_date", "ratio"), [("2024-03-10", 1.5), ("2023-06-15", None)])
def test_sector_default_rate_against_the_book(default_date, ratio):
    # one retail default: retail 1 / 4, book 1 / 6, energy 0; none in the 12 months: missing
    got = add_sector_default_rate(*sector_inputs([default_date]))["sector_default_rate_vs_book"]
    if ratio is None:
        assert got.isna().all()
    else:
        assert got.tolist() == pytest.approx([ratio] * 3 + [0.0] * 2)


@pytest.mark.parametrize("name", ["industry", "month"])
def test_sector_default_rate_requires_snapshot_columns(name):
    snapshots, defaults, customers = sector_inputs(["2024-03-10"])
    with pytest.raises(KeyError, match=name):
        add_sector_default_rate(snapshots.drop(columns=name), defaults, customers)


@pytest.mark.parametrize("name", ["customer_id", "default_date"])
def test_sector_default_rate_requires_default_columns(name):
    snapshots, defaults, customers = sector_inputs(["2024-03-10"])
    with pytest.raises(KeyError, match=name):
        add_sector_default_rate(snapshots, defaults.drop(columns=name), customers)


@pytest.mark.parametrize("name", ["customer_id", "industry"])
def test_sector_default_rate_requires_customer_columns(name):
    snapshots, defaults, customers = sector_inputs(["2024-03-10"])
    with pytest.raises(KeyError, match=name):
        add_sector_default_rate(snapshots, defaults, customers.drop(columns=name))
