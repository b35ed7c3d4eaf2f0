"""The scored book's 12-month loss distribution, for ``data/scored/summary.json`` and the report.

The book is the scored customers at their 12-month PD and the defaulted ones at PD 1 (their
loss is certain: LGD x exposure in every scenario), each at its exposure and the policy's LGD,
simulated by ``models.loss_distribution``. The same scenarios (same seed) are simulated again
with the exposure of each customer the policy asks to reduce the limit of (action
``reduce_limit``) capped at its recommended limit (``models.loss_distribution.capped_exposure``),
so the change in the 99.9 % figures is the effect of the limit cuts alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from models.loss_distribution import (
    LossDistribution,
    capped_exposure,
    contributions_by,
    simulate_loss,
)
from models.monitoring import IN_DEFAULT, SCORED
from models.portfolio import concentration
from pipelines.runtime.config import LossDistributionConfig

TAIL = 0.999


def loss_summary(book: pd.DataFrame, lgd: float, opts: LossDistributionConfig) -> dict[str, Any]:
    """EL, UL, VaR and ES at 99 % and 99.9 %, contributions by sector and customer, limit cuts.

    Amounts are rounded to the cent; ``defaulted_loss`` is the part of every figure that is
    certain (the customers in default). ``by_sector`` adds up to the 99.9 % expected shortfall;
    ``top_contributors`` are the performing customers with the largest contributions to it
    (a defaulted customer's contribution is its certain loss: nothing left to manage).
    """
    held = book[book["status"].isin([SCORED, IN_DEFAULT])].reset_index(drop=True)
    in_default = (held["status"] == IN_DEFAULT).to_numpy()
    pds = np.where(in_default, 1.0, held["pd_12m"].to_numpy(dtype=float))
    exposure = np.nan_to_num(held["exposure"].to_numpy(dtype=float), nan=0.0)
    sector = held["industry"].fillna("unknown") if "industry" in held else None
    simulate = partial(
        simulate_loss, pds, lgd=lgd, sector=sector, n_scenarios=opts.scenarios, seed=opts.seed,
        asset_correlation=opts.asset_correlation, sector_correlation=opts.sector_correlation,
    )  # fmt: skip
    result = simulate(exposure=exposure)
    capped = _capped(held, exposure)
    after = simulate(exposure=capped)  # the same scenarios: the change is the cuts' alone
    share = _share(result.es[TAIL])
    tail = result.contributions[:, result.levels.index(TAIL)]
    managed = np.flatnonzero(~in_default & (tail > 0))  # performing: what can still be managed
    top = managed[np.argsort(-tail[managed], kind="stable")][: opts.top_contributors]
    return {
        "scenarios": opts.scenarios,
        "seed": opts.seed,
        "asset_correlation": "basel" if opts.asset_correlation is None else opts.asset_correlation,
        "sector_correlation": opts.sector_correlation,
        "customers": int((exposure > 0).sum()),
        **_figures(result),
        "defaulted_loss": round(float(lgd * exposure[in_default].sum()), 2),
        # how concentrated the exposure is (the report's concentration section has the list)
        **{k: round(v, 6) for k, v in concentration(held).items() if k in ("hhi", "top_10_share")},
        "by_sector": _by_sector(held, exposure, pds * lgd * exposure, result, share),
        "top_contributors": [
            {"customer_id": str(held["customer_id"].iloc[i]), "exposure": round(exposure[i], 2),
             "pd_12m": round(float(pds[i]), 6), "es_99_9": round(float(tail[i]), 2),
             "share": share(tail[i])}
            for i in top
        ],
        "limit_cuts": {
            "customers": int((capped < exposure).sum()),
            "exposure_removed": round(float((exposure - capped).sum()), 2),
            **{f"after_{k}": v for k, v in _figures(after).items() if k.endswith("99_9")},
        },
    }  # fmt: skip


def _figures(result: LossDistribution) -> dict[str, float]:
    out = {
        "expected_loss": result.expected_loss,
        "simulated_mean": result.simulated_mean,
        "unexpected_loss": result.unexpected_loss,
    }
    for q in result.levels:
        name = f"{100 * q:g}".replace(".", "_")
        out |= {f"var_{name}": result.var[q], f"es_{name}": result.es[q]}
    return {k: round(float(v), 2) for k, v in out.items()}


def _capped(held: pd.DataFrame, exposure: np.ndarray) -> np.ndarray:
    """Exposure capped where the policy asks to reduce the limit (``reduce_limit``)."""
    if not {"current_limit", "recommended_limit", "action_codes"} <= set(held.columns):
        return exposure
    codes = held["action_codes"].fillna("").astype(str).str.split(";")
    cut = (held["status"] == SCORED) & codes.map(lambda c: "reduce_limit" in map(str.strip, c))
    limits = [held[c].to_numpy(dtype=float) for c in ("current_limit", "recommended_limit")]
    return np.where(cut.to_numpy(), capped_exposure(exposure, *limits), exposure)


def _by_sector(
    held: pd.DataFrame,
    exposure: np.ndarray,
    expected: np.ndarray,
    result: LossDistribution,
    share: Callable[[float], float | None],
) -> list[dict[str, Any]]:
    if "industry" not in held:
        return []
    sector = held["industry"].fillna("unknown").to_numpy()
    es = contributions_by(result, sector, TAIL)
    frame = pd.DataFrame({"exposure": exposure, "expected_loss": expected}).groupby(sector).sum()
    return [
        {"sector": str(name), "exposure": round(float(frame.loc[name, "exposure"]), 2),
         "expected_loss": round(float(frame.loc[name, "expected_loss"]), 2),
         "es_99_9": round(float(value), 2), "share": share(value)}
        for name, value in es.items()
    ]  # fmt: skip


def _share(total: float) -> Callable[[float], float | None]:
    return lambda value: round(float(value) / total, 6) if total > 0 else None
