"""Reason codes: SHAP contributions grouped by the catalogue's reason codes, ranked, worded.

A sentence is worded in one place, :func:`render_reasons`, from the speaking feature's value and,
where given, its sector median: the served model and the score stage give the same sentence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, spec_for

# a model input column ``median__<feature>`` carries the sector median of ``<feature>``
MEDIAN_PREFIX = "median__"


def reason_columns(n_reasons: int) -> list[str]:
    """Output columns of :func:`top_reasons`, in order: code, sentence, speaking feature."""
    cols: list[str] = []
    for k in range(1, n_reasons + 1):
        cols += [f"reason_{k}_code", f"reason_{k}", f"reason_{k}_feature"]
    return cols


def top_reasons(
    contributions: np.ndarray,
    values: pd.DataFrame,
    n_reasons: int = 3,
    language: str = "en",
    medians: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the ``n_reasons`` strongest risk-increasing reasons of each row.

    Contributions of features sharing a reason code are summed; a group is a reason only if
    its sum raises the risk (is positive). The group's feature with the largest contribution
    speaks for it: its name is returned, and the sentence is worded from its value and sector
    median (:func:`render_reasons`).

    Args:
        contributions: Per-feature contributions to the log-odds, shape (rows, features), in
            the column order of ``values``.
        values: The feature values the contributions explain.
        n_reasons: How many reasons per row.
        language: Language of the sentences (``en`` or ``zh``, the catalogue's languages).
        medians: Sector medians aligned to ``values`` (columns named as the features); ``None``
            or a missing column: no median clause.

    Returns:
        Frame with ``reason_k_code``, ``reason_k`` (sentence with the customer's value and its
        sector median) and ``reason_k_feature`` columns; empty strings where a row has fewer
        reasons.
    """
    names = list(values.columns)
    if contributions.shape != (len(values), len(names)):
        raise ValueError(
            f"contributions shape {contributions.shape} does not match values {values.shape}"
        )
    codes = np.array([_spec(n).reason_code for n in names])
    groups = list(dict.fromkeys(codes))
    member = np.array([[c == g for g in groups] for c in codes], dtype=float)
    grouped = contributions @ member
    # within each group, the feature that contributes most speaks for it
    speaker = np.empty(grouped.shape, dtype=np.int64)
    for g, group in enumerate(groups):
        cols = np.flatnonzero(codes == group)
        speaker[:, g] = cols[contributions[:, cols].argmax(axis=1)]
    order = np.argsort(-grouped, axis=1, kind="stable")[:, :n_reasons]
    out = {c: np.full(len(values), "", dtype=object) for c in reason_columns(n_reasons)}
    for k in range(min(n_reasons, order.shape[1])):
        g = order[:, k]
        rows = np.flatnonzero(grouped[np.arange(len(values)), g] > 0)
        feats = speaker[rows, g[rows]]
        out[f"reason_{k + 1}_code"][rows] = [groups[j] for j in g[rows]]
        out[f"reason_{k + 1}_feature"][rows] = [names[f] for f in feats]
    frame = pd.DataFrame(out, index=values.index)
    sentences = render_reasons(frame, values, medians, language)
    return frame.assign(**{c: sentences[c] for c in sentences.columns})


def render_reasons(
    reasons: pd.DataFrame,
    values: pd.DataFrame,
    medians: pd.DataFrame | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Word each row's reasons from the speaking feature's value and its sector median.

    Args:
        reasons: ``reason_k_feature`` columns (k = 1, 2, ...), empty where a row has no k-th
            reason, as :func:`top_reasons` returns them.
        values: Feature values, aligned to ``reasons`` (the speaking features' columns).
        medians: Sector medians at the same date, aligned likewise (``features.peers``);
            ``None`` or a missing column: no median clause.
        language: Language of the sentences.

    Returns:
        Frame with a ``reason_k`` sentence column for each ``reason_k_feature``.
    """
    if not values.index.equals(reasons.index):
        raise ValueError("values are not aligned with reasons (different index)")
    if medians is not None and not medians.index.equals(reasons.index):
        raise ValueError("medians are not aligned with reasons (different index)")
    feature_cols = [c for c in reasons.columns if c.endswith("_feature")]
    speaking = set(reasons[feature_cols].to_numpy().ravel()) - {""}
    missing = sorted(speaking - set(values.columns))
    if missing:
        raise KeyError(f"values lack the speaking feature columns {missing}")
    value_of = {n: values[n].to_numpy(dtype=float) for n in speaking}
    median_of = {
        n: medians[n].to_numpy(dtype=float)
        for n in speaking
        if medians is not None and n in medians
    }
    out = {}
    for col in feature_cols:
        feats = reasons[col].to_numpy()
        texts = np.full(len(reasons), "", dtype=object)
        for name in speaking & set(feats):
            rows = np.flatnonzero(feats == name)
            median = median_of[name][rows] if name in median_of else None
            texts[rows] = _spec(name).sentences(value_of[name][rows], language, median)
        out[col.removesuffix("_feature")] = texts
    return pd.DataFrame(out, index=reasons.index)


def _spec(name: str) -> FeatureSpec:
    return spec_for(name)
