"""The observed records of the synthetic book, written from its latent world.

Default dates and the insurer's claims, invoices and their payments, annual statements, events
and the published industry index: what a credit department would see of the customers of
``pipelines.sources.synthetic_world``, up to the data's as-of date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.sources.ledger_behaviours import draw_payment_habits, payment_records, settle
from pipelines.sources.ledger_truth import (
    DELAY_SD,
    DISPUTE_DAYS,
    MAX_DAYS_LATE,
    delay_center,
    invoice_truth,
)
from pipelines.sources.synthetic_world import INDUSTRIES, World


def draw_default_dates(
    rng: np.random.Generator, world: World, customers: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[pd.Series, pd.DataFrame]:
    """Observed default date per customer (NaT if none inside the data) and the defaults table.

    A filer's default is its filing date inside the distress month; any other distressed
    customer's is the insurer's claim at the end of the second month after, if that is not
    after ``as_of``.
    """
    months, d = world.months, world.distress_month
    idx = np.flatnonzero(d >= 0)
    month_start = months[d[idx]] - pd.offsets.MonthBegin(1)
    filing = month_start + pd.to_timedelta(rng.integers(0, 28, len(idx)), unit="D")
    claim = months[d[idx]] + pd.offsets.MonthEnd(2)
    in_data = np.asarray(claim <= as_of)
    claim = claim.where(in_data)
    filer = world.filer[idx]
    date = np.where(filer, filing, claim)
    default_date = pd.Series(pd.NaT, index=customers.index, dtype="datetime64[ns]")
    default_date.iloc[idx] = pd.to_datetime(date)
    claims = ~filer & in_data
    defaults = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[idx[claims]],
            "default_date": claim[claims],
            "default_type": "insurance_claim",
        }
    )
    return default_date, defaults.reset_index(drop=True)


def make_invoices(
    rng: np.random.Generator,
    brng: np.random.Generator,
    world: World,
    customers: pd.DataFrame,
    default_date: pd.Series,
    as_of: pd.Timestamp,
) -> dict[str, pd.DataFrame]:
    """Invoices issued before each customer's default, paid later the worse its health.

    How late a customer means to pay is drawn from ``rng``; its payment runs and partial
    payments from ``brng`` (``pipelines.sources.ledger_behaviours``). Nothing is paid from the
    start of a customer's distress month on, nor after ``as_of``.

    Returns:
        ``invoices``, ``payments`` (every payment made) and ``invoice_truth`` (each invoice's
        true payment timing as known at issue, ``pipelines.sources.ledger_truth``).
    """
    habits = draw_payment_habits(brng, customers)
    inv = _issue_invoices(rng, world.months, customers)
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
    center = delay_center(customers["terms_habit"].to_numpy()[cust], health)
    delay = (
        center + rng.normal(0, DELAY_SD, len(inv)) + disputed * rng.uniform(*DISPUTE_DAYS, len(inv))
    )
    delay = np.clip(np.round(delay), -(terms - 1), MAX_DAYS_LATE)
    issue = inv["issue_date"].to_numpy()
    due = issue + pd.to_timedelta(terms, unit="D").to_numpy()
    meant = due + pd.to_timedelta(delay, unit="D").to_numpy()
    paid = settle(brng, meant, due, issue, habits.iloc[cust], health, stop_dates(world)[cust],
                  as_of)  # fmt: skip
    amount = np.round(amount.to_numpy(), 2)
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"INV{i:08d}" for i in range(1, len(inv) + 1)],
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "issue_date": inv["issue_date"],
            "due_date": due,
            "amount": amount,
            "currency": "EUR",
            "paid_date": np.where(paid.settled_made, paid.settled, np.datetime64("NaT")),
            "paid_amount": np.where(paid.settled_made, amount, np.nan),
            "disputed": disputed,
        }
    )
    truth = invoice_truth(invoices, center, disputed, habits.iloc[cust], paid.p_partial)
    return {
        "invoices": invoices,
        "payments": payment_records(invoices, paid),
        "invoice_truth": truth,
    }


def stop_dates(world: World) -> np.ndarray:
    """Per customer, the first day it pays nothing any more (its distress month's first; NaT)."""
    d = world.distress_month
    start = world.months[np.maximum(d, 0)] - pd.offsets.MonthBegin(1)
    return np.where(d >= 0, start.to_numpy(), np.datetime64("NaT")).astype("datetime64[ns]")


def _issue_invoices(
    rng: np.random.Generator, months: pd.DatetimeIndex, customers: pd.DataFrame
) -> pd.DataFrame:
    """Invoices of every active customer each month: customer, month, issue date, count."""
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
    return pd.concat(parts, ignore_index=True)


def make_financials(
    rng: np.random.Generator, world: World, customers: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Annual statements of the customers that file, available with a lag of 2-9 months.

    A statement is kept if it is available by ``as_of``, the customer traded at its period end
    and was not distressed by then.
    """
    months = world.months
    revenue0 = customers["annual_revenue"].to_numpy()
    files = rng.random(len(customers)) < np.where(revenue0 >= 1e6, 0.85, 0.5)
    rows = []
    for year in range(months[0].year - 1, as_of.year + 1):
        period_end = pd.Timestamp(year=year, month=12, day=31)
        m = int(np.clip(np.searchsorted(months, period_end), 0, len(months) - 1))
        x = world.health[m] + rng.normal(0, 0.25, len(customers))
        lag = rng.integers(60, 270, len(customers))
        available = period_end + pd.to_timedelta(lag, unit="D")
        keep = files & (available <= as_of) & (customers["start_month"].to_numpy() <= m)
        keep &= (world.distress_month < 0) | (world.distress_month > m)
        frame = _statements(rng, x, revenue0)
        frame.insert(0, "customer_id", customers["customer_id"])
        frame.insert(1, "period_end", period_end)
        frame.insert(2, "available_date", available)
        rows.append(frame[keep])
    out = pd.concat(rows, ignore_index=True)
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(0)
    return out.sort_values(["customer_id", "period_end"], ignore_index=True)


def _statements(rng: np.random.Generator, x: np.ndarray, revenue0: np.ndarray) -> pd.DataFrame:
    """Statement figures of one year from each customer's noisy health ``x`` at its period end."""
    revenue = revenue0 * np.exp(0.08 * x + rng.normal(0, 0.06, len(x)))
    assets = revenue * rng.uniform(0.6, 1.5, len(x))
    debt_ratio = 1 / (1 + np.exp(0.3 + 0.9 * x + rng.normal(0, 0.3, len(x))))
    liabilities = assets * debt_ratio
    current_liab = liabilities * rng.uniform(0.4, 0.7, len(x))
    ebit = revenue * (0.05 + 0.04 * x + rng.normal(0, 0.02, len(x)))
    interest = liabilities * 0.04
    return pd.DataFrame(
        {
            "total_assets": assets,
            "total_liabilities": liabilities,
            "current_assets": current_liab * np.exp(0.25 + 0.3 * x + rng.normal(0, 0.2, len(x))),
            "current_liabilities": current_liab,
            "cash": current_liab * np.exp(-1.5 + 0.4 * x + rng.normal(0, 0.3, len(x))),
            "revenue": revenue,
            "ebit": ebit,
            "net_income": (ebit - interest) * 0.75,
            "operating_cash_flow": revenue * (0.06 + 0.05 * x + rng.normal(0, 0.03, len(x))),
            "interest_expense": interest,
        }
    )


def make_events(
    rng: np.random.Generator, world: World, customers: pd.DataFrame, default_date: pd.Series
) -> pd.DataFrame:
    """Events of each customer up to its default date.

    Legal disputes and management changes (likelier the worse the health), ownership changes
    and insolvency filings.
    """
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


def make_industry_index(world: World) -> pd.DataFrame:
    """The published industry-cycle index of every sector at every month end."""
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
