"""Reason codes: SHAP contributions grouped by the catalogue's reason codes, ranked, worded.

A reason is a risk, stated as a fact about the customer. A group of features sharing a reason
code is a reason only if

* it raises the log-odds of the PD by more than ``min_logodds``, counting only what its
  *adverse* features add (their positive contributions), and no more than the group's net
  contribution; and
* one of its features is adverse and raises the risk: that feature speaks for it (the one that
  adds most). Otherwise the group gives no reason, however much it contributes.

A value is *adverse* when it is worse, in the catalogue's risk direction, than every reference
its sentence compares it with (:func:`adverse_values`): the sector median the sentence quotes;
0 for a sentence that words a change or a difference ("down 3 days on the previous quarter");
otherwise the population reference, each feature's median over the training rows (the model's
``reference_``). A SHAP contribution is measured against the average customer, not against the
reference the sentence names, so a positive contribution alone can come with a favourable fact
("Pays 2 days earlier than the sector median"): such a value does not speak. A customer with no
such reason gets none: empty reason columns mean *no adverse factor*.

A sentence is worded in one place, :func:`render_reasons`, from the speaking feature's value and,
where given, its sector median: the served model and the score stage give the same sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features import wording
from features.catalogue import FeatureSpec, spec_for

# a model input column ``median__<feature>`` carries the sector median of ``<feature>``
MEDIAN_PREFIX = "median__"
# a reason must raise the log-odds by more than this: odds x1.105, a seventh of a master-scale
# grade (the grades double the PD, ln 2 = 0.69); ``score.min_reason_logodds`` sets it
MIN_REASON_LOGODDS = 0.1


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
    reference: Mapping[str, float] | None = None,
    min_logodds: float = MIN_REASON_LOGODDS,
    specs: Mapping[str, FeatureSpec] | None = None,
) -> pd.DataFrame:
    """Return up to ``n_reasons`` material adverse reasons of each row, strongest first.

    Args:
        contributions: Per-feature contributions to the log-odds of the PD, shape (rows,
            features), in the column order of ``values`` (``PDModel.predict`` scales the
            booster's SHAP values by the calibrator's slope, ``PDModel.pd_logodds_scale``).
        values: The feature values the contributions explain.
        n_reasons: How many reasons per row at most.
        language: Language of the sentences (``en`` or ``zh``, the catalogue's languages).
        medians: Sector medians aligned to ``values`` (columns named as the features); ``None``
            or a missing column: no median clause.
        reference: Population reference of each feature (the training median), for sentences
            that quote no median and word no change; a feature without one cannot speak.
        min_logodds: A group must raise the log-odds by more than this (>= 0).
        specs: Catalogue entries of the features the catalogue does not hold (the user's
            attributes, with a categorical one's levels); default: ``spec_for``'s.

    Returns:
        Frame with ``reason_k_code``, ``reason_k`` (sentence with the customer's value and its
        sector median) and ``reason_k_feature`` columns; empty strings where a row has fewer
        reasons (all empty: no adverse factor).
    """
    names = list(values.columns)
    if contributions.shape != (len(values), len(names)):
        raise ValueError(
            f"contributions shape {contributions.shape} does not match values {values.shape}"
        )
    if not (np.isfinite(min_logodds) and min_logodds >= 0):
        raise ValueError(f"min_logodds must be a finite number >= 0, found {min_logodds}")
    codes = np.array([_spec(n, specs).reason_code for n in names])
    groups = list(dict.fromkeys(codes))
    member = np.array([[c == g for g in groups] for c in codes], dtype=float)
    adverse = adverse_values(values, medians, reference, specs)
    speaking = np.where(adverse & (contributions > 0), contributions, 0.0)
    strength = np.minimum(contributions @ member, speaking @ member)
    # within each group, the adverse feature that adds most speaks for it
    speaker = np.empty(strength.shape, dtype=np.int64)
    for g, group in enumerate(groups):
        cols = np.flatnonzero(codes == group)
        speaker[:, g] = cols[speaking[:, cols].argmax(axis=1)]
    order = np.argsort(-strength, axis=1, kind="stable")[:, :n_reasons]
    out = {c: np.full(len(values), "", dtype=object) for c in reason_columns(n_reasons)}
    for k in range(min(n_reasons, order.shape[1])):
        g = order[:, k]
        rows = np.flatnonzero(strength[np.arange(len(values)), g] > min_logodds)
        feats = speaker[rows, g[rows]]
        out[f"reason_{k + 1}_code"][rows] = [groups[j] for j in g[rows]]
        out[f"reason_{k + 1}_feature"][rows] = [names[f] for f in feats]
    frame = pd.DataFrame(out, index=values.index)
    sentences = render_reasons(frame, values, medians, language, specs)
    return frame.assign(**{c: sentences[c] for c in sentences.columns})


def adverse_values(
    values: pd.DataFrame,
    medians: pd.DataFrame | None = None,
    reference: Mapping[str, float] | None = None,
    specs: Mapping[str, FeatureSpec] | None = None,
) -> np.ndarray:
    """Whether each value is worse than every reference its sentence compares it with.

    In the catalogue's direction (+1: higher is riskier, -1: lower is), at the precision the
    sentence shows (:func:`features.wording.as_shown`), a value must be worse than

    * the sector median, where the sentence quotes one (a median is given and not missing);
    * 0, where the sentence words a change or a difference (:func:`features.wording.states_sign`);
    * the population ``reference`` otherwise (none for the feature: never adverse).

    A missing value stands for the catalogue's ``missing_value`` where it has one ("no legal
    dispute on record": infinitely long ago, favourable); otherwise it is a gap in the data
    ("No financial statement available"), a fact that is adverse when the model says it raises
    the risk. A feature without a direction (0) compares with nothing: its contribution decides.

    ``specs``: entries of features outside the catalogue (see :func:`top_reasons`).

    Returns:
        Boolean array shaped as ``values``.
    """
    out = np.ones(values.shape, dtype=bool)
    for j, name in enumerate(values.columns):
        spec = _spec(name, specs)
        if spec.direction == 0:
            continue
        value = values[name].to_numpy(dtype=float)
        if spec.missing_value is not None:
            value = np.where(np.isnan(value), spec.missing_value, value)
        median = _column(medians, name) if wording.quotes_median(spec) else None
        quoted = np.zeros(len(values), dtype=bool) if median is None else ~np.isnan(median)
        ok = ~quoted | _worse(spec, value, median)
        if wording.states_sign(spec):
            ok &= _worse(spec, value, 0.0)
        else:
            ref = np.nan if reference is None else reference.get(name, np.nan)
            ok &= quoted | _worse(spec, value, ref)
        out[:, j] = ok | np.isnan(value)
    return out


def _worse(spec: FeatureSpec, value: np.ndarray, ref: np.ndarray | float | None) -> np.ndarray:
    """``value`` is riskier than ``ref`` as the sentence shows them (a missing ``ref``: no)."""
    if ref is None:
        return np.zeros(len(value), dtype=bool)
    ref = np.broadcast_to(np.asarray(ref, dtype=float), value.shape)
    with np.errstate(invalid="ignore"):
        return spec.direction * (wording.as_shown(spec, value) - wording.as_shown(spec, ref)) > 0


def render_reasons(
    reasons: pd.DataFrame,
    values: pd.DataFrame,
    medians: pd.DataFrame | None = None,
    language: str = "en",
    specs: Mapping[str, FeatureSpec] | None = None,
) -> pd.DataFrame:
    """Word each row's reasons from the speaking feature's value and its sector median.

    Args:
        reasons: ``reason_k_feature`` columns (k = 1, 2, ...), empty where a row has no k-th
            reason, as :func:`top_reasons` returns them.
        values: Feature values, aligned to ``reasons`` (the speaking features' columns).
        medians: Sector medians at the same date, aligned likewise (``features.peers``);
            ``None`` or a missing column: no median clause.
        language: Language of the sentences.
        specs: Entries of features outside the catalogue (see :func:`top_reasons`).

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
            texts[rows] = _spec(name, specs).sentences(value_of[name][rows], language, median)
        out[col.removesuffix("_feature")] = texts
    return pd.DataFrame(out, index=reasons.index)


def _spec(name: str, specs: Mapping[str, FeatureSpec] | None = None) -> FeatureSpec:
    return spec_for(name, specs)


def _column(frame: pd.DataFrame | None, name: str) -> np.ndarray | None:
    if frame is None or name not in frame:
        return None
    return frame[name].to_numpy(dtype=float)


def no_adverse_factor(reasons: pd.DataFrame) -> dict[str, int | float | None]:
    """Count the rows given no reason: no material adverse factor (``reason_1_code`` empty).

    Returns:
        ``no_adverse_factor`` (rows) and ``no_adverse_factor_share`` (of all rows, 4 decimals;
        ``None`` without rows).
    """
    if "reason_1_code" not in reasons:
        raise KeyError("reasons lack the column reason_1_code")
    none = reasons["reason_1_code"].fillna("").eq("")
    share = round(float(none.mean()), 4) if len(none) else None
    return {"no_adverse_factor": int(none.sum()), "no_adverse_factor_share": share}
