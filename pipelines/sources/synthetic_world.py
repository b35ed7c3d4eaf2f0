"""The latent world of the synthetic book: customers, cycles, credit health, distress, true PD.

Everything here is hidden from the models: the macro, sector and region cycles, each customer's
health and distress month, and the true probability of default worked out from them by Monte
Carlo. ``pipelines.sources.synthetic_records`` writes the observable tables from this state;
``pipelines.sources.synthetic`` describes the world and runs both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

INDUSTRIES: dict[str, tuple[float, float]] = {
    # sector: (cyclicality, base risk shift of health)
    "construction": (1.0, -0.35),
    "hospitality": (0.8, -0.3),
    "transport": (0.7, -0.15),
    "retail": (0.6, -0.15),
    "manufacturing": (0.6, 0.0),
    "agriculture": (0.5, -0.05),
    "wholesale": (0.5, 0.0),
    "energy": (0.5, 0.1),
    "technology": (0.4, 0.05),
    "healthcare": (0.2, 0.3),
}
REGIONS: dict[str, str] = {
    "Nordics": "SE",
    "DACH": "DE",
    "Benelux": "NL",
    "Iberia": "ES",
    "CEE": "PL",
}

HAZARD_A, HAZARD_B = -5.6, 1.15
CYCLE_WEIGHT, REGION_WEIGHT = 0.55, 0.45
Z_RHO, Z_SD = 0.92, 0.22
MACRO_AR, MACRO_SD = (1.75, -0.8), 0.12
SECTOR_RHO, SECTOR_SD = 0.9, 0.18
REGION_RHO, REGION_SD = 0.85, 0.25
OWNERSHIP_RATE, OWNERSHIP_SHOCK = 0.004, -0.9
FILER_SHARE = 0.4
MC_PATHS = 96
# columns of the drawn customers that only the simulation sees
LATENT_COLUMNS = ["start_month", "monthly_purchases", "mu0", "terms_habit"]


@dataclass(frozen=True)
class World:
    """Latent state of the simulation, one row per month (and customer)."""

    months: pd.DatetimeIndex
    macro: np.ndarray  # (M + 1,) includes the month before the first
    sector: np.ndarray  # (M, I)
    region: np.ndarray  # (M, R)
    z: np.ndarray  # (M, N) idiosyncratic health drift
    mu: np.ndarray  # (N,) long-run health (ownership shocks applied from their month on)
    health: np.ndarray  # (M, N) effective health
    distress_month: np.ndarray  # (N,) month index of distress, -1 if none
    filer: np.ndarray  # (N,) files for insolvency when distressed
    ownership: np.ndarray  # (M, N) ownership change that month


def draw_customers(rng: np.random.Generator, n: int, months: pd.DatetimeIndex) -> pd.DataFrame:
    """The customer book, with the :data:`LATENT_COLUMNS` only the simulation uses."""
    industries = np.array(list(INDUSTRIES))
    regions = np.array(list(REGIONS))
    revenue = np.round(np.exp(rng.normal(np.log(5e6), 1.1, n)), -3)
    size_z = (np.log(revenue) - np.log(5e6)) / 1.1
    industry = rng.choice(industries, n, p=_sector_weights())
    base = np.array([INDUSTRIES[i][1] for i in industry])
    mu0 = 0.55 + base + 0.3 * size_z + rng.normal(0, 0.75, n)
    joins = rng.random(n) < 0.25
    start_month = np.where(joins, rng.integers(0, len(months), n), -1)
    years_back = rng.uniform(0.2, 15, n)
    rel_start = np.where(
        joins,
        months[np.maximum(start_month, 0)] - pd.to_timedelta(rng.integers(0, 27, n), unit="D"),
        months[0] - pd.to_timedelta(np.round(years_back * 365.25), unit="D"),
    )
    small = revenue < 1e6
    terms = np.where(small, 30, rng.choice([30, 45, 60, 90], n, p=[0.35, 0.3, 0.25, 0.1]))
    monthly_purchases = revenue * rng.uniform(0.01, 0.05, n) / 12
    limit = np.maximum(1000.0, np.round(monthly_purchases * (terms / 30 + 1.5), -3))
    region = rng.choice(regions, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(1, n + 1)],
            "name": _company_names(rng, industry),
            "country": [REGIONS[r] for r in region],
            "region": region,
            "industry": industry,
            "annual_revenue": revenue,
            "relationship_start": pd.to_datetime(rel_start).normalize(),
            "credit_limit": limit,
            "payment_terms_days": terms.astype("int64"),
            "start_month": start_month,
            "monthly_purchases": monthly_purchases,
            "mu0": mu0,
            "terms_habit": rng.normal(0, 3, n),
        }
    )


def _sector_weights() -> np.ndarray:
    w = np.array([0.14, 0.07, 0.1, 0.12, 0.16, 0.06, 0.14, 0.05, 0.1, 0.06])
    return w / w.sum()


def _company_names(rng: np.random.Generator, industry: np.ndarray) -> list[str]:
    first = (
        "Nord Alpen Rhein Baltic Iber Vista Oak Stone Blue Green "
        "Sun Delta Atlas Polar Lake River Hill Union Pioneer Summit"
    ).split()
    second = ["tech", "werk", "bau", "trans", "link", "line", "field", "gate", "point", "way"]
    legal = ["GmbH", "BV", "AB", "SA", "Sp. z o.o.", "Ltd", "AG"]
    picks = zip(
        rng.integers(0, len(first), len(industry)),
        rng.integers(0, len(second), len(industry)),
        rng.integers(0, len(legal), len(industry)),
        strict=True,
    )
    return [
        f"{first[a]}{second[b]} {ind.capitalize()} {legal[c]}"
        for (a, b, c), ind in zip(picks, industry, strict=True)
    ]


def simulate(rng: np.random.Generator, customers: pd.DataFrame, months: pd.DatetimeIndex) -> World:
    """Run the cycles and every customer's health month by month, drawing its distress month."""
    m_count, n = len(months), len(customers)
    sector_idx, region_idx = _indices(customers)
    cyc = np.array([INDUSTRIES[i][0] for i in INDUSTRIES])
    macro = _burn_in_macro(rng, m_count)
    sector = np.zeros((m_count, len(INDUSTRIES)))
    region = np.zeros((m_count, len(REGIONS)))
    z = np.zeros((m_count, n))
    health = np.zeros((m_count, n))
    ownership = np.zeros((m_count, n), dtype=bool)
    mu = customers["mu0"].to_numpy().copy()
    s_prev = rng.normal(0, SECTOR_SD / np.sqrt(1 - SECTOR_RHO**2), len(INDUSTRIES))
    r_prev = rng.normal(0, REGION_SD / np.sqrt(1 - REGION_RHO**2), len(REGIONS))
    z_prev = rng.normal(0, Z_SD / np.sqrt(1 - Z_RHO**2), n)
    distress = np.full(n, -1)
    start_month = customers["start_month"].to_numpy()
    for m in range(m_count):
        sector[m] = SECTOR_RHO * s_prev + rng.normal(0, SECTOR_SD, len(INDUSTRIES))
        region[m] = REGION_RHO * r_prev + rng.normal(0, REGION_SD, len(REGIONS))
        z[m] = Z_RHO * z_prev + rng.normal(0, Z_SD, n)
        ownership[m] = rng.random(n) < OWNERSHIP_RATE
        mu = mu + OWNERSHIP_SHOCK * ownership[m]
        cycle = cyc * (macro[m + 1] + sector[m])
        health[m] = (
            mu + z[m] + CYCLE_WEIGHT * cycle[sector_idx] + REGION_WEIGHT * region[m][region_idx]
        )
        at_risk = (distress < 0) & (start_month <= m)
        hits = at_risk & (rng.random(n) < _hazard(health[m]))
        distress[hits] = m
        s_prev, r_prev, z_prev = sector[m], region[m], z[m]
    filer = rng.random(n) < FILER_SHARE
    return World(months, macro, sector, region, z, mu, health, distress, filer, ownership)


def _indices(customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    sector_idx = pd.Categorical(customers["industry"], categories=list(INDUSTRIES)).codes
    region_idx = pd.Categorical(customers["region"], categories=list(REGIONS)).codes
    return np.asarray(sector_idx), np.asarray(region_idx)


def _burn_in_macro(rng: np.random.Generator, m_count: int) -> np.ndarray:
    burn = 120
    g = np.zeros(burn + m_count + 1)
    for k in range(2, len(g)):
        g[k] = MACRO_AR[0] * g[k - 1] + MACRO_AR[1] * g[k - 2] + rng.normal(0, MACRO_SD)
    return g[burn:]


def _hazard(health: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(HAZARD_A - HAZARD_B * health)))


def true_pd(
    rng: np.random.Generator,
    world: World,
    customers: pd.DataFrame,
    default_date: pd.Series,
    horizon: int,
) -> pd.DataFrame:
    """True cumulative PD within 1..``horizon`` months of each month end, customers not in default.

    Columns ``true_pd_1m`` .. ``true_pd_<horizon>m`` and ``true_distress_1m`` ..
    ``true_distress_<horizon>m`` (the chance of being in distress by the end of month ``m + k``,
    1 for a customer in distress already: it pays no invoice from its distress month on), all
    from the one Monte Carlo (the months
    of a path are drawn once, the cumulative distress probability read off after each). A
    customer already distressed at ``m`` (a non-filer: a filer has defaulted) defaults at the
    latest with the insurer's claim at the end of month ``d + 2``: its PD is 1 from that
    horizon on and 0 before (an earlier 90-days-past-due crossing counts as outside, as for the
    not yet distressed).
    """
    sector_idx, region_idx = _indices(customers)
    mu_at = customers["mu0"].to_numpy()[None, :] + OWNERSHIP_SHOCK * np.cumsum(
        world.ownership, axis=0
    )
    start_month = customers["start_month"].to_numpy()
    frames = []
    for m, month_end in enumerate(world.months):
        alive = (start_month <= m) & ~(default_date.to_numpy() <= month_end.to_datetime64())
        idx = np.flatnonzero(alive)
        d = world.distress_month[idx]
        distressed = (d >= 0) & (d <= m)
        cum = _mc_distress(rng, world, m, idx, mu_at[m], sector_idx, region_idx, horizon)
        columns = {"cust": idx, "as_of_date": month_end}
        for h in range(1, horizon + 1):
            p_short = cum[h - 3] if h >= 3 else 0.0
            mc = FILER_SHARE * cum[h - 1] + (1 - FILER_SHARE) * p_short
            columns[f"true_pd_{h}m"] = np.where(distressed, (d + 2 <= m + h).astype(float), mc)
        for k in range(1, horizon + 1):  # distress ends payments (the ledger's oracle)
            columns[f"true_distress_{k}m"] = np.where(distressed, 1.0, cum[k - 1])
        frames.append(pd.DataFrame(columns))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "customer_id", customers["customer_id"].to_numpy()[out.pop("cust")])
    return out


def _mc_distress(
    rng: np.random.Generator,
    world: World,
    m: int,
    idx: np.ndarray,
    mu: np.ndarray,
    sector_idx: np.ndarray,
    region_idx: np.ndarray,
    horizon: int,
) -> np.ndarray:
    """P(distress within k months) from the state at ``m``, one row per k = 1..``horizon``."""
    p_paths = MC_PATHS
    cyc = np.array([INDUSTRIES[i][0] for i in INDUSTRIES], dtype=np.float32)
    g1 = np.full(p_paths, world.macro[m + 1], np.float32)
    g0 = np.full(p_paths, world.macro[m], np.float32)
    s = np.tile(world.sector[m].astype(np.float32), (p_paths, 1))
    r = np.tile(world.region[m].astype(np.float32), (p_paths, 1))
    z = np.tile(world.z[m, idx].astype(np.float32), (p_paths, 1))
    mu_p = np.tile(mu[idx].astype(np.float32), (p_paths, 1))
    surv = np.ones((p_paths, len(idx)), np.float32)
    hit = np.zeros(len(idx), np.float64)
    cum = np.empty((horizon, len(idx)), np.float64)
    for k in range(1, horizon + 1):
        g0, g1 = g1, MACRO_AR[0] * g1 + MACRO_AR[1] * g0 + rng.normal(0, MACRO_SD, p_paths)
        s = SECTOR_RHO * s + rng.normal(0, SECTOR_SD, s.shape)
        r = REGION_RHO * r + rng.normal(0, REGION_SD, r.shape)
        z = Z_RHO * z + rng.normal(0, Z_SD, z.shape).astype(np.float32)
        mu_p = mu_p + OWNERSHIP_SHOCK * (rng.random(z.shape, dtype=np.float32) < OWNERSHIP_RATE)
        cycle = cyc[None, :] * (g1[:, None] + s)
        health = (
            mu_p
            + z
            + CYCLE_WEIGHT * cycle[:, sector_idx[idx]]
            + REGION_WEIGHT * r[:, region_idx[idx]]
        )
        p = _hazard(health)
        enter = (surv * p).mean(axis=0)
        surv *= 1 - p
        hit += enter
        cum[k - 1] = hit
    return cum
