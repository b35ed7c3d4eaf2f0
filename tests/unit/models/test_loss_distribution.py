"""The portfolio loss distribution against the Vasicek large-pool oracle, and its properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from models.loss_distribution import (
    _sector_factors,
    basel_correlation,
    capped_exposure,
    contributions_by,
    simulate_loss,
)

LGD = 0.45


def vasicek_cdf(loss_rate: float, pd_: float, rho: float) -> float:
    """P(loss / (LGD x EAD) <= loss_rate) in Vasicek's infinitely granular one-factor pool."""
    return float(norm.cdf((np.sqrt(1 - rho) * norm.ppf(loss_rate) - norm.ppf(pd_)) / np.sqrt(rho)))


@pytest.mark.parametrize(("pd_", "rho"), [(0.02, 0.15), (0.05, 0.24)])
def test_quantiles_match_vasicek_large_pool(pd_: float, rho: float) -> None:
    """A homogeneous pool's simulated VaR sits where Vasicek's closed form puts the quantile.

    The check is in probability space: the Vasicek CDF at the simulated q-quantile of n
    scenarios is an order statistic whose standard error is sqrt(q (1 - q) / n) (binomial);
    the tolerance is 4 of those. 5,000 customers keep the granularity (the idiosyncratic noise
    the large-pool limit leaves out) well inside it: it moves the statistic by under 1 standard
    error here (about 2 standard errors at 99 % with 5,000 customers, seeds 0-2, had |z| < 2.3).
    A model without correlation would put the 99.9 % quantile at about 1.3 x the PD: hundreds
    of standard errors away.
    """
    n, scenarios = 5000, 10_000
    result = simulate_loss(
        np.full(n, pd_), np.ones(n), LGD, n_scenarios=scenarios, asset_correlation=rho, seed=7
    )
    for q in (0.99, 0.999):
        implied = vasicek_cdf(result.var[q] / (LGD * n), pd_, rho)
        standard_error = np.sqrt(q * (1 - q) / scenarios)
        assert abs(implied - q) < 4 * standard_error, (q, implied)
        assert result.es[q] >= result.var[q]


def test_expected_loss_is_sum_of_pd_lgd_ead_within_monte_carlo_error() -> None:
    """The simulated mean is within 4 standard errors (UL / sqrt(n)) of sum PD x LGD x EAD."""
    rng = np.random.default_rng(3)
    pds, ead = rng.uniform(0.001, 0.2, 800), rng.uniform(1e3, 1e5, 800)
    result = simulate_loss(pds, ead, LGD, n_scenarios=5000, seed=1)
    assert result.expected_loss == pytest.approx((pds * LGD * ead).sum(), rel=1e-6)
    error = result.unexpected_loss / np.sqrt(5000)
    assert abs(result.simulated_mean - result.expected_loss) < 4 * error


def _book(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    sectors = rng.choice(["retail", "energy", "transport"], n)
    return rng.uniform(0.0, 0.3, n), rng.uniform(0, 5e4, n).round(2), sectors


def test_same_seed_same_bytes_other_seed_other_numbers() -> None:
    pds, ead, sectors = _book()
    kwargs = {"n_scenarios": 2000, "sector_correlation": 0.6}
    first = simulate_loss(pds, ead, LGD, sectors, seed=5, **kwargs)
    again = simulate_loss(pds, ead, LGD, sectors, seed=5, **kwargs)
    other = simulate_loss(pds, ead, LGD, sectors, seed=6, **kwargs)
    assert first.losses.tobytes() == again.losses.tobytes()
    assert first.contributions.tobytes() == again.contributions.tobytes()
    assert first.var == again.var and first.es == again.es
    assert first.losses.tobytes() != other.losses.tobytes()


@pytest.mark.parametrize(("scenario_chunk", "customer_chunk"), [(1, 7), (97, 1), (5000, 5000)])
def test_chunk_sizes_do_not_change_the_result(scenario_chunk: int, customer_chunk: int) -> None:
    """Random numbers hash the positions and losses add in whole cents: identical bytes."""
    pds, ead, sectors = _book(120)
    kwargs = {"n_scenarios": 1500, "seed": 2, "sector_correlation": 0.5}
    base = simulate_loss(pds, ead, LGD, sectors, **kwargs)
    chunked = simulate_loss(
        pds, ead, LGD, sectors, scenario_chunk=scenario_chunk, customer_chunk=customer_chunk,
        **kwargs,
    )  # fmt: skip
    assert base.losses.tobytes() == chunked.losses.tobytes()
    assert base.contributions.tobytes() == chunked.contributions.tobytes()
    assert base.var == chunked.var and base.es == chunked.es


def test_contributions_add_up_to_expected_shortfall_per_customer_and_sector() -> None:
    pds, ead, sectors = _book()
    result = simulate_loss(pds, ead, LGD, sectors, n_scenarios=3000, sector_correlation=0.7)
    for j, q in enumerate(result.levels):
        assert result.contributions[:, j].sum() == pytest.approx(result.es[q], rel=1e-12)
        by_sector = contributions_by(result, sectors, q)
        assert by_sector.sum() == pytest.approx(result.es[q], rel=1e-12)
        assert list(by_sector.index) == sorted(by_sector.index, key=lambda s: -by_sector[s])
    # no customer contributes more than it can lose
    assert (result.contributions <= (LGD * ead)[:, None] + 0.01).all()
    assert result.es[0.999] >= result.es[0.99] >= result.var[0.99] >= result.expected_loss * 0


def test_sector_correlation_below_one_diversifies() -> None:
    pds, ead, sectors = _book()
    one = simulate_loss(pds, ead, LGD, sectors, n_scenarios=4000)
    apart = simulate_loss(pds, ead, LGD, sectors, n_scenarios=4000, sector_correlation=0.0)
    assert apart.es[0.999] < one.es[0.999]
    assert apart.expected_loss == one.expected_loss


def test_sector_factors_are_standard_normal_and_correlated_as_asked() -> None:
    """Each sector's factor is N(0, 1); two sectors' correlate at ``sector_correlation``.

    With 20,000 scenarios a correlation's standard error is about (1 - w^2) / sqrt(n) < 0.007,
    a mean's 0.007 and a variance's 0.01: the tolerances are 4 of those.
    """
    factors = _sector_factors(seed=3, n_scenarios=20_000, n_groups=3, correlation=0.4)
    assert factors.shape == (20_000, 3)
    np.testing.assert_allclose(factors.mean(axis=0), 0, atol=0.03)
    np.testing.assert_allclose(factors.var(axis=0), 1, atol=0.04)
    between = np.corrcoef(factors.T)[np.triu_indices(3, 1)]
    np.testing.assert_allclose(between, 0.4, atol=0.03)
    assert _sector_factors(3, 10, 3, 1.0).shape == (10, 1)  # one factor for every sector


def test_no_customers() -> None:
    result = simulate_loss(np.array([]), np.array([]), LGD, n_scenarios=100)
    assert result.expected_loss == 0 and result.unexpected_loss == 0
    assert result.var == {0.99: 0.0, 0.999: 0.0} and result.es == {0.99: 0.0, 0.999: 0.0}
    assert result.contributions.shape == (0, 2)


def test_pd_zero_never_and_pd_one_always_lose() -> None:
    result = simulate_loss(
        np.array([0.0, 1.0, 1.0, 0.0]), np.array([1000.0, 2000.0, 0.0, np.nan]), 0.5,
        n_scenarios=500,
    )  # fmt: skip
    assert (result.losses == 1000.0).all()
    assert result.unexpected_loss == 0
    assert result.var[0.999] == result.es[0.999] == result.expected_loss == 1000.0
    np.testing.assert_array_equal(result.contributions[:, 1], [0.0, 1000.0, 0.0, 0.0])


def test_basel_correlation_runs_from_024_to_012() -> None:
    rho = basel_correlation(np.array([0.0, 0.01, 1.0]))
    assert rho[0] == pytest.approx(0.24) and rho[2] == pytest.approx(0.12)
    assert 0.12 < rho[1] < 0.24


def test_capped_exposure_only_where_the_limit_is_cut() -> None:
    capped = capped_exposure(
        np.array([50.0, 50.0, 50.0, 50.0]),
        np.array([100.0, 100.0, np.nan, 100.0]),
        np.array([30.0, 200.0, 10.0, 80.0]),
    )
    np.testing.assert_array_equal(capped, [30.0, 50.0, 50.0, 50.0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pd_12m": np.array([0.1, 1.2])}, "pd_12m"),
        ({"pd_12m": np.array([0.1, np.nan])}, "pd_12m"),
        ({"exposure": np.array([1.0, -1.0])}, "exposure"),
        ({"exposure": np.array([1.0])}, "shape"),
        ({"lgd": 1.5}, "lgd"),
        ({"n_scenarios": 0}, "n_scenarios"),
        ({"seed": -1}, "seed"),
        ({"levels": (0.99, 1.0)}, "levels"),
        ({"asset_correlation": 1.0}, "asset_correlation"),
        ({"sector_correlation": 1.1}, "sector_correlation"),
        ({"sector": np.array(["a"])}, "sector"),
    ],
)
def test_bad_arguments_say_what_was_expected(change: dict, message: str) -> None:
    kwargs = {"pd_12m": np.array([0.1, 0.2]), "exposure": np.array([1.0, 2.0]), "lgd": LGD}
    with pytest.raises(ValueError, match=message):
        simulate_loss(**{**kwargs, **change})


def test_contributions_by_uses_the_given_labels() -> None:
    result = simulate_loss(np.array([1.0, 1.0, 0.5]), np.array([10.0, 20.0, 0.0]), 1.0)
    summed = contributions_by(result, pd.Series(["a", "b", "a"]), 0.99)
    assert summed.to_dict() == {"b": 20.0, "a": 10.0}
