"""The PD term structure judged per horizon: AUC, Brier, ECE and the grade back-test.

For each horizon ``h`` the outcome is "defaults within ``h`` months of the as-of date"
(:func:`default_within`); every model named in ``predictions`` is scored on the
same rows, and the AUC differences come from the same paired customer-bootstrap resamples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features.timeline import month_end, month_index
from models import metrics
from models.backtest import grade_backtest, summarize_backtest
from models.bootstrap import bootstrap_auc, percentile_interval
from models.master_scale import MasterScale

Predictions = Mapping[str, Mapping[int, np.ndarray]]  # model -> horizon -> PDs of the rows


def default_within(rows: pd.DataFrame, horizon: int, observed_until: pd.Timestamp) -> pd.Series:
    """1 where the customer defaults within ``horizon`` months of ``as_of_date``, else 0.

    NaN where month ``t + horizon`` ends after ``observed_until`` (the outcome is not known).
    """
    t = month_index(rows["as_of_date"])
    d = month_index(rows["default_date"])
    label = ((d > t) & (d <= t + horizon)).astype(float)
    label[t + horizon > month_index(pd.Series([observed_until]))[0]] = np.nan
    return pd.Series(label, index=rows.index, name=f"default_{horizon}m")


def labels_known_until(rows: pd.DataFrame, label_months: int = 12) -> pd.Timestamp:
    """The month end to which labelled ``rows``' defaults are known: their labels' end.

    A row labelled over ``label_months`` has its default date known within them, so every
    shorter horizon's outcome with it.
    """
    return month_end(month_index(rows["as_of_date"]).max() + label_months)[0]


def outcomes(rows: pd.DataFrame, horizons: Sequence[int], observed_until: pd.Timestamp) -> dict:
    """Per horizon, 1/0 "defaults within h months" of each row (NaN: not yet known)."""
    return {h: default_within(rows, h, observed_until).to_numpy() for h in horizons}


def per_horizon(
    rows: pd.DataFrame, y: Mapping[int, np.ndarray], predictions: Predictions,
    scale: MasterScale, bins: int, alpha: float,
) -> dict:  # fmt: skip
    """Per horizon (``"1m"`` ..) and model: AUC, Brier, ECE, mean PD, the grade back-test.

    Rows whose outcome at a horizon is unknown are left out of that horizon; a horizon with no
    known outcome, or one class only, is left out.
    """
    table: dict = {}
    groups = rows["customer_id"].to_numpy()
    for h, outcome in y.items():
        known = ~np.isnan(outcome)
        yk = outcome[known]
        if not known.any() or yk.min() == yk.max():
            continue  # no outcome known, or one class only: nothing to judge at this horizon
        table[f"{h}m"] = {"rows": int(known.sum()), "default_rate": float(yk.mean())}
        for name, by_horizon in predictions.items():
            if h not in by_horizon:
                continue
            p = np.asarray(by_horizon[h], float)[known]
            test = summarize_backtest(
                grade_backtest(yk, p, scale.assign(p), scale, groups[known]), alpha
            )
            table[f"{h}m"][name] = {
                "auc": metrics.auc(yk, p),
                "brier": metrics.brier(yk, p),
                "ece": metrics.expected_calibration_error(yk, p, bins),
                "mean_pd": float(p.mean()),
                "backtest": {k: test[k] for k in ("passed", "grades_failed", "monotone")},
            }
    return table


def auc_differences(
    rows: pd.DataFrame, y: Mapping[int, np.ndarray], predictions: Predictions,
    pairs: Mapping[int, Sequence[tuple[str, str]]], n_boot: int, seed: int,
) -> dict:  # fmt: skip
    """``"<h>m <a> - <b>"`` -> mean AUC difference and its 95 % interval (paired bootstrap)."""
    out = {}
    for h, chosen in pairs.items():
        known = ~np.isnan(y[h])
        if not known.any() or np.nanmin(y[h]) == np.nanmax(y[h]):
            continue
        names = sorted({n for pair in chosen for n in pair})
        draws = bootstrap_auc(
            y[h][known], [np.asarray(predictions[n][h])[known] for n in names], n_boot=n_boot,
            seed=seed, groups=rows["customer_id"].to_numpy()[known],
        )  # fmt: skip
        for a, b in chosen:
            diff = draws[:, names.index(a)] - draws[:, names.index(b)]
            out[f"{h}m {a} - {b}"] = {
                "mean": float(diff.mean()),
                "interval_95": percentile_interval(diff),
            }
    return out


def targets(table: Mapping, model: str = "model", anchor: str = "direct") -> dict:
    """The issue's bar per horizon: AUC >= anchor - 0.005 and >= 0.95 x oracle; ECE < 0.02."""
    out = {}
    for h, row in table.items():
        m = row[model]
        checks = {"ece_below_0_02": m["ece"] < 0.02}
        if anchor in row:
            checks["auc_within_0_005_of_direct"] = m["auc"] >= row[anchor]["auc"] - 0.005
        if "oracle" in row:
            checks["auc_at_least_0_95_oracle"] = m["auc"] >= 0.95 * row["oracle"]["auc"]
        out[h] = checks
    return out
