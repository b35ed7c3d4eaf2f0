"""The scored book's 3- and 6-month outlook by region and sector, for ``summary.json``.

The performing (scored) customers' expected defaults per region, sector and for the whole book
with their interval (``models.outlook.book_outlook``, at the loss distribution's correlation),
beside each group's observed default rate of the last ``observed_months`` month ends (the
back-test's naive forecast, ``models.outlook.observed_rates``), scaled to the same horizon.
Skipped, with a log line, when the book has no term structure (no ``pd_3m`` / ``pd_6m``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd

from models.monitoring import SCORED
from models.outlook import FIGURES, HORIZONS, book_outlook, observed_rates, to_horizon
from pipelines.runtime.config import LossDistributionConfig, OutlookConfig

log = logging.getLogger("pipelines.score")


def outlook_summary(
    book: pd.DataFrame,
    snapshots: pd.DataFrame,
    defaults: pd.DataFrame,
    as_of: pd.Timestamp,
    opts: OutlookConfig,
    correlation: LossDistributionConfig,
) -> dict[str, Any]:
    """``{"outlook": ...}`` for the summary, or ``{}`` when the book lacks the term structure.

    ``groups``: one entry per grouping (``book``, ``region``, ``industry``) and group, with its
    customers and per horizon (``3m``, ``6m``) the expected defaults and rate, the interval
    (``low``/``high`` defaults and rates) and ``observed_rate`` (missing: nobody at risk).
    """
    missing = [c for c in (*(f"pd_{h}m" for h in HORIZONS), "pd_12m") if c not in book]
    if missing:
        log.info("no outlook by region and sector: the book lacks %s (no term structure)", missing)
        return {}
    scored = book[book["status"] == SCORED]
    rho = (
        correlation.asset_correlation if opts.asset_correlation is None else opts.asset_correlation
    )
    table = book_outlook(
        scored, level=opts.level, n_scenarios=opts.scenarios, seed=opts.seed,
        asset_correlation=rho, sector_correlation=correlation.sector_correlation,
    )  # fmt: skip
    observed = observed_rates(snapshots, defaults, as_of, opts.observed_months)["rate"]
    groups = []
    for (grouping, group), rows in table.groupby(["grouping", "group"], sort=False):
        rate = observed.get((grouping, group), math.nan)
        entry = {"grouping": grouping, "group": group, "customers": int(rows["customers"].iloc[0])}
        for row in rows.itertuples():
            figures = {k: getattr(row, k) for k in FIGURES}
            figures["observed_rate"] = to_horizon(rate, row.horizon)
            entry[f"{row.horizon}m"] = {k: _number(v) for k, v in figures.items()}
        groups.append(entry)
    log.info("outlook: %d groups, 3 and 6 months ahead", len(groups))
    return {
        "outlook": {
            "horizons": list(HORIZONS), "level": opts.level, "scenarios": opts.scenarios,
            "seed": opts.seed, "asset_correlation": "basel" if rho is None else rho,
            "observed_months": opts.observed_months, "groups": groups,
        }
    }  # fmt: skip


def _number(value: float) -> float | None:
    """Rounded for the JSON file; None where missing."""
    return None if pd.isna(value) else round(float(value), 6)
