import numpy as np
import pandas as pd
import pytest

from models.master_scale import MasterScale
from models.monitoring import AlertRules
from models.monitoring_backtest import (
    alert_precision,
    grade_churn,
    limit_reductions,
    replay_alerts,
    replay_severity,
    summarize_churn,
)

SCALE = MasterScale.from_records(
    [
        {"grade": g, "label": str(g), "max_pd": b}
        for g, b in enumerate([0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.0], 1)
    ]
)
JAN, FEB, MAR = (pd.Timestamp(d) for d in ("2024-01-31", "2024-02-29", "2024-03-31"))
COLUMNS = {"model": "pd_12m", "truth": "true_pd_12m"}


def churn_rows() -> pd.DataFrame:
    rows = [
        # customer, month, model PD, true PD
        ("A", JAN, 0.03, 0.03), ("A", FEB, 0.05, 0.03), ("A", MAR, 0.03, 0.03),  # model 5-6-5
        ("B", JAN, 0.20, 0.10), ("B", FEB, 0.20, 0.20), ("B", MAR, 0.20, 0.20),  # truth 7-8-8
        ("C", JAN, 0.01, 0.01), ("C", MAR, 0.20, 0.20),  # not scored in February
        ("D", FEB, 0.01, 0.01), ("D", MAR, 0.01, 0.01),  # new in February
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["customer_id", "as_of_date", "pd_12m", "true_pd_12m"])


def test_grade_churn_counts_the_customers_of_both_months():
    got = grade_churn(churn_rows(), SCALE, COLUMNS)
    assert got["customers"].tolist() == [2, 3]  # A, B; then A, B, D
    assert got["model_changed"].tolist() == [1, 1]
    assert got["truth_changed"].tolist() == [1, 0]
    assert got["model_pd_unchanged"].tolist() == [1, 2]


def test_summarize_churn_sets_the_model_against_the_truth():
    got = summarize_churn(grade_churn(churn_rows(), SCALE, COLUMNS))
    assert got["customer_months"] == 5 and got["month_pairs"] == 2
    assert got["model_grade_change_share"] == pytest.approx(0.4)
    assert got["truth_grade_change_share"] == pytest.approx(0.2)
    assert got["ratio"] == pytest.approx(2.0) and got["within_target"] is False
    assert got["model_pd_unchanged_share"] == pytest.approx(0.6)
    assert got["by_month"]["2024-02-29"] == {
        "customers": 2,
        "model_grade_change_share": 0.5,
        "truth_grade_change_share": 0.5,
    }


def test_churn_without_the_truth_has_no_ratio():
    got = summarize_churn(grade_churn(churn_rows(), SCALE, {"model": "pd_12m"}))
    assert "ratio" not in got and got["model_grade_change_share"] == pytest.approx(0.4)


def test_churn_checks_its_input():
    rows = churn_rows()
    with pytest.raises(KeyError, match="true_pd_12m"):
        grade_churn(rows.drop(columns="true_pd_12m"), SCALE, COLUMNS)
    with pytest.raises(ValueError, match="one row per customer"):
        grade_churn(pd.concat([rows, rows.head(1)]), SCALE, COLUMNS)
    with pytest.raises(ValueError, match="two consecutive"):
        summarize_churn(grade_churn(rows[rows["as_of_date"] == JAN], SCALE, COLUMNS))


def alert_rows() -> pd.DataFrame:
    rows = [
        # customer, January PD, February PD, label of February
        ("A", 0.03, 0.20, 1),  # down 3 grades into high risk, PD up 17 points
        ("B", 0.03, 0.03, 0),
        ("C", 0.03, 0.03, 1),
        ("D", 0.20, 0.20, 0),  # high risk already
        ("E", 0.01, 0.01, 0),
    ]
    out = []
    for customer, jan, feb, label in rows:
        out.append((customer, JAN, jan, 0))
        out.append((customer, FEB, feb, label))
    return pd.DataFrame(out, columns=["customer_id", "as_of_date", "pd_12m", "label"])


def test_replay_counts_alerts_from_the_second_month():
    replay = replay_alerts(alert_rows(), SCALE, AlertRules(), 8)
    assert set(replay["as_of_date"]) == {FEB}  # January only sets the starting state
    hit = replay.set_index("customer_id")[["DOWNGRADE", "ENTER_HIGH_RISK", "PD_INCREASE"]]
    assert hit.loc["A"].all() and not hit.drop(index="A").to_numpy().any()


def test_alert_precision_against_the_non_alerted():
    got = alert_precision(replay_alerts(alert_rows(), SCALE, AlertRules(), 8))
    assert got["rules"] == ["DOWNGRADE", "ENTER_HIGH_RISK", "PD_INCREASE"]
    assert got["alerts"] == 3 and got["alerted_customer_months"] == 1
    assert got["precision"] == 1.0 and got["non_alerted_default_rate"] == 0.25
    assert got["ratio"] == 4.0 and got["within_target"] is True
    assert got["by_rule"]["PD_INCREASE"] == {"alerts": 1, "precision": 1.0}
    assert got["by_month"] == {"2024-02-29": {"customers": 5, "alerts": 3, "alerted": 1}}
    assert got["grade_change_share"] == pytest.approx(0.2)


def test_a_rule_switched_off_is_not_replayed():
    rules = AlertRules.model_validate({"pd_increase": None})
    got = alert_precision(replay_alerts(alert_rows(), SCALE, rules, 8))
    assert got["rules"] == ["DOWNGRADE", "ENTER_HIGH_RISK"] and got["alerts"] == 2


def test_replay_checks_its_input():
    with pytest.raises(KeyError, match="label"):
        replay_alerts(alert_rows().drop(columns="label"), SCALE, AlertRules(), 8)
    with pytest.raises(ValueError, match="two month ends"):
        replay_alerts(alert_rows().query("as_of_date == @JAN"), SCALE, AlertRules(), 8)


def test_replay_severity_is_the_most_severe_rule_hit():
    replay = pd.DataFrame({"DOWNGRADE": [True, False, False], "PD_INCREASE": [True, True, False]})
    got = replay_severity(replay, AlertRules())
    assert got.iloc[:2].tolist() == ["high", "medium"] and pd.isna(got.iloc[2])


def test_limit_reductions_per_month_and_newly_told():
    told = pd.DataFrame(
        [
            ("A", JAN, True),
            ("A", FEB, True),
            ("A", MAR, False),
            ("B", JAN, False),
            ("B", FEB, True),
            ("B", MAR, True),
            ("C", JAN, False),
            ("C", FEB, False),
        ],  # fmt: skip
        columns=["customer_id", "as_of_date", "reduce_limit"],
    )
    got = limit_reductions(told)
    assert got["share"] == 0.5 and got["newly_share"] == pytest.approx(1 / 5)
    assert got["by_month"]["2024-02-29"] == {
        "customers": 3,
        "share": pytest.approx(2 / 3),
        "newly_share": pytest.approx(1 / 3),
    }
    assert "newly_share" not in got["by_month"]["2024-01-31"]
    with pytest.raises(KeyError, match="reduce_limit"):
        limit_reductions(told.drop(columns="reduce_limit"))


def test_no_alert_gives_no_precision():
    rows = alert_rows().assign(pd_12m=0.01)
    got = alert_precision(replay_alerts(rows, SCALE, AlertRules(), 8))
    assert got["alerts"] == 0 and np.isnan(got["precision"]) and got["within_target"] is False
