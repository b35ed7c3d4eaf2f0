"""Portfolio loss distribution: a Gaussian-copula Monte Carlo of the 12-month credit loss.

Customer ``i`` defaults within the year when its asset value
``X_i = sqrt(rho_i) * Z_g(i) + sqrt(1 - rho_i) * e_i`` falls below ``Phi^-1(PD_i)``, and then
loses ``LGD_i x EAD_i``. ``Z_g`` is the factor of the customer's sector ``g``:
``Z_g = sqrt(w) * M + sqrt(1 - w) * E_g``, with ``M`` the common factor (the economy and the
industry cycle all sectors share) and ``E_g`` the sector's own part; ``w`` (``sector_correlation``)
is the correlation between two sectors' factors. The default ``w = 1`` is the one-factor model
(every sector moves with the one cycle): the asymptotic single-risk-factor model for which the
Basel correlations were calibrated, and the conservative choice (no diversification between
sectors) until the book's own sector index history supports a lower ``w``. The asset
correlation ``rho_i`` is the Basel corporate formula by default (0.24 for the safest
customers down to 0.12 for the riskiest), or one fixed value.

Results: expected loss (analytic ``sum PD x LGD x EAD``, and the simulated mean), unexpected loss
(the standard deviation of the simulated loss), value at risk (the empirical quantile) and
expected shortfall (the mean of the worst ``ceil(n x (1 - q))`` scenarios) at each level, and
each customer's expected-shortfall contribution (its mean loss over those worst scenarios: the
contributions add up to the expected shortfall).

Determinism and memory: every random number is a hash (SplitMix64) of the seed, the scenario's
and the customer's position, so a number does not depend on how the work is cut; losses are
summed in whole cents (int64, exact), so the result is the same to the byte whatever the chunk
sizes, and needs no random generator's stream (which numpy may change between versions): from
one machine to another only a last-bit difference of scipy's normal CDF at a default threshold
could change a number. The work runs over tiles of ``scenario_chunk x customer_chunk`` cells:
memory is bounded by the tile, never scenarios x customers. A customer with PD 1 (in default)
loses its amount in every scenario, one with PD 0 or no exposure never; neither is simulated.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

LEVELS = (0.99, 0.999)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)
_MAX_CUSTOMERS = 2**32
_MAX_SCENARIOS = 2**31


@dataclass(frozen=True)
class LossDistribution:
    """The simulated 12-month loss of a book (amounts in the exposures' currency).

    ``var`` and ``es`` map each level to the value at risk and the expected shortfall;
    ``contributions`` holds each customer's expected-shortfall contribution (rows: customers in
    the input order, columns: ``levels``); ``losses`` the loss of every scenario.
    """

    levels: tuple[float, ...]
    expected_loss: float
    simulated_mean: float
    unexpected_loss: float
    var: dict[float, float]
    es: dict[float, float]
    contributions: np.ndarray
    losses: np.ndarray


def basel_correlation(pd_12m: np.ndarray) -> np.ndarray:
    """The Basel II/III corporate asset correlation: 0.12 to 0.24, lower as the PD rises."""
    weight = (1 - np.exp(-50 * np.asarray(pd_12m, dtype=float))) / (1 - math.exp(-50))
    return 0.12 * weight + 0.24 * (1 - weight)


def simulate_loss(
    pd_12m: np.ndarray,
    exposure: np.ndarray,
    lgd: float | np.ndarray,
    sector: np.ndarray | None = None,
    *,
    n_scenarios: int = 20_000,
    seed: int = 0,
    asset_correlation: float | None = None,
    sector_correlation: float = 1.0,
    levels: tuple[float, ...] = LEVELS,
    scenario_chunk: int = 512,
    customer_chunk: int = 4096,
) -> LossDistribution:
    """Simulate the book's loss in ``n_scenarios`` scenarios (see the module docstring).

    Args:
        pd_12m: Each customer's 12-month PD, in [0, 1].
        exposure: Exposure at default, >= 0 (missing counts as 0).
        lgd: Loss given default, one for all or one per customer, in [0, 1].
        sector: Each customer's sector (any labels); None: one sector.
        n_scenarios: Scenarios simulated.
        seed: Seed, 0 <= seed < 2**32.
        asset_correlation: Fixed asset correlation in [0, 1); None: :func:`basel_correlation`.
        sector_correlation: Correlation between two sectors' factors, in [0, 1].
        levels: Confidence levels of the VaR and expected shortfall, in (0, 1).
        scenario_chunk: Scenarios per tile.
        customer_chunk: Customers per tile.
    """
    p, amount = _check(pd_12m, exposure, lgd, n_scenarios, seed, levels)
    n = len(p)
    if asset_correlation is not None and not 0 <= asset_correlation < 1:
        raise ValueError(f"asset_correlation must be in [0, 1), got {asset_correlation}")
    rho = basel_correlation(p) if asset_correlation is None else float(asset_correlation)
    chunks = (scenario_chunk, customer_chunk)
    book, factors, certain = _prepare(
        p, amount, amount > 0, sector, rho, sector_correlation, n_scenarios, seed, chunks
    )
    live = book.index.astype(np.int64)
    losses = np.full(n_scenarios, amount[certain].sum(), dtype=np.int64)
    for rows, cols, lost in _tiles(np.arange(n_scenarios), book, seed, factors, *chunks):
        losses[rows] += lost @ book.amount[cols]
    order = np.lexsort((np.arange(n_scenarios), -losses))  # worst first, ties by scenario
    sizes = [_tail_size(q, n_scenarios) for q in levels]
    # each live customer's loss summed over the worst m scenarios, for each level's m
    tail = np.zeros((len(sizes), len(live)), dtype=np.int64)
    for rows, cols, lost in _tiles(order[: max(sizes)], book, seed, factors, *chunks):
        for j, m in enumerate(sizes):
            tail[j, cols] += lost[: max(m - rows.start, 0)].sum(axis=0) * book.amount[cols]
    contributions = np.zeros((n, len(levels)))
    for j, m in enumerate(sizes):
        contributions[certain, j] = amount[certain] / 100
        contributions[live, j] = tail[j] / (100 * m)
    ascending = np.sort(losses)
    return LossDistribution(
        levels=tuple(levels),
        expected_loss=float((p * amount).sum() / 100),
        simulated_mean=float(losses.mean() / 100),
        unexpected_loss=float(losses.std() / 100),
        var={q: float(ascending[math.ceil(round(q * n_scenarios, 9)) - 1] / 100) for q in levels},
        es={
            q: float(losses[order[:m]].sum() / (100 * m))
            for q, m in zip(levels, sizes, strict=True)
        },
        contributions=contributions,
        losses=losses / 100,
    )


def simulate_counts(
    pd_h: np.ndarray,
    members: np.ndarray,
    sector: np.ndarray | None = None,
    *,
    asset_correlation: float | np.ndarray,
    sector_correlation: float = 1.0,
    n_scenarios: int = 20_000,
    seed: int = 0,
    scenario_chunk: int = 512,
    customer_chunk: int = 4096,
) -> np.ndarray:
    """How many customers of each group default in each scenario, in the loss's copula.

    The same model, random numbers and tiles as :func:`simulate_loss` (a customer's default in
    a scenario is the one that simulation draws with the same seed, PD and correlation), but
    counting defaults per group instead of summing losses.

    Args:
        pd_h: Each customer's PD over the horizon simulated, in [0, 1].
        members: ``(n, G)`` 0/1: column ``j`` marks the customers of group ``j`` (a customer
            may be in several: its region, its sector, the whole book).
        sector: Each customer's sector for the sector factors; None: one factor.
        asset_correlation: One value, or one per customer, in [0, 1) (e.g.
            :func:`basel_correlation` of the 12-month PD).
        sector_correlation: Correlation between two sectors' factors, in [0, 1].
        n_scenarios: Scenarios simulated.
        seed: Seed, 0 <= seed < 2**32 (the same as :func:`simulate_loss`'s: the same draws).
        scenario_chunk: Scenarios per tile.
        customer_chunk: Customers per tile.

    Returns:
        ``(n_scenarios, G)`` int64 counts.
    """
    p = _check_pds(pd_h, n_scenarios, seed)
    weights = np.asarray(members)
    if weights.ndim != 2 or len(weights) != len(p) or not np.isin(weights, (0, 1)).all():
        raise ValueError(f"members must be 0/1 of shape ({len(p)}, groups), got {weights.shape}")
    rho = np.broadcast_to(np.asarray(asset_correlation, dtype=float), p.shape)
    if not np.all((rho >= 0) & (rho < 1)):
        raise ValueError("asset_correlation must be in [0, 1)")
    weights = weights.astype(np.int64)
    book, factors, certain = _prepare(
        p, weights, weights.any(axis=1), sector, rho, sector_correlation, n_scenarios, seed,
        (scenario_chunk, customer_chunk),
    )  # fmt: skip
    counts = np.tile(weights[certain].sum(axis=0), (n_scenarios, 1))
    tiles = _tiles(np.arange(n_scenarios), book, seed, factors, scenario_chunk, customer_chunk)
    for rows, cols, defaulted in tiles:
        counts[rows] += defaulted.astype(np.int64) @ book.amount[cols]
    return counts


def contributions_by(
    result: LossDistribution, groups: np.ndarray | pd.Series, level: float
) -> pd.Series:
    """The expected-shortfall contributions at ``level`` summed per group (largest first)."""
    column = result.contributions[:, result.levels.index(level)]
    summed = pd.Series(column).groupby(np.asarray(groups), sort=True).sum()
    return summed.sort_values(ascending=False, kind="stable")


def capped_exposure(
    exposure: np.ndarray, current_limit: np.ndarray, recommended_limit: np.ndarray
) -> np.ndarray:
    """Exposure once the policy's limit cuts hold: at most the recommended limit where it is cut.

    A customer whose recommended limit is below its current limit owes at most the recommended
    limit once its receivables have rolled over (one payment-terms cycle, well within the year);
    the others keep their exposure. A missing limit cuts nothing.
    """
    exposure = np.asarray(exposure, dtype=float)
    current = np.asarray(current_limit, dtype=float)
    recommended = np.asarray(recommended_limit, dtype=float)
    cut = np.isfinite(current) & np.isfinite(recommended) & (recommended < current)
    return np.where(cut, np.minimum(exposure, recommended), exposure)


def _prepare(
    p: np.ndarray,
    amount: np.ndarray,
    carries: np.ndarray,
    sector: np.ndarray | None,
    rho: float | np.ndarray,
    sector_correlation: float,
    n_scenarios: int,
    seed: int,
    chunks: tuple[int, int],
) -> tuple[_Customers, np.ndarray, np.ndarray]:
    """The simulated customers, each scenario's sector factors and who defaults for certain.

    ``carries``: the customers with something at stake (the others are left out); those with
    PD 1 default in every scenario (returned as a mask), PD 0 in none: neither is simulated.
    """
    n = len(p)
    if not 0 <= sector_correlation <= 1:
        raise ValueError(f"sector_correlation must be in [0, 1], got {sector_correlation}")
    if min(chunks) < 1:
        raise ValueError("scenario_chunk and customer_chunk must be at least 1")
    groups = np.zeros(n, dtype=np.int64)
    if sector is not None:
        if len(sector) != n:
            raise ValueError(f"sector has {len(sector)} rows, the PDs {n}")
        groups = pd.factorize(pd.Series(sector), sort=True, use_na_sentinel=False)[0]
    rho = np.broadcast_to(rho, (n,))
    factors = _sector_factors(seed, n_scenarios, int(groups.max(initial=0)) + 1, sector_correlation)
    live = np.flatnonzero((p > 0) & (p < 1) & carries)
    spread = np.sqrt(1 - rho[live])
    book = _Customers(
        index=live.astype(np.uint64),
        group=groups[live],
        threshold=ndtri(p[live]) / spread,
        loading=np.sqrt(rho[live]) / spread,
        amount=amount[live],
    )
    return book, factors, (p >= 1) & carries


@dataclass(frozen=True)
class _Customers:
    index: np.ndarray  # position in the input: the hash key
    group: np.ndarray
    threshold: np.ndarray  # Phi^-1(PD) / sqrt(1 - rho)
    loading: np.ndarray  # sqrt(rho) / sqrt(1 - rho)
    amount: np.ndarray  # LGD x EAD in cents (a loss), or 0/1 per group (a count)


def _tiles(
    scenarios: np.ndarray,
    book: _Customers,
    seed: int,
    factors: np.ndarray,
    scenario_chunk: int,
    customer_chunk: int,
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Who defaults, tile by tile: positions in ``scenarios``, customers, and the boolean tile."""
    for start in range(0, len(scenarios), scenario_chunk):
        rows = slice(start, min(start + scenario_chunk, len(scenarios)))
        chosen = scenarios[rows]
        keys = chosen.astype(np.uint64)
        for first in range(0, len(book.index), customer_chunk):
            cols = slice(first, first + customer_chunk)
            factor = factors[chosen]
            factor = factor if factor.shape[1] == 1 else factor[:, book.group[cols]]
            z = factor * -book.loading[cols]  # the customer defaults when e < z
            z += book.threshold[cols]
            yield rows, cols, _uniform(seed, 0, keys, book.index[cols]) < ndtr(z, out=z)


def _sector_factors(seed: int, n_scenarios: int, n_groups: int, correlation: float) -> np.ndarray:
    """Each scenario's factor per sector: the common factor and the sector's own part."""
    rows = np.arange(n_scenarios, dtype=np.uint64)
    draws = ndtri(_uniform(seed, 1, rows, np.arange(n_groups + 1, dtype=np.uint64)))
    if correlation == 1:  # one factor: every sector's is the common one
        return draws[:, :1]
    return math.sqrt(correlation) * draws[:, :1] + math.sqrt(1 - correlation) * draws[:, 1:]


def _uniform(seed: int, stream: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1), one per (row, column): SplitMix64 of the seed, stream and position."""
    x = (rows[:, None] << _SHIFT) | cols[None, :]
    x *= _GAMMA
    x += _mix(np.array([seed * 4 + stream], dtype=np.uint64))
    x = _mix(x)
    x >>= np.uint64(11)
    return (x + 0.5) * 2.0**-53


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (wrapping uint64 arithmetic), in place."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _tail_size(level: float, n_scenarios: int) -> int:
    return max(1, math.ceil(round((1 - level) * n_scenarios, 9)))


def _check(
    pd_12m: np.ndarray,
    exposure: np.ndarray,
    lgd: float | np.ndarray,
    n_scenarios: int,
    seed: int,
    levels: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Validated PDs and each customer's loss if it defaults (LGD x EAD) in whole cents."""
    p = _check_pds(pd_12m, n_scenarios, seed)
    ead = np.nan_to_num(np.asarray(exposure, dtype=float), nan=0.0)
    loss_rate = np.broadcast_to(np.asarray(lgd, dtype=float), p.shape)
    if ead.shape != p.shape:
        raise ValueError(f"exposure has shape {ead.shape}, pd_12m {p.shape}")
    if not np.all(np.isfinite(ead) & (ead >= 0)):
        raise ValueError("exposure must be finite and >= 0")
    if not np.all((loss_rate >= 0) & (loss_rate <= 1)):
        raise ValueError("lgd must be in [0, 1]")
    if not levels or not all(0 < q < 1 for q in levels):
        raise ValueError(f"levels must be in (0, 1), got {levels}")
    return p, np.rint(loss_rate * ead * 100).astype(np.int64)


def _check_pds(pds: np.ndarray, n_scenarios: int, seed: int) -> np.ndarray:
    """Validated PDs (one dimension, in [0, 1]), scenario count and seed."""
    p = np.asarray(pds, dtype=float)
    if p.ndim != 1 or len(p) >= _MAX_CUSTOMERS:
        raise ValueError(f"pd_12m must be one-dimensional with < 2**32 rows, got {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("pd_12m must be in [0, 1] (missing PDs are not allowed)")
    if not 1 <= n_scenarios < _MAX_SCENARIOS:
        raise ValueError(f"n_scenarios must be in [1, 2**31), got {n_scenarios}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return p
