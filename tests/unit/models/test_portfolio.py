import numpy as np
import pandas as pd
import pytest

from models import portfolio

NOV, DEC = pd.Timestamp("2025-11-30"), pd.Timestamp("2025-12-31")


def book(rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(
        rows,
        columns=["customer_id", "status", "grade", "pd_12m", "exposure", "expected_loss",
                 "industry", "region"],
    )  # fmt: skip
    return out.assign(grade=out["grade"].astype("Int64"))


def november() -> pd.DataFrame:
    return book(
        [
            ("A", "scored", 1, 0.002, 100.0, 0.1, "retail", "north"),
            ("B", "scored", 2, 0.004, 200.0, 0.4, "retail", "south"),
            ("C", "scored", 3, 0.3, 300.0, 40.0, "energy", "north"),
            ("D", "scored", 2, 0.004, 50.0, 0.1, "energy", "south"),
        ]
    )


def december() -> pd.DataFrame:
    frame = book(
        [
            ("A", "scored", 3, 0.2, 100.0, 9.0, "retail", "north"),
            ("B", "scored", 2, 0.004, 300.0, 0.5, "retail", "south"),
            ("C", "in_default", pd.NA, np.nan, np.nan, np.nan, "energy", "north"),
            ("E", "scored", 1, 0.001, 600.0, 0.3, "energy", "south"),
        ]
    )
    return frame.assign(pd_change=[0.198, 0.0, np.nan, np.nan])


def test_headline():
    got = portfolio.headline(december(), high_risk_grade=3)
    assert got["customers"] == 3 and got["in_default"] == 1 and got["not_scored"] == 1
    assert got["exposure"] == 1000 and got["expected_loss"] == pytest.approx(9.8)
    assert got["high_risk_share"] == pytest.approx(1 / 3)
    assert got["high_risk_exposure_share"] == pytest.approx(0.1)


def test_grade_distribution_now_and_before():
    got = portfolio.grade_distribution(december(), november(), [1, 2, 3])
    assert got["count"].tolist() == [1, 1, 1] and got["previous_count"].tolist() == [1, 2, 1]
    assert got["previous_share"].tolist() == [0.25, 0.5, 0.25]
    assert got["exposure"].tolist() == [600.0, 300.0, 100.0]
    assert portfolio.grade_distribution(december(), None, [1, 2, 3])["previous_share"].isna().all()


def test_migration_matrix():
    got = portfolio.migration_matrix(november(), december(), [1, 2, 3])
    assert list(got.index) == [1, 2, 3, "new"]
    assert list(got.columns) == [1, 2, 3, "default", "exited"]
    assert got.loc[1, 3] == 1  # A: 1 -> 3
    assert got.loc[2, 2] == 1 and got.loc[2, "exited"] == 1  # B stays, D left the book
    assert got.loc[3, "default"] == 1  # C defaulted
    assert got.loc["new", 1] == 1  # E is new
    assert got.to_numpy().sum() == 5


def test_loss_by_sector():
    got = portfolio.loss_by(december(), "industry")
    assert list(got.index) == ["retail", "energy"]
    assert got.loc["retail", "expected_loss"] == 9.5 and got.loc["retail", "customers"] == 2
    assert got.loc["energy", "loss_rate"] == pytest.approx(0.3 / 600)


def test_risk_map_mean_pd_and_observed_rate():
    labels = pd.DataFrame(
        {
            "as_of_date": [pd.Timestamp("2024-12-31")] * 4 + [pd.Timestamp("2024-11-30")] * 2,
            "region": ["north", "north", "south", "south", "north", "south"],
            "label": [1.0, 0.0, 0.0, np.nan, 1.0, 1.0],
        }
    )
    mean_pd, observed = portfolio.risk_map({NOV: november(), DEC: december()}, labels, 12)
    assert list(mean_pd.index) == ["north", "south", "All"] and list(mean_pd.columns) == [NOV, DEC]
    assert mean_pd.loc["north", DEC] == pytest.approx(0.2)
    assert mean_pd.loc["All", NOV] == pytest.approx((0.002 + 0.004 + 0.3 + 0.004) / 4)
    # December: customers snapshotted 12 months earlier; an unknown label does not count
    assert observed.loc["north", DEC] == 0.5 and observed.loc["south", DEC] == 0.0
    assert observed.loc["All", DEC] == pytest.approx(1 / 3)
    assert observed.loc["All", NOV] == 1.0


def test_top_movers():
    got = portfolio.top_movers(december(), 5)
    assert got["customer_id"].tolist() == ["A"]


def test_a_book_without_status_is_an_error():
    with pytest.raises(KeyError, match="status"):
        portfolio.headline(december().drop(columns="status"), 3)


def test_loss_by_counts_the_defaulted_exposure_and_the_share():
    frame = december()
    frame.loc[frame["customer_id"] == "C", ["exposure", "expected_loss"]] = [1000.0, 450.0]
    got = portfolio.loss_by(frame, "industry")
    assert list(got.index) == ["energy", "retail"]  # C's loss in recovery counts
    assert got.loc["energy", "exposure"] == 1600 and got.loc["energy", "defaulted_exposure"] == 1000
    assert got.loc["energy", "customers"] == 1 and got.loc["energy", "mean_pd"] == 0.001
    assert got["share"].sum() == pytest.approx(1.0)
    assert got.loc["retail", "share"] == pytest.approx(400 / 2000)
    assert got["exposure"].sum() == portfolio.headline(frame, 3)["exposure"]


def test_top_exposures_and_their_share():
    frame = december()
    frame.loc[frame["customer_id"] == "C", "exposure"] = 1000.0
    got = portfolio.top_exposures(frame, 2)
    assert got["customer_id"].tolist() == ["C", "E"]  # in default, still owed
    assert got["share"].tolist() == pytest.approx([0.5, 0.3])
    assert got["cumulative_share"].tolist() == pytest.approx([0.5, 0.8])


def test_concentration():
    got = portfolio.concentration(december(), top=(1, 2))
    assert got["customers"] == 3  # C in default has no exposure
    assert got["top_1_share"] == pytest.approx(0.6) and got["top_2_share"] == pytest.approx(0.9)
    assert got["hhi"] == pytest.approx(0.6**2 + 0.3**2 + 0.1**2)
    assert got["equivalent_customers"] == pytest.approx(1 / got["hhi"])


@pytest.mark.parametrize(
    ("shares", "expected"),
    [([1.0], 1.0), ([0.5, 0.5], 0.5), ([0.25] * 4, 0.25), ([], np.nan), ([0.5, np.nan], 0.25)],
)
def test_hhi(shares, expected):
    assert portfolio.hhi(np.array(shares)) == pytest.approx(expected, nan_ok=True)


def test_trend_per_month_and_alerts_only_where_recorded():
    nov = november().assign(alerts=["", "", "", ""], source="backfill")
    dec = december().assign(alerts=["DOWNGRADE; PD_INCREASE", "", "DEFAULTED", ""], source="run")
    got = portfolio.trend({DEC: dec, NOV: nov}, high_risk_grade=3)
    assert list(got.index) == [NOV, DEC] and list(got.columns) == portfolio.TREND_COLUMNS
    assert got.loc[DEC, "exposure"] == 1000 and got.loc[NOV, "exposure"] == 650
    assert got.loc[NOV, "high_risk_share"] == 0.25 and got.loc[DEC, "mean_pd"] == pytest.approx(
        (0.2 + 0.004 + 0.001) / 3
    )
    assert np.isnan(got.loc[NOV, "alerts"]) and got.loc[DEC, "alerts"] == 3


def alerts_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C", "D", "D"],
            "severity": ["high", "medium", "medium", "high", "low", "medium"],
            "rule": ["DOWNGRADE", "PD_INCREASE", "PD_INCREASE", "DEFAULTED",
                     "EVENT_MANAGEMENT_CHANGE", "LIMIT_BREACH"],
            "exposure": [100.0, 100.0, 300.0, 50.0, 900.0, 900.0],
        }
    )  # fmt: skip


def test_alert_summary_by_rule_and_severity():
    got = portfolio.alert_summary(alerts_table())
    assert got["rule"].tolist() == [
        "DOWNGRADE", "DEFAULTED", "LIMIT_BREACH", "PD_INCREASE", "EVENT_MANAGEMENT_CHANGE"
    ]  # fmt: skip
    increase = got.set_index("rule").loc["PD_INCREASE"]
    assert increase["alerts"] == 2 and increase["customers"] == 2 and increase["exposure"] == 400
    assert portfolio.alert_summary(alerts_table().head(0)).empty


def test_alerted_customers_most_severe_then_largest():
    got = portfolio.alerted_customers(alerts_table(), 3)
    assert got["customer_id"].tolist() == ["A", "C", "D"]
    assert got.loc[0, "rules"] == ["DOWNGRADE", "PD_INCREASE"] and got.loc[0, "severity"] == "high"
    assert got.loc[2, "rules"] == ["LIMIT_BREACH", "EVENT_MANAGEMENT_CHANGE"]
    assert portfolio.alerted_customers(alerts_table().head(0), 3).empty
