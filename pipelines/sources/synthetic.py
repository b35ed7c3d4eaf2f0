"""Seeded synthetic trade-credit book with known true default probabilities.

The world, month by month:

* a macro cycle (AR(2)) drives an industry cycle per sector, more strongly in cyclical sectors
  (construction, hospitality); regions get their own AR(1) shocks;
* each customer has a latent credit health: a long-run level tied to its size plus an AR(1)
  drift; its effective health adds its sector's cycle and its region's shock;
* each month a healthy customer enters *distress* with probability
  ``sigmoid(HAZARD_A - HAZARD_B * health)``; ownership changes knock health down;
* health drives what can be observed: payment delays (worse health, later payments), disputes,
  legal disputes and management changes, and the ratios of annual statements filed with a lag;
* a distressed customer pays nothing from the start of its distress month on. A share
  ``FILER_SHARE`` files for insolvency within that month (the default date); the others are
  reported to the credit insurer at the end of the second month after (``defaults`` table)
  unless a non-disputed invoice reaches 90 days past due first (possible from the distress
  month on, as healthy delays are capped at 85 days).

So the observed default date is a known function of the distress month, and the true
probability of default within ``horizon`` months after a month end ``t`` is

* 1 for a customer already distressed (its default is at most two months away);
* otherwise ``q * P(distress in t+1..t+H) + (1-q) * P(distress in t+1..t+H-2)``, computed by
  Monte Carlo over the future paths of every random driver from the state at ``t``.

Healthy customers' delays are capped below 90 days, so the 90-days-past-due rule never fires
for a customer that is not distressed, and a distressed one defaults within its distress month
or the two after. The truth is therefore exact up to Monte Carlo error, except that a customer
entering distress in month t+11 or t+12 whose old invoices were already very late may cross
90 days past due inside the horizon, which the formula counts as outside (rare, and it makes
the oracle slightly pessimistic about itself, never better than the truth).
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
_INTERNAL = ["start_month", "monthly_purchases", "mu0", "terms_habit"]


@dataclass(frozen=True)
class _World:
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


def generate(n_customers: int, n_months: int, start: str, seed: int) -> dict[str, pd.DataFrame]:
    """Generate every contract table plus ``truth`` (true 12-month PD per customer-month).

    Args:
        n_customers: Customers in the book.
        n_months: Month ends of history; the last one is the data's as-of date.
        start: First month end, e.g. ``"2021-01-31"``.
        seed: Seed of the only random generator used.

    Returns:
        Tables ``customers``, ``invoices``, ``financials``, ``events``, ``industry_index``,
        ``defaults`` and ``truth``.
    """
    if n_customers < 1 or n_months < 24:
        raise ValueError(f"need n_customers >= 1 and n_months >= 24, got {n_customers}, {n_months}")
    rng = np.random.default_rng(seed)
    months = pd.date_range(
        pd.Timestamp(start) + pd.offsets.MonthEnd(0), periods=n_months, freq="ME"
    )
    customers = _draw_customers(rng, n_customers, months)
    world = _simulate(rng, customers, months)
    default_dates, defaults = _default_dates(rng, world, customers)
    invoices = _make_invoices(rng, world, customers, default_dates)
    return {
        "customers": customers.drop(columns=_INTERNAL),
        "invoices": invoices,
        "financials": _make_financials(rng, world, customers),
        "events": _make_events(rng, world, customers, default_dates),
        "industry_index": _industry_index(world),
        "defaults": defaults,
        "truth": _true_pd(rng, world, customers, default_dates, horizon=12),
    }


def _draw_customers(rng: np.random.Generator, n: int, months: pd.DatetimeIndex) -> pd.DataFrame:
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


def _simulate(
    rng: np.random.Generator, customers: pd.DataFrame, months: pd.DatetimeIndex
) -> _World:
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
    return _World(months, macro, sector, region, z, mu, health, distress, filer, ownership)


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


def _default_dates(
    rng: np.random.Generator, world: _World, customers: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame]:
    """Observed default date per customer (NaT if none inside the data) and the defaults table."""
    months, d = world.months, world.distress_month
    idx = np.flatnonzero(d >= 0)
    month_start = months[d[idx]] - pd.offsets.MonthBegin(1)
    filing = month_start + pd.to_timedelta(rng.integers(0, 28, len(idx)), unit="D")
    claim_month = d[idx] + 2
    claim = pd.DatetimeIndex([months[c] if c < len(months) else pd.NaT for c in claim_month])
    filer = world.filer[idx]
    date = np.where(filer, filing, claim)
    default_date = pd.Series(pd.NaT, index=customers.index, dtype="datetime64[ns]")
    default_date.iloc[idx] = pd.to_datetime(date)
    claims = ~filer & (claim_month < len(months))
    defaults = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[idx[claims]],
            "default_date": claim[claims],
            "default_type": "insurance_claim",
        }
    )
    return default_date, defaults.reset_index(drop=True)


def _make_invoices(
    rng: np.random.Generator, world: _World, customers: pd.DataFrame, default_date: pd.Series
) -> pd.DataFrame:
    months, end = world.months, world.months[-1]
    start_month = customers["start_month"].to_numpy()
    parts = []
    for m, month_end in enumerate(months):
        active = np.flatnonzero(start_month <= m)
        n_inv = 1 + rng.poisson(1.5, len(active))
        cust = np.repeat(active, n_inv)
        days = rng.integers(0, month_end.day, len(cust))
        issue = (month_end - pd.offsets.MonthBegin(1)) + pd.to_timedelta(days, unit="D")
        issue = np.maximum(issue, customers["relationship_start"].to_numpy()[cust])
        parts.append(
            pd.DataFrame(
                {"cust": cust, "month": m, "issue_date": issue, "n": np.repeat(n_inv, n_inv)}
            )
        )
    inv = pd.concat(parts, ignore_index=True)
    dflt = default_date.to_numpy()[inv["cust"]]
    inv = inv[pd.isna(dflt) | (inv["issue_date"].to_numpy() < dflt)].reset_index(drop=True)
    cust, health = inv["cust"].to_numpy(), world.health[inv["month"], inv["cust"]]
    terms = customers["payment_terms_days"].to_numpy()[cust]
    amount = (
        customers["monthly_purchases"].to_numpy()[cust]
        / inv["n"]
        * rng.lognormal(0, 0.35, len(inv))
    )
    disputed = rng.random(len(inv)) < 1 / (1 + np.exp(3.6 + 0.6 * health))
    delay = (
        customers["terms_habit"].to_numpy()[cust]
        + 5
        + 10 * np.log1p(np.exp(1.2 * (0.5 - health)))
        + rng.normal(0, 4, len(inv))
        + disputed * rng.uniform(15, 40, len(inv))
    )
    delay = np.clip(np.round(delay), -(terms - 1), 85)
    due = inv["issue_date"] + pd.to_timedelta(terms, unit="D")
    paid = due + pd.to_timedelta(delay, unit="D")
    d = world.distress_month[cust]
    stop = np.where(d >= 0, months[np.maximum(d, 0)] - pd.offsets.MonthBegin(1), pd.NaT)
    unpaid = (d >= 0) & (paid.to_numpy() >= stop)  # distress: nothing is paid any more
    unpaid |= paid.to_numpy() > end.to_datetime64()
    paid = paid.where(~unpaid)
    amount = np.round(amount.to_numpy(), 2)
    return pd.DataFrame(
        {
            "invoice_id": [f"INV{i:08d}" for i in range(1, len(inv) + 1)],
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "issue_date": inv["issue_date"],
            "due_date": due,
            "amount": amount,
            "currency": "EUR",
            "paid_date": paid,
            "paid_amount": np.where(unpaid, np.nan, amount),
            "disputed": disputed,
        }
    )


def _make_financials(
    rng: np.random.Generator, world: _World, customers: pd.DataFrame
) -> pd.DataFrame:
    months = world.months
    revenue0 = customers["annual_revenue"].to_numpy()
    files = rng.random(len(customers)) < np.where(revenue0 >= 1e6, 0.85, 0.5)
    rows = []
    for year in range(months[0].year - 1, months[-1].year + 1):
        period_end = pd.Timestamp(year=year, month=12, day=31)
        m = int(np.clip(np.searchsorted(months, period_end), 0, len(months) - 1))
        x = world.health[m] + rng.normal(0, 0.25, len(customers))
        lag = rng.integers(60, 270, len(customers))
        available = period_end + pd.to_timedelta(lag, unit="D")
        keep = files & (available <= months[-1]) & (customers["start_month"].to_numpy() <= m)
        keep &= (world.distress_month < 0) | (world.distress_month > m)
        revenue = revenue0 * np.exp(0.08 * x + rng.normal(0, 0.06, len(x)))
        assets = revenue * rng.uniform(0.6, 1.5, len(x))
        debt_ratio = 1 / (1 + np.exp(0.3 + 0.9 * x + rng.normal(0, 0.3, len(x))))
        liabilities = assets * debt_ratio
        current_liab = liabilities * rng.uniform(0.4, 0.7, len(x))
        ebit = revenue * (0.05 + 0.04 * x + rng.normal(0, 0.02, len(x)))
        interest = liabilities * 0.04
        frame = pd.DataFrame(
            {
                "customer_id": customers["customer_id"],
                "period_end": period_end,
                "available_date": available,
                "total_assets": assets,
                "total_liabilities": liabilities,
                "current_assets": current_liab
                * np.exp(0.25 + 0.3 * x + rng.normal(0, 0.2, len(x))),
                "current_liabilities": current_liab,
                "cash": current_liab * np.exp(-1.5 + 0.4 * x + rng.normal(0, 0.3, len(x))),
                "revenue": revenue,
                "ebit": ebit,
                "net_income": (ebit - interest) * 0.75,
                "operating_cash_flow": revenue * (0.06 + 0.05 * x + rng.normal(0, 0.03, len(x))),
                "interest_expense": interest,
            }
        )
        rows.append(frame[keep])
    out = pd.concat(rows, ignore_index=True)
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(0)
    return out.sort_values(["customer_id", "period_end"], ignore_index=True)


def _make_events(
    rng: np.random.Generator, world: _World, customers: pd.DataFrame, default_date: pd.Series
) -> pd.DataFrame:
    months, health = world.months, world.health
    active = customers["start_month"].to_numpy()[None, :] <= np.arange(len(months))[:, None]
    kinds = {
        "legal_dispute": (rng.random(health.shape) < 1 / (1 + np.exp(5.0 + 0.9 * health))),
        "management_change": (rng.random(health.shape) < 1 / (1 + np.exp(5.6 + 0.5 * health))),
        "ownership_change": world.ownership,
    }
    rows = []
    for kind, hits in kinds.items():
        m, c = np.nonzero(hits & active)
        day = rng.integers(0, 28, len(m))
        date = (months[m] - pd.offsets.MonthBegin(1)) + pd.to_timedelta(day, unit="D")
        rows.append(pd.DataFrame({"cust": c, "event_date": date, "event_type": kind}))
    filers = np.flatnonzero((world.distress_month >= 0) & world.filer)
    rows.append(
        pd.DataFrame(
            {
                "cust": filers,
                "event_date": default_date.iloc[filers].to_numpy(),
                "event_type": "insolvency_filing",
            }
        )
    )
    ev = pd.concat(rows, ignore_index=True)
    dflt = default_date.to_numpy()[ev["cust"]]
    ev = ev[pd.isna(dflt) | (ev["event_date"].to_numpy() <= dflt)]
    ev = ev.assign(
        customer_id=customers["customer_id"].to_numpy()[ev["cust"]],
        description=ev["event_type"].str.replace("_", " ").str.capitalize() + " reported",
    )
    cols = ["customer_id", "event_date", "event_type", "description"]
    return ev[cols].sort_values(["customer_id", "event_date", "event_type"], ignore_index=True)


def _industry_index(world: _World) -> pd.DataFrame:
    cyc = np.array([INDUSTRIES[i][0] for i in INDUSTRIES])
    cycle = cyc[None, :] * (world.macro[1:, None] + world.sector)
    value = np.round(100 * np.exp(0.08 * cycle), 2)
    return pd.DataFrame(
        {
            "industry": np.tile(list(INDUSTRIES), len(world.months)),
            "month": np.repeat(world.months, len(INDUSTRIES)),
            "value": value.ravel(),
        }
    )


def _true_pd(
    rng: np.random.Generator,
    world: _World,
    customers: pd.DataFrame,
    default_date: pd.Series,
    horizon: int,
) -> pd.DataFrame:
    """True PD within ``horizon`` months of each month end for customers not yet in default."""
    sector_idx, region_idx = _indices(customers)
    mu_at = customers["mu0"].to_numpy()[None, :] + OWNERSHIP_SHOCK * np.cumsum(
        world.ownership, axis=0
    )
    start_month = customers["start_month"].to_numpy()
    frames = []
    for m, month_end in enumerate(world.months):
        alive = (start_month <= m) & ~(default_date.to_numpy() <= month_end.to_datetime64())
        idx = np.flatnonzero(alive)
        distressed = (world.distress_month[idx] >= 0) & (world.distress_month[idx] <= m)
        p_all, p_short = _mc_distress(rng, world, m, idx, mu_at[m], sector_idx, region_idx, horizon)
        truth = np.where(distressed, 1.0, FILER_SHARE * p_all + (1 - FILER_SHARE) * p_short)
        frames.append(pd.DataFrame({"cust": idx, "as_of_date": month_end, "true_pd_12m": truth}))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "customer_id", customers["customer_id"].to_numpy()[out.pop("cust")])
    return out


def _mc_distress(
    rng: np.random.Generator,
    world: _World,
    m: int,
    idx: np.ndarray,
    mu: np.ndarray,
    sector_idx: np.ndarray,
    region_idx: np.ndarray,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """P(distress within ``horizon`` and within ``horizon - 2`` months) from the state at ``m``."""
    p_paths = MC_PATHS
    cyc = np.array([INDUSTRIES[i][0] for i in INDUSTRIES], dtype=np.float32)
    g1 = np.full(p_paths, world.macro[m + 1], np.float32)
    g0 = np.full(p_paths, world.macro[m], np.float32)
    s = np.tile(world.sector[m].astype(np.float32), (p_paths, 1))
    r = np.tile(world.region[m].astype(np.float32), (p_paths, 1))
    z = np.tile(world.z[m, idx].astype(np.float32), (p_paths, 1))
    mu_p = np.tile(mu[idx].astype(np.float32), (p_paths, 1))
    surv = np.ones((p_paths, len(idx)), np.float32)
    hit_all = np.zeros(len(idx), np.float64)
    hit_short = np.zeros(len(idx), np.float64)
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
        hit_all += enter
        if k <= horizon - 2:
            hit_short += enter
    return hit_all, hit_short
