"""Seeded synthetic trade-credit book with known true default probabilities.

The world, month by month:

* a macro cycle (AR(2)) drives an industry cycle per sector, more strongly in cyclical sectors
  (construction, hospitality); regions get their own AR(1) shocks;
* each customer has a latent credit health: a long-run level tied to its size plus an AR(1)
  drift; its effective health adds its sector's cycle and its region's shock;
* each month a healthy customer enters *distress* with probability
  ``sigmoid(HAZARD_A - HAZARD_B * health)``; ownership changes knock health down;
* each customer pays any day, at month-end runs or on a weekly run day, and sometimes in two
  parts; a customer with a balance overdue agrees payment plans, kept unless it falls into
  distress (``pipelines.sources.ledger_behaviours``, from their own random stream);
* health drives what can be observed: payment delays (worse health, later payments), disputes,
  legal disputes and management changes, and the ratios of annual statements filed with a lag;
* a distressed customer pays nothing from the start of its distress month on. A share
  ``FILER_SHARE`` files for insolvency within that month (the default date); the others are
  reported to the credit insurer at the end of the second month after (``defaults`` table)
  unless a non-disputed invoice reaches 90 days past due first (possible from the distress
  month on, as healthy customers pay by 89 days past due).

So the observed default date is a known function of the distress month, and the true
probability of default within ``horizon`` months after a month end ``t`` is

* 1 for a customer already distressed (its default is at most two months away);
* otherwise ``q * P(distress in t+1..t+H) + (1-q) * P(distress in t+1..t+H-2)``, computed by
  Monte Carlo over the future paths of every random driver from the state at ``t``.

The truth table has this for every horizon ``H = 1..12`` (``true_pd_<H>m``), read off the same
paths month by month; below 12 months a customer already distressed at ``t`` counts as certain
from the horizon of its insurer's claim (end of the second month after its distress month) on.

Healthy customers' delays are capped below 90 days, so the 90-days-past-due rule never fires
for a customer that is not distressed, and a distressed one defaults within its distress month
or the two after. The truth is therefore exact up to Monte Carlo error, except that a customer
entering distress in month t+11 or t+12 whose old invoices were already very late may cross
90 days past due inside the horizon, which the formula counts as outside (rare, and it makes
the oracle slightly pessimistic about itself, never better than the truth).

The latent world (customers, cycles, health, distress, true PD) is simulated in
``pipelines.sources.synthetic_world``; the observed tables are written from it in
``pipelines.sources.synthetic_records``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.sources.ledger_behaviours import STREAM, make_payment_plans
from pipelines.sources.synthetic_records import (
    draw_default_dates,
    make_events,
    make_financials,
    make_industry_index,
    make_invoices,
    stop_dates,
)
from pipelines.sources.synthetic_world import LATENT_COLUMNS, draw_customers, simulate, true_pd


def generate(n_customers: int, n_months: int, start: str, seed: int) -> dict[str, pd.DataFrame]:
    """Generate every contract table plus ``truth`` (true PD per customer-month and horizon).

    Args:
        n_customers: Customers in the book.
        n_months: Month ends of history; the last one is the data's as-of date.
        start: First month end, e.g. ``"2021-01-31"``.
        seed: Seed of the only random generator used.

    Returns:
        Tables ``customers``, ``invoices``, ``financials``, ``events``, ``industry_index``,
        ``defaults``, ``truth`` (``true_pd_1m`` .. ``true_pd_12m``: the PD within each
        horizon, and ``true_distress_1m`` .. ``true_distress_12m``: the chance of being in
        distress, so paying nothing, by the end of each month ahead; from one Monte Carlo,
        drawing them all moves no other table's random draws) and ``invoice_truth`` (each
        invoice's true payment timing, ``pipelines.sources.ledger_truth``).
    """
    if n_customers < 1 or n_months < 24:
        raise ValueError(f"need n_customers >= 1 and n_months >= 24, got {n_customers}, {n_months}")
    rng = np.random.default_rng(seed)
    months = pd.date_range(
        pd.Timestamp(start) + pd.offsets.MonthEnd(0), periods=n_months, freq="ME"
    )
    as_of = months[-1]
    customers = draw_customers(rng, n_customers, months)
    world = simulate(rng, customers, months)
    default_dates, defaults = draw_default_dates(rng, world, customers, as_of)
    ids = customers["customer_id"].to_numpy()
    brng = np.random.default_rng([STREAM, seed])  # the behaviours: moves no draw of rng
    ledger = make_invoices(rng, brng, world, customers, default_dates, as_of)
    # the tables are drawn in this order from the one generator: do not reorder
    return {
        "customers": customers.drop(columns=LATENT_COLUMNS),
        "invoices": ledger["invoices"],
        "payments": ledger["payments"],
        "financials": make_financials(rng, world, customers, as_of),
        "events": make_events(rng, world, customers, default_dates),
        "industry_index": make_industry_index(world),
        "defaults": defaults,
        "truth": true_pd(rng, world, customers, default_dates, horizon=12),
        "payment_plans": make_payment_plans(
            brng,
            ledger["invoices"],
            world.health,
            months,
            pd.Series(stop_dates(world), index=ids),
            default_dates.set_axis(ids),
        ),  # fmt: skip
        "invoice_truth": ledger["invoice_truth"],
    }
