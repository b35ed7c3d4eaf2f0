"""The outlook by region and sector and its back-test against the naive rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.loss_distribution import simulate_counts, simulate_loss
from models.outlook import (
    ALL,
    BOOK,
    backtest_outlook,
    backtest_table,
    book_outlook,
    observed_rates,
    rescale_rate,
    to_horizon,
    with_intervals,
)


def flat_terms(pd_12m: np.ndarray) -> dict[str, np.ndarray]:
    """``pd_1m`` .. ``pd_12m`` of a flat monthly hazard reaching ``pd_12m`` at 12 months."""
    return {f"pd_{k}m": 1 - (1 - pd_12m) ** (k / 12) for k in range(1, 13)}


def scored_book(n: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pd_12m = rng.uniform(0.005, 0.15, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "region": rng.choice(["North", "South"], n),
            "industry": rng.choice(["retail", "steel", "food"], n),
            **flat_terms(pd_12m),
        }
    )


def test_expected_defaults_are_the_sum_of_the_pds_per_group() -> None:
    book = scored_book()
    out = book_outlook(book, n_scenarios=500).set_index(["grouping", "group", "horizon"])
    north = book[book["region"] == "North"]
    row = out.loc[("region", "North", 3)]
    assert row["customers"] == len(north)
    assert row["expected_defaults"] == pytest.approx(north["pd_3m"].sum())
    assert row["expected_rate"] == pytest.approx(north["pd_3m"].mean())
    whole = out.loc[(BOOK, ALL, 6)]
    assert whole["customers"] == len(book)
    assert whole["expected_defaults"] == pytest.approx(book["pd_6m"].sum())
    sectors = out.xs("industry", level="grouping").xs(6, level="horizon")
    assert sectors["expected_defaults"].sum() == pytest.approx(whole["expected_defaults"])


def test_the_interval_holds_the_mean_and_widens_with_the_horizon() -> None:
    out = book_outlook(scored_book(), n_scenarios=2000)
    assert (out["low"] <= out["expected_defaults"]).all()
    assert (out["expected_defaults"] <= out["high"]).all()
    assert (out["low_rate"] <= out["expected_rate"]).all()
    by_horizon = out.set_index(["grouping", "group", "horizon"])["high"].unstack("horizon")
    assert (by_horizon[6] >= by_horizon[3]).all()


def test_the_interval_is_wider_with_correlation() -> None:
    """Correlated defaults spread the count: the interval is wider than with independence."""
    book = scored_book(2000)
    independent = book_outlook(book, n_scenarios=2000, asset_correlation=0.0)
    correlated = book_outlook(book, n_scenarios=2000, asset_correlation=0.2)
    width = [(o["high"] - o["low"]).iloc[0] for o in (independent, correlated)]  # the whole book
    assert width[1] > 1.5 * width[0]


def test_same_seed_same_outlook_other_seed_other_interval() -> None:
    book = scored_book()
    first, again = (book_outlook(book, n_scenarios=800, seed=3) for _ in range(2))
    pd.testing.assert_frame_equal(first, again)
    other = book_outlook(book, n_scenarios=800, seed=4)
    assert not np.allclose(first["high"], other["high"]) or not np.allclose(
        first["low"], other["low"]
    )


def test_counts_are_the_loss_engines_defaults() -> None:
    """One customer in one group at exposure 1 and LGD 1: the count is the simulated loss."""
    pds = np.random.default_rng(2).uniform(0, 0.3, 300)
    rho = 0.15
    counts = simulate_counts(pds, np.ones((300, 1)), asset_correlation=rho, n_scenarios=700)
    loss = simulate_loss(pds, np.ones(300), 1.0, asset_correlation=rho, n_scenarios=700)
    np.testing.assert_array_equal(counts[:, 0], loss.losses.astype(np.int64))


def test_an_empty_book_has_no_customers_and_no_rate() -> None:
    out = book_outlook(scored_book().iloc[:0], n_scenarios=100)
    assert list(out["grouping"]) == [BOOK, BOOK]  # the whole book, at 3 and 6 months
    assert (out["customers"] == 0).all()
    assert out["expected_rate"].isna().all()


def test_a_missing_region_is_unknown() -> None:
    book = scored_book(20)
    book.loc[:4, "region"] = None
    out = book_outlook(book, n_scenarios=100)
    assert out.loc[out["group"] == "unknown", "customers"].tolist() == [5, 5]


@pytest.mark.parametrize("column", ["pd_3m", "pd_6m", "pd_12m", "region", "industry"])
def test_the_book_needs_its_columns(column: str) -> None:
    with pytest.raises(KeyError, match=column):
        book_outlook(scored_book(10).drop(columns=column), n_scenarios=10)


def test_level_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="level"):
        book_outlook(scored_book(10), level=1.0, n_scenarios=10)


# --- the back-test -------------------------------------------------------------------------

MONTHS = pd.date_range("2023-01-31", periods=24, freq="ME")


def history(
    defaults_by_month: dict[pd.Timestamp, list[str]], customers: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snapshots of one region ``R``: ``customers`` customers every month until they default.

    ``defaults_by_month``: the customers defaulting in each month (dated mid-month).
    """
    dates = {c: m - pd.Timedelta(days=14) for m, ids in defaults_by_month.items() for c in ids}
    rows = [
        {"customer_id": f"C{i}", "as_of_date": t, "region": "R", "industry": "S"}
        for i in range(customers)
        for t in MONTHS
        if f"C{i}" not in dates or t < dates[f"C{i}"]
    ]
    defaults = pd.DataFrame({"customer_id": list(dates), "default_date": list(dates.values())})
    return pd.DataFrame(rows), defaults


def test_observed_rate_counts_defaults_over_customer_months() -> None:
    """Defaults in months 2 and 5 (not 9) over the snapshots of months 0..5 (10, 10, 9, 9, 9, 8)."""
    population, defaults = history({MONTHS[2]: ["C0"], MONTHS[5]: ["C1"], MONTHS[9]: ["C2"]})
    rates = observed_rates(population, defaults, MONTHS[6], 6)
    row = rates.loc[("region", "R")]
    assert row["defaults"] == 2
    assert row["at_risk"] == 10 + 10 + 9 + 9 + 9 + 8
    assert row["rate"] == pytest.approx(2 / row["at_risk"])


def test_backtest_known_answers() -> None:
    """One default a month from month 13 on; the model says 0.3 in 3 months: each row checks."""
    population, defaults = history({MONTHS[m]: [f"C{m - 13}"] for m in range(13, 23)}, 12)
    predictions = population.assign(pd_3m=0.3, pd_6m=0.5)
    table = backtest_table(predictions, defaults, MONTHS[-1])
    row = table[(table["horizon"] == 3) & (table["grouping"] == "region")].iloc[0]
    # first month end with 12 months of history: month 12; defaults in months 13..15
    assert row["as_of_date"] == MONTHS[12]
    assert row["customers"] == 12
    assert row["realised"] == pytest.approx(3 / 12)
    assert row["model"] == pytest.approx(0.3)
    assert row["last_6m"] == 0  # nobody defaulted before month 13
    assert row["last_12m"] == 0
    later = table[(table["horizon"] == 3) & (table["grouping"] == BOOK)].set_index("as_of_date")
    # at month 14: the defaults of months 13 and 14 (dated by t) over the snapshots of
    # months 8..13 (5 x 12 + 11), a monthly rate scaled to 3 months
    expected = 1 - (1 - 2 / 71) ** 3
    assert later.loc[MONTHS[14], "last_6m"] == pytest.approx(expected)
    # the last month end whose 3-month outcome is observed
    assert later.index.max() == MONTHS[-4]


def test_anchors_use_no_default_dated_after_the_month_end() -> None:
    """Moving every default after month 14 changes the realised rates, never the anchors."""
    population, defaults = history({MONTHS[m]: [f"C{m - 10}"] for m in range(10, 20)}, 12)
    t = MONTHS[14]
    moved = defaults.copy()
    later = moved["default_date"] > t
    moved.loc[later, "default_date"] = moved.loc[later, "default_date"] + pd.DateOffset(months=2)
    before, after = (
        backtest_table(
            population.assign(pd_3m=0.1, pd_6m=0.2), d, MONTHS[-1], population=population
        ).set_index(["horizon", "grouping", "as_of_date"])
        for d in (defaults, moved)
    )
    for h in (3, 6):
        for name in ("last_6m", "last_12m"):
            assert before.loc[(h, "region", t), name] == after.loc[(h, "region", t), name]
    assert before.loc[(3, "region", t), "realised"] != after.loc[(3, "region", t), "realised"]


def test_a_group_without_history_has_no_anchor_and_is_left_out_of_the_error() -> None:
    population, defaults = history({MONTHS[14]: ["C0"]})
    newcomer = pd.DataFrame(
        {"customer_id": "N1", "as_of_date": MONTHS[12:], "region": "New", "industry": "S"}
    )
    predictions = pd.concat([population, newcomer], ignore_index=True).assign(pd_3m=0.05, pd_6m=0.1)
    table = backtest_table(predictions, defaults, MONTHS[-1])
    new = table[table["group"] == "New"].set_index(["horizon", "as_of_date"])
    # its first month end: nobody of the region was at risk before
    assert new.loc[[(3, MONTHS[12]), (6, MONTHS[12])], ["last_6m", "last_12m"]].isna().all(None)
    assert new.loc[(3, MONTHS[13]), "last_6m"] == 0  # then: one customer-month, no default
    summary = backtest_outlook(predictions, defaults, MONTHS[-1])
    region = table[(table["horizon"] == 3) & (table["grouping"] == "region")]
    assert summary["by_horizon"]["3m"]["region"]["cells"] == len(region) - 1


def test_start_and_observed_until_bound_the_month_ends() -> None:
    population, defaults = history({MONTHS[15]: ["C0"]})
    predictions = population.assign(pd_3m=0.05, pd_6m=0.1)
    table = backtest_table(predictions, defaults, MONTHS[20], start=MONTHS[14])
    three = table[table["horizon"] == 3]["as_of_date"]
    six = table[table["horizon"] == 6]["as_of_date"]
    assert (three.min(), three.max()) == (MONTHS[14], MONTHS[17])
    assert (six.min(), six.max()) == (MONTHS[14], MONTHS[14])


def test_summary_says_whether_the_model_beats_both_anchors() -> None:
    """A model that knows the future (its forecast is the outcome) beats the naive rates."""
    population, defaults = history({MONTHS[m]: [f"C{m - 8}"] for m in range(8, 20)}, 15)
    table = backtest_table(population.assign(pd_3m=0.0, pd_6m=0.0), defaults, MONTHS[-1])
    oracle = table.set_index(["horizon", "grouping", "group", "as_of_date"])["realised"]
    merged = population.assign(pd_3m=np.nan, pd_6m=np.nan)
    for h in (3, 6):
        rate = oracle.xs((h, "region", "R"), level=["horizon", "grouping", "group"])
        merged[f"pd_{h}m"] = merged["as_of_date"].map(rate)
    summary = backtest_outlook(merged, defaults, MONTHS[-1], population=population)
    for h in ("3m", "6m"):
        entry = summary["by_horizon"][h]["region"]
        assert entry["mae"]["model"] == pytest.approx(0)
        assert entry["beats_anchors"]
    assert summary["passed"]
    worse = backtest_outlook(population.assign(pd_3m=0.9, pd_6m=0.9), defaults, MONTHS[-1])
    assert not worse["passed"]


@pytest.mark.parametrize("column", ["customer_id", "region", "pd_3m", "pd_6m"])
def test_the_predictions_need_their_columns(column: str) -> None:
    population, defaults = history({MONTHS[15]: ["C0"]})
    predictions = population.assign(pd_3m=0.05, pd_6m=0.1).drop(columns=column)
    with pytest.raises(KeyError, match=column):
        backtest_table(predictions, defaults, MONTHS[-1], population=population)


@pytest.mark.parametrize(
    ("members", "message"),
    [(np.ones((3, 1)), "members"), (np.full((4, 1), 2), "members"), (np.ones(4), "members")],
)
def test_counts_need_0_1_members_per_customer(members: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate_counts(np.full(4, 0.1), members, asset_correlation=0.1, n_scenarios=10)


def test_counts_need_a_correlation_below_one() -> None:
    with pytest.raises(ValueError, match="asset_correlation"):
        simulate_counts(np.full(4, 0.1), np.ones((4, 1)), asset_correlation=1.0, n_scenarios=10)


def test_rates_rescale_at_a_constant_pace() -> None:
    assert to_horizon(0.01, 3) == pytest.approx(1 - 0.99**3)
    assert rescale_rate(1 - 0.99**3, 3, 12) == pytest.approx(1 - 0.99**12)
    assert rescale_rate(0.0, 6, 12) == 0


def test_the_back_test_checks_the_interval_the_outlook_gave_at_each_month_end() -> None:
    population, defaults = history({MONTHS[m]: [f"C{m - 12}"] for m in range(12, 20)}, 30)
    predictions = population.assign(**flat_terms(np.full(len(population), 0.02)))
    table = backtest_table(predictions, defaults, MONTHS[-1])
    simulation = {"level": 0.9, "n_scenarios": 400, "seed": 1, "asset_correlation": 0.1}
    checked = with_intervals(table, predictions, **simulation)
    t = MONTHS[13]
    book = predictions[predictions["as_of_date"] == t]
    direct = book_outlook(book, **simulation).set_index(["grouping", "group", "horizon"])
    row = checked[(checked["as_of_date"] == t) & (checked["grouping"] == "region")]
    for r in row.itertuples():
        assert r.high_rate == direct.loc[("region", "R", r.horizon), "high_rate"]
    summary = backtest_outlook(predictions, defaults, MONTHS[-1], interval=simulation)
    found = summary["by_horizon"]["3m"]["region"]["interval"]
    assert found["inside"] + found["below"] + found["above"] == pytest.approx(1)
    # one default a month among 30 customers at a 3-month PD of 0.5 %: above the interval
    assert found["above"] > 0.5
    assert summary["interval_settings"] == simulation
    unchecked = backtest_outlook(predictions, defaults, MONTHS[-1])["by_horizon"]["3m"]
    assert "interval" not in unchecked["region"]


@pytest.mark.parametrize(("scenario_chunk", "customer_chunk"), [(1, 7), (64, 1000), (999, 3)])
def test_counts_do_not_depend_on_the_tiles(scenario_chunk: int, customer_chunk: int) -> None:
    rng = np.random.default_rng(4)
    pds, sector = rng.uniform(0, 0.2, 120), rng.choice(["a", "b", "c"], 120)
    members = np.column_stack([np.ones(120), sector == "a"]).astype(int)
    run = {"asset_correlation": 0.2, "sector_correlation": 0.5, "n_scenarios": 300, "seed": 9}
    reference = simulate_counts(pds, members, sector, **run)
    tiled = simulate_counts(
        pds, members, sector, **run, scenario_chunk=scenario_chunk, customer_chunk=customer_chunk
    )
    np.testing.assert_array_equal(reference, tiled)
    assert (reference[:, 1] <= reference[:, 0]).all()  # a sector's defaults are the book's
