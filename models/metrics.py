"""Discrimination and calibration metrics of 12-month PDs against observed 0/1 defaults.

Every function takes the outcomes ``y`` (1 = default within the horizon) and the predicted
PDs ``p`` as 1-d arrays of equal length and validates them first. Ranking metrics (AUC, Gini,
KS, PR-AUC, ROC and PR points) accept any finite score; calibration metrics (Brier, ECE,
calibration curve) need probabilities in ``[0, 1]``.

Calibration bins are **equal-frequency** (quantile bins of ``p``), not equal-width: PDs of a
credit book crowd near zero, so equal-width bins would put nearly every row in the first bin
and leave the rest nearly empty and noisy. Rows with the same PD always share a bin, so with
heavily tied PDs (a step-function calibrator, a coarse score) there may be fewer bins than
asked for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from models.master_scale import MasterScale

MAX_CURVE_POINTS = 200


def check_scores(
    y: np.ndarray, p: np.ndarray, probabilities: bool = False
) -> tuple[np.ndarray, ...]:
    """``y`` and ``p`` as float arrays, after checking them; raises ``ValueError`` naming why."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.ndim != 1 or p.ndim != 1:
        raise ValueError(f"y and p must be 1-d arrays, got shapes {y.shape} and {p.shape}")
    if len(y) != len(p):
        raise ValueError(f"y and p must have the same length, got {len(y)} and {len(p)}")
    if len(y) == 0:
        raise ValueError("y and p are empty")
    if np.isnan(y).any() or np.isnan(p).any():
        raise ValueError(
            f"y and p must not contain missing values, found {int(np.isnan(y).sum())} in y "
            f"and {int(np.isnan(p).sum())} in p"
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"y must hold only 0 and 1, found {sorted(set(y.tolist()) - {0.0, 1.0})}")
    if not np.isfinite(p).all():
        raise ValueError("p must be finite")
    if probabilities and ((p < 0).any() or (p > 1).any()):
        raise ValueError(f"p must be probabilities in [0, 1], found range [{p.min()}, {p.max()}]")
    return y, p


def check_both_classes(y: np.ndarray, metric: str) -> None:
    """Raise ``ValueError`` naming ``metric`` when ``y`` holds one outcome only."""
    if len(np.unique(y)) < 2:
        only = "defaults" if y[0] == 1 else "non-defaults"
        raise ValueError(f"{metric} needs both defaults and non-defaults, found only {only}")


def _downsample(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Keep at most ``max_points`` evenly spaced rows, always the first and the last."""
    if len(frame) <= max_points:
        return frame.reset_index(drop=True)
    keep = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[keep].reset_index(drop=True)


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (probability a default is ranked above a non-default)."""
    y, p = check_scores(y, p)
    check_both_classes(y, "AUC")
    return float(roc_auc_score(y, p))


def gini(y: np.ndarray, p: np.ndarray) -> float:
    """Gini coefficient (accuracy ratio): ``2 * AUC - 1``."""
    return 2.0 * auc(y, p) - 1.0


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov-Smirnov statistic: largest gap between the score CDFs of the two classes."""
    y, p = check_scores(y, p)
    check_both_classes(y, "KS")
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=False)
    return float(np.max(tpr - fpr))


def pr_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the precision-recall curve, as average precision."""
    y, p = check_scores(y, p)
    check_both_classes(y, "PR-AUC")
    return float(average_precision_score(y, p))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Brier score: mean squared difference between PD and outcome."""
    y, p = check_scores(y, p, probabilities=True)
    return float(np.mean((p - y) ** 2))


def _equal_frequency_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Return a bin number 0..k-1 per row, k <= n_bins, from quantile edges of ``p``."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    inner = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1))[1:-1])
    # bins are (lower, upper]; renumber so that bins left empty by ties vanish
    raw = np.searchsorted(inner, p, side="left")
    return np.unique(raw, return_inverse=True)[1]


def calibration_curve(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Observed default rate against mean PD in equal-frequency bins of ``p``.

    Args:
        y: Observed outcomes, 0 or 1.
        p: Predicted PDs.
        n_bins: Number of quantile bins asked for (fewer when PDs are tied).

    Returns:
        One row per bin, lowest PDs first: ``bin`` (1-based), ``mean_pd``, ``observed_rate``,
        ``count``.
    """
    y, p = check_scores(y, p, probabilities=True)
    bins = _equal_frequency_bins(p, n_bins)
    frame = pd.DataFrame({"bin": bins + 1, "p": p, "y": y})
    curve = frame.groupby("bin").agg(
        mean_pd=("p", "mean"), observed_rate=("y", "mean"), count=("y", "size")
    )
    return curve.reset_index()


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Count-weighted mean of ``|observed rate - mean PD|`` over equal-frequency bins of ``p``."""
    curve = calibration_curve(y, p, n_bins)
    gaps = (curve["observed_rate"] - curve["mean_pd"]).abs()
    return float(np.average(gaps, weights=curve["count"]))


def roc_points(y: np.ndarray, p: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    """ROC curve as ``fpr``, ``tpr`` columns, at most ``max_points`` rows from (0,0) to (1,1)."""
    y, p = check_scores(y, p)
    check_both_classes(y, "ROC curve")
    fpr, tpr, _ = roc_curve(y, p)
    return _downsample(pd.DataFrame({"fpr": fpr, "tpr": tpr}), max_points)


def pr_points(y: np.ndarray, p: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    """Precision-recall curve as ``recall``, ``precision`` columns, recall increasing."""
    y, p = check_scores(y, p)
    check_both_classes(y, "PR curve")
    precision, recall, _ = precision_recall_curve(y, p)
    frame = pd.DataFrame({"recall": recall[::-1], "precision": precision[::-1]})
    return _downsample(frame, max_points)


def lift_table(y: np.ndarray, p: np.ndarray, n_groups: int = 10) -> pd.DataFrame:
    """Default capture by risk group: rows sorted by PD, riskiest first, cut into equal counts.

    Ties in ``p`` are broken by input order, so equal PDs may fall into neighbouring groups.

    Args:
        y: Observed outcomes, 0 or 1.
        p: Predicted PDs or scores (higher = riskier).
        n_groups: Number of groups (10 gives deciles).

    Returns:
        One row per group: ``decile`` (1 = riskiest), ``count``, ``defaults``, ``default_rate``,
        ``mean_pd``, ``lift`` (default rate over the overall rate) and ``cumulative_capture``
        (share of all defaults in this group and the riskier ones).
    """
    y, p = check_scores(y, p)
    if not 1 <= n_groups <= len(y):
        raise ValueError(f"n_groups must lie in [1, {len(y)}] (the rows), got {n_groups}")
    if y.sum() == 0:
        raise ValueError("lift needs at least one default, found none")
    order = np.argsort(-p, kind="stable")
    group = np.empty(len(y), dtype=int)
    for number, idx in enumerate(np.array_split(order, n_groups), start=1):
        group[idx] = number
    frame = pd.DataFrame({"decile": group, "y": y, "p": p})
    table = frame.groupby("decile").agg(
        count=("y", "size"), defaults=("y", "sum"), mean_pd=("p", "mean")
    )
    table["defaults"] = table["defaults"].astype(int)
    table["default_rate"] = table["defaults"] / table["count"]
    table["lift"] = table["default_rate"] / y.mean()
    table["cumulative_capture"] = table["defaults"].cumsum() / y.sum()
    cols = ["count", "defaults", "default_rate", "mean_pd", "lift", "cumulative_capture"]
    return table[cols].reset_index()


def grade_table(
    y: np.ndarray, p: np.ndarray, grades: np.ndarray, scale: MasterScale
) -> pd.DataFrame:
    """Observed default rate against mean PD per master-scale grade.

    Args:
        y: Observed outcomes, 0 or 1.
        p: Predicted PDs.
        grades: Grade number of each row (``scale.assign(p)``).
        scale: The master scale the grades come from.

    Returns:
        One row per grade that holds at least one row, safest first: ``grade``, ``label``,
        ``pd_lower``, ``pd_upper`` (the grade's PD band), ``count``, ``defaults``,
        ``observed_rate``, ``mean_pd``.
    """
    y, p = check_scores(y, p, probabilities=True)
    grades = np.asarray(grades)
    if grades.shape != y.shape:
        raise ValueError(f"grades must have one value per row, got {grades.shape} for {y.shape}")
    known = {g.grade: g.label for g in scale.grades}
    unknown = sorted(set(pd.unique(grades).tolist()) - set(known))
    if unknown:
        raise ValueError(f"grades {unknown} are not on the master scale {sorted(known)}")
    frame = pd.DataFrame({"grade": grades.astype(int), "y": y, "p": p})
    table = frame.groupby("grade").agg(
        count=("y", "size"),
        defaults=("y", "sum"),
        observed_rate=("y", "mean"),
        mean_pd=("p", "mean"),
    )
    table["defaults"] = table["defaults"].astype(int)
    table = table.reset_index()
    table.insert(1, "label", table["grade"].map(known))
    bands = [scale.bounds(g) for g in table["grade"]]
    table.insert(2, "pd_lower", [lo for lo, _ in bands])
    table.insert(3, "pd_upper", [hi for _, hi in bands])
    return table


def summarize(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict[str, float | int]:
    """Return the scalar metrics of ``p`` as plain Python numbers.

    Keys: ``n_rows``, ``n_defaults``, ``default_rate``, ``mean_pd``, ``auc``, ``gini``, ``ks``,
    ``pr_auc``, ``brier``, ``ece`` (equal-frequency, ``n_bins`` bins).
    """
    y, p = check_scores(y, p, probabilities=True)
    check_both_classes(y, "summarize")
    auc_value = auc(y, p)
    return {
        "n_rows": int(len(y)),
        "n_defaults": int(y.sum()),
        "default_rate": float(y.mean()),
        "mean_pd": float(p.mean()),
        "auc": auc_value,
        "gini": 2.0 * auc_value - 1.0,
        "ks": ks_statistic(y, p),
        "pr_auc": pr_auc(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(y, p, n_bins),
    }


def top_decile(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Lift and default capture of the riskiest tenth of the rows (ties broken by input order).

    Returns:
        ``top_decile_lift`` (default rate of the riskiest decile over the overall rate) and
        ``top_decile_capture`` (share of all defaults found in it).
    """
    row = lift_table(y, p, n_groups=10).iloc[0]
    return {
        "top_decile_lift": float(row["lift"]),
        "top_decile_capture": float(row["cumulative_capture"]),
    }
