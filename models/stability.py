"""Population stability: how far a sample's distribution has moved from a reference sample.

The population stability index (PSI) compares the shares of two samples in the bins of the
reference; the evaluate stage reports it per feature and per score (training -> test window),
and training screens out features whose PSI between the fitting months and the latest months
of the training window is too large.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.attributes import is_text

PSI_BANDS = ((0.1, "stable"), (0.25, "watch"))
_PSI_FLOOR = 1e-4  # share given to an empty bin, so that the log stays finite


def stability_band(psi: float) -> str:
    """Name the usual PSI band: ``stable`` (< 0.1), ``watch`` (0.1-0.25), ``shift`` (> 0.25)."""
    if not np.isfinite(psi) or psi < 0:
        raise ValueError(f"PSI must be a finite non-negative number, got {psi}")
    return next((name for upper, name in PSI_BANDS if psi < upper), "shift")


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` per bin of ``edges`` (``[lower, upper)``), missing values last."""
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1
    )
    return np.append(counts, missing.sum()) / len(values)


def population_stability(expected: np.ndarray, actual: np.ndarray, n_bins: int = 10) -> float:
    """Population stability index of ``actual`` against the reference ``expected``.

    ``PSI = sum((a - e) * ln(a / e))`` over the bins, where ``e`` and ``a`` are the shares of
    each sample per bin. Bins are equal-frequency on ``expected`` (quantile edges, so fewer when
    values are tied), with missing values as a bin of their own: a feature that goes missing
    more often has shifted too. An empty bin counts as a share of 0.0001.

    Args:
        expected: Reference values (e.g. the training window).
        actual: Values to compare (e.g. the test window, or the scored book).
        n_bins: Bins asked for.

    Returns:
        The PSI (0 = same distribution; < 0.1 stable, 0.1-0.25 watch, > 0.25 shift).
    """
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if expected.ndim != 1 or actual.ndim != 1 or len(expected) == 0 or len(actual) == 0:
        raise ValueError(
            f"expected and actual must be non-empty 1-d arrays, got {expected.shape}, "
            f"{actual.shape}"
        )
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    present = expected[~np.isnan(expected)]
    quantiles = np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1]) if len(present) else []
    edges = np.unique(quantiles)
    e = np.maximum(_shares(expected, edges), _PSI_FLOOR)
    a = np.maximum(_shares(actual, edges), _PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _as_numbers(expected: pd.Series, actual: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both columns as numbers; categories as their position among the levels of both."""
    if not (is_text(expected) or is_text(actual)):
        return expected.to_numpy(dtype=float), actual.to_numpy(dtype=float)
    text = [c.astype(object).where(c.notna(), None) for c in (expected, actual)]
    levels = sorted({str(v) for c in text for v in c.dropna()})
    codes = [pd.Categorical(c.map(str, na_action="ignore"), categories=levels).codes for c in text]
    return tuple(np.where(c < 0, np.nan, c.astype(float)) for c in codes)


def feature_stability(
    expected: pd.DataFrame, actual: pd.DataFrame, n_bins: int = 10
) -> pd.DataFrame:
    """PSI of every column of ``expected`` between the two frames, least stable first.

    Args:
        expected: Reference rows (e.g. the training window's features).
        actual: Rows to compare; must have every column of ``expected``.
        n_bins: Bins per feature (see :func:`population_stability`).

    Returns:
        One row per column: ``feature``, ``psi``, ``band``, ``expected_missing`` and
        ``actual_missing`` (shares of missing values).
    """
    missing = [c for c in expected.columns if c not in actual.columns]
    if missing:
        raise ValueError(f"actual lacks columns {missing}")
    rows = []
    for name in expected.columns:
        e, a = _as_numbers(expected[name], actual[name])
        psi = population_stability(e, a, n_bins)
        rows.append((name, psi, stability_band(psi), np.isnan(e).mean(), np.isnan(a).mean()))
    columns = ["feature", "psi", "band", "expected_missing", "actual_missing"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
