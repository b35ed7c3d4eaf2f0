"""Reason codes: SHAP contributions grouped by the catalogue's reason codes, ranked, worded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import FEATURES


def reason_columns(n_reasons: int) -> list[str]:
    """Output columns of :func:`top_reasons`, in order."""
    cols: list[str] = []
    for k in range(1, n_reasons + 1):
        cols += [f"reason_{k}_code", f"reason_{k}"]
    return cols


def top_reasons(
    contributions: np.ndarray, values: pd.DataFrame, n_reasons: int = 3
) -> pd.DataFrame:
    """Return the ``n_reasons`` strongest risk-increasing reasons of each row.

    Contributions of features sharing a reason code are summed; a group is a reason only if
    its sum raises the risk (is positive). Its sentence is worded from the group's feature
    with the largest contribution, with the customer's own value.

    Args:
        contributions: Per-feature contributions to the log-odds, shape (rows, features), in
            the column order of ``values``.
        values: The feature values the contributions explain.
        n_reasons: How many reasons per row.

    Returns:
        Frame with ``reason_k_code`` and ``reason_k`` (sentence) columns; empty strings where a
        row has fewer risk-increasing reasons.
    """
    names = list(values.columns)
    if contributions.shape != (len(values), len(names)):
        raise ValueError(
            f"contributions shape {contributions.shape} does not match values {values.shape}"
        )
    codes = [FEATURES[n].reason_code for n in names]
    groups = list(dict.fromkeys(codes))
    member = np.array([[c == g for g in groups] for c in codes], dtype=float)
    grouped = contributions @ member
    # within each group, the feature that contributes most speaks for it
    masked = np.where(member.T[None, :, :] > 0, contributions[:, None, :], -np.inf)
    speaker = masked.argmax(axis=2)
    order = np.argsort(-grouped, axis=1, kind="stable")[:, :n_reasons]
    raw = values.to_numpy(dtype=float)
    out: dict[str, list[str]] = {c: [] for c in reason_columns(n_reasons)}
    for i in range(len(values)):
        for k in range(n_reasons):
            code, text = "", ""
            if k < order.shape[1] and grouped[i, order[i, k]] > 0:
                g = order[i, k]
                feat = speaker[i, g]
                code = groups[g]
                text = FEATURES[names[feat]].sentence(raw[i, feat])
            out[f"reason_{k + 1}_code"].append(code)
            out[f"reason_{k + 1}"].append(text)
    return pd.DataFrame(out, index=values.index)
