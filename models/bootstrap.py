"""Bootstrap intervals: AUCs of several scores on the same (cluster) resamples, and percentiles.

The monthly snapshots of one customer share most of their outcome window, so rows are resampled
by customer (``groups``) and the AUCs of scores compared on the same resamples are paired.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.metrics import check_both_classes, check_scores


def _bootstrap_weights(
    n_rows: int, groups: np.ndarray | None, n_boot: int, seed: int
) -> np.ndarray:
    """Row weights of ``n_boot`` bootstrap resamples, shape ``(n_boot, n_rows)``.

    With ``groups``, whole groups are drawn with replacement (a cluster bootstrap), so that the
    monthly snapshots of one customer, whose labels overlap, move together.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    rng = np.random.default_rng(seed)
    if groups is None:
        codes, n_units = np.arange(n_rows), n_rows
    else:
        groups = np.asarray(groups)
        if groups.shape != (n_rows,):
            raise ValueError(f"groups must have one value per row, got {groups.shape}")
        codes, uniques = pd.factorize(groups)
        n_units = len(uniques)
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    counts = np.stack([np.bincount(d, minlength=n_units) for d in draws])
    return counts[:, codes].astype(float)


def bootstrap_auc(
    y: np.ndarray,
    scores: list[np.ndarray],
    *,
    n_boot: int = 200,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """AUC of each score on the same bootstrap resamples of the rows.

    Args:
        y: Observed outcomes, 0 or 1.
        scores: One or more score arrays, each as long as ``y`` (the same resamples are used
            for every score, so that differences between them are paired).
        n_boot: Number of resamples.
        seed: Seed of the resampling.
        groups: Optional cluster of each row (e.g. customer id); whole clusters are resampled.

    Returns:
        Array of shape ``(n_boot, len(scores))``; resamples without both classes are dropped.
    """
    if not scores:
        raise ValueError("bootstrap_auc needs at least one score array")
    y = check_scores(y, scores[0])[0]
    checked = [check_scores(y, s)[1] for s in scores]
    check_both_classes(y, "bootstrap AUC")
    weights = _bootstrap_weights(len(y), groups, n_boot, seed)
    keep = [(w[y == 1].sum() > 0) and (w[y == 0].sum() > 0) for w in weights]
    return np.array(
        [[roc_auc_score(y, s, sample_weight=w) for s in checked] for w in weights[keep]]
    ).reshape(-1, len(checked))


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Return the central ``level`` percentile interval of bootstrap ``values``."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("no bootstrap values to take an interval from")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
