"""The industry cycle in a trained model: what its industry features weigh, and a stress test.

:func:`industry_gains` gives each industry-family feature's gain in the booster and its mean
absolute contribution on a set of rows; :func:`industry_stress` lowers every sector's latest
published index by some standard deviations of that sector's index, recomputes the index
features (``features.industry``), re-scores the rows and reports the mean PD per sector before
and after. A model that learnt the cycle moves the PDs of the most cyclical sectors most.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import FEATURE_NAMES, spec_for
from features.industry import add_stressed_industry_features
from models.pd_model import PDModel

INDUSTRY_FAMILY = "industry"
STRESS_COLUMNS = [
    "industry",
    "rows",
    "index_sd",
    "mean_pd",
    "stressed_mean_pd",
    "pd_change",
    "pd_change_relative",
]


def industry_gains(model: PDModel, rows: pd.DataFrame) -> pd.DataFrame:
    """Weight of every industry-family feature of the catalogue present in ``rows``.

    Args:
        model: The PD model.
        rows: Rows with the model's features (e.g. the test window).

    Returns:
        One row per feature, catalogue order: ``feature``, ``kind``, ``in_model`` (false: the
        stability screen left it out), ``gain`` (total gain of its splits in the booster),
        ``gain_share`` (of the booster's total gain) and ``mean_abs_contribution`` (mean
        absolute SHAP value on ``rows``, in log-odds; 0 where the model lacks the feature).
    """
    names = [n for n in FEATURE_NAMES if spec_for(n).family == INDUSTRY_FAMILY and n in rows]
    used = model.feature_names
    gain = dict(zip(used, model.booster.feature_importance("gain"), strict=True))
    total = float(sum(gain.values())) or 1.0
    shap = np.abs(model.contributions(model.feature_frame(rows))[:, : len(used)]).mean(axis=0)
    mean_abs = dict(zip(used, shap, strict=True))
    return pd.DataFrame(
        {
            "feature": names,
            "kind": [spec_for(n).kind for n in names],
            "in_model": [n in gain for n in names],
            "gain": [float(gain.get(n, 0.0)) for n in names],
            "gain_share": [float(gain.get(n, 0.0)) / total for n in names],
            "mean_abs_contribution": [float(mean_abs.get(n, 0.0)) for n in names],
        }
    )


def industry_stress(
    model: PDModel,
    rows: pd.DataFrame,
    industry_index: pd.DataFrame,
    publication_lag_months: int,
    shock_sd: float,
) -> pd.DataFrame:
    """Mean PD per sector of ``rows`` as they are and with every sector's index shocked.

    The shock is :func:`features.industry.add_stressed_industry_features`: at each snapshot
    month, the latest published value of every sector moves by ``shock_sd`` standard deviations
    of that sector's index; the index features follow, every other feature stays.

    Args:
        model: The PD model.
        rows: Snapshot rows with ``industry``, ``month`` and the model's features.
        industry_index: ``industry``, ``month``, ``value``: the index the features were built on.
        publication_lag_months: Months between an index month and its publication.
        shock_sd: Standard deviations to move the latest value by (-1: one down).

    Returns:
        One row per sector (:data:`STRESS_COLUMNS`), largest ``pd_change`` (stressed minus
        base mean PD) first; ``pd_change_relative`` is that change over the base mean PD.
    """
    stressed = add_stressed_industry_features(
        rows, industry_index, publication_lag_months, shock_sd
    )
    sd = industry_index.groupby("industry")["value"].std()
    frame = pd.DataFrame(
        {
            "industry": rows["industry"].to_numpy(),
            "base": model.predict_pd(rows),
            "stressed": model.predict_pd(stressed),
        }
    )
    per_sector = frame.groupby("industry", sort=True).agg(
        rows=("base", "size"), mean_pd=("base", "mean"), stressed_mean_pd=("stressed", "mean")
    )
    table = per_sector.reset_index().assign(
        index_sd=lambda t: t["industry"].map(sd).astype(float),
        pd_change=lambda t: t["stressed_mean_pd"] - t["mean_pd"],
        pd_change_relative=lambda t: t["pd_change"] / t["mean_pd"],
    )
    table = table.sort_values("pd_change", ascending=False, kind="stable")
    return table[STRESS_COLUMNS].reset_index(drop=True)
