import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from models import backtest, metrics
from models.master_scale import MasterScale

SCALE = MasterScale.from_records(
    [
        {"grade": 1, "label": "low", "max_pd": 0.05},
        {"grade": 2, "label": "medium", "max_pd": 0.2},
        {"grade": 3, "label": "high", "max_pd": 1.0},
    ]
)


def test_jeffreys_p_value_is_large_at_the_pd_and_small_far_from_it():
    assert backtest.jeffreys_p_value(10, 1000, 0.01) > 0.5
    assert backtest.jeffreys_p_value(30, 1000, 0.01) < 1e-4  # too many defaults
    assert backtest.jeffreys_p_value(0, 1000, 0.02) < 1e-4  # too few
    # close to the exact binomial test on a large sample
    exact = binomtest(25, 1000, 0.015).pvalue
    assert backtest.jeffreys_p_value(25, 1000, 0.015) == pytest.approx(exact, rel=0.3)


def test_jeffreys_interval():
    low, high = backtest.jeffreys_interval(10, 1000, 0.99)
    assert low < 0.01 < high
    assert backtest.jeffreys_interval(0, 50, 0.99)[0] == 0.0
    assert backtest.jeffreys_interval(50, 50, 0.99)[1] == 1.0


@pytest.mark.parametrize(
    ("defaults", "n", "pd_value"), [(-1, 10, 0.1), (11, 10, 0.1), (1, 0, 0.1), (1, 10, 1.5)]
)
def test_jeffreys_checks_its_input(defaults, n, pd_value):
    with pytest.raises(ValueError):
        backtest.jeffreys_p_value(defaults, n, pd_value)


def case(rows_per_customer: int = 1, seed: int = 0):
    """Customers whose default rate matches their PD, each seen ``rows_per_customer`` times."""
    rng = np.random.default_rng(seed)
    n = 3000
    p = rng.choice([0.02, 0.1, 0.4], n)
    y = (rng.random(n) < p).astype(float)
    customers = np.arange(n)
    rep = rows_per_customer
    return np.tile(y, rep), np.tile(p, rep), np.tile(customers, rep)


def run(y, p, customers, **kwargs) -> pd.DataFrame:
    return backtest.grade_backtest(y, p, SCALE.assign(p), SCALE, customers, **kwargs)


def test_calibrated_grades_pass():
    table = run(*case())
    assert list(table["grade"]) == [1, 2, 3]
    assert table["passed"].all() and not table["few_customers"].any()
    assert (table["customers"] == table["count"]).all()
    summary = backtest.summarize_backtest(table, 0.01)
    assert summary["passed"] and summary["monotone"] and summary["grades_failed"] == ""


def test_repeated_snapshots_do_not_count_as_new_evidence():
    y, p, customers = case(rows_per_customer=6)
    p_low = np.where(p == 0.1, 0.085, p)  # PD of grade 2 a little too low
    once = run(*case(), alpha=0.01).set_index("grade")
    repeated = run(y, p_low, customers).set_index("grade")
    assert repeated.loc[2, "customers"] == once.loc[2, "customers"]
    assert repeated.loc[2, "count"] == 6 * once.loc[2, "count"]
    # counted as 6x the rows, the same evidence would look decisive
    naive = binomtest(int(repeated.loc[2, "defaults"]), int(repeated.loc[2, "count"]), 0.085)
    assert naive.pvalue < 0.01 < repeated.loc[2, "p_value"]


def test_a_wrong_pd_fails_its_grade():
    y, p, customers = case()
    table = run(y, np.where(p == 0.1, 0.06, p), customers)
    assert table.set_index("grade").loc[2, "passed"] == False  # noqa: E712
    assert backtest.summarize_backtest(table, 0.01)["grades_failed"] == "2"


def test_holm_adjustment():
    p = np.array([0.004, 0.5, 0.02, 0.001])
    # sorted 0.001, 0.004, 0.02, 0.5 times 4, 3, 2, 1 -> 0.004, 0.012, 0.04, 0.5 (non-decreasing)
    np.testing.assert_allclose(backtest.holm_adjusted(p), [0.012, 0.5, 0.04, 0.004])
    np.testing.assert_allclose(backtest.holm_adjusted(np.array([0.3, 0.2])), [0.4, 0.4])
    assert backtest.holm_adjusted(np.array([0.9, 0.8]))[0] == 1.0  # capped


def test_one_grade_at_p_0004_of_eight_is_chance_not_a_failure():
    # a grade a little off among eight: alone it would fail at 1 %, as one of eight it does not
    table = pd.DataFrame({"p_value": [0.004, *[0.3] * 7]})
    adjusted = backtest.holm_adjusted(table["p_value"].to_numpy())
    assert adjusted[0] == pytest.approx(0.032) and (adjusted >= 0.01).all()
    assert backtest.holm_adjusted(np.array([0.001, *[0.3] * 7]))[0] < 0.01  # far off still fails


def test_the_back_test_judges_the_grades_as_a_family():
    y, p, customers = case()
    table = run(y, np.where(p == 0.1, 0.06, p), customers)
    m = len(table)
    worst = table["p_value"].idxmin()
    assert table.loc[worst, "p_adjusted"] == pytest.approx(min(1, m * table.loc[worst, "p_value"]))
    assert (table["passed"] == (table["p_adjusted"] >= 0.01)).all()


def rate_table(rates: list[float], customers: list[int], few: list[bool]) -> pd.DataFrame:
    n = np.array(customers, dtype=float)
    return pd.DataFrame(
        {
            "grade": np.arange(1, len(rates) + 1),
            "observed_rate": rates,
            "customers": n,
            "effective_defaults": np.array(rates) * n,
            "few_customers": few,
            "passed": True,
            "p_value": 0.5,
        }
    )


def test_monotonicity_ignores_grades_with_few_customers():
    table = rate_table([0.01, 0.5, 0.06, 0.02], [2000, 10, 2000, 2000], [False, True, False, False])
    assert backtest.monotonicity_breaks(table) == [(3, 4)]
    summary = backtest.summarize_backtest(table, 0.01)
    assert not summary["passed"] and summary["grades_consistent"]
    assert summary["monotonicity_breaks"] == "3>4" and summary["grades_few_customers"] == 1


def test_a_drop_counts_only_where_the_data_shows_it():
    # 8 of 100 then 6 of 100: a drop chance gives easily; 160 of 2,000 then 60 of 2,000: not
    small = rate_table([0.08, 0.06], [100, 100], [False, False])
    large = rate_table([0.08, 0.03], [2000, 2000], [False, False])
    assert backtest.monotonicity_breaks(small, alpha=0.01) == []
    assert backtest.monotonicity_breaks(large, alpha=0.01) == [(1, 2)]


def test_probability_lower_matches_a_simulation():
    rng = np.random.default_rng(0)
    a, b = (8.5, 92.5), (12.5, 88.5)
    simulated = (rng.beta(*a, 200_000) < rng.beta(*b, 200_000)).mean()
    assert backtest.probability_lower(a, b) == pytest.approx(simulated, abs=0.005)
    assert backtest.probability_lower(a, a) == pytest.approx(0.5, abs=1e-3)


def test_chance_calibration_error_shrinks_with_the_sample_and_counts_customers():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.01, 0.3, 20_000)
    alone = np.arange(len(p))
    small = backtest.chance_calibration_error(p[:500], alone[:500], 10)
    large = backtest.chance_calibration_error(p, alone, 10)
    # the same 20,000 rows as 6 snapshots of about 3,300 customers: fewer independent outcomes
    grouped = backtest.chance_calibration_error(p, alone // 6, 10)
    assert large < grouped < small
    assert 0.004 < large < 0.02  # about sqrt(p(1-p)/2000) per bin of 2,000 rows
    y = (rng.random(len(p)) < p).astype(float)
    assert metrics.expected_calibration_error(y, p, 10) < large  # typical, not the 95% tail


def test_few_customers_are_flagged():
    y, p, customers = case()
    table = run(y, p, customers, min_customers=1001)  # about 1000 per grade
    assert table["few_customers"].any() and not table["few_customers"].all()


def test_grade_backtest_checks_its_input():
    y, p, customers = case()
    with pytest.raises(ValueError, match="alpha"):
        run(y, p, customers, alpha=0)
    with pytest.raises(ValueError, match="customers"):
        run(y, p, customers[:-1])
