"""Reasons state risks: no sentence of scores.csv words a favourable fact (the tiny run).

:func:`favourable_reasons` is the check, usable on any run: it traces each reason sentence back
to the feature that speaks it (by wording every feature of the reason code again, from the
snapshot value and the sector median, and keeping the one that gives the same sentence) and
judges that feature's value against what the sentence compares it with, in the catalogue's
risk direction: the sector median it quotes, 0 for a change or a difference, else the book's
median over the labelled windows (the population reference).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from features import wording
from features.catalogue import FEATURES
from features.peers import sector_medians

pytestmark = pytest.mark.slow

CLAUSE = {"en": ", sector median ", "zh": "，行业中位数 "}


def favourable_reasons(
    scores: pd.DataFrame,
    snapshots: pd.DataFrame,
    reference: dict[str, float] | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """The reason sentences of ``scores`` that state a favourable fact, or that no feature says.

    Args:
        scores: scores.csv as read (``customer_id``, ``as_of_date``, ``reason_k_code``,
            ``reason_k``).
        snapshots: The feature snapshots (``customer_id``, ``as_of_date``, ``industry``, the
            features).
        reference: Population reference per feature, for sentences that compare with nothing
            they state; ``None``: those sentences are not judged.
        language: The sentences' language.

    Returns:
        One row per offending sentence: ``customer_id``, ``k``, ``feature`` (empty: no feature
        gives the sentence), ``sentence`` and ``why``.
    """
    as_of = pd.Timestamp(scores["as_of_date"].iloc[0])
    rows = snapshots[pd.to_datetime(snapshots["as_of_date"]) == as_of]
    names = [n for n in FEATURES if n in rows.columns]
    rows = rows.assign(customer_id=rows["customer_id"].astype(str)).reset_index(drop=True)
    medians = sector_medians(rows, names).set_index(rows["customer_id"])
    rows = rows.set_index("customer_id")
    ids = scores["customer_id"].astype(str).to_numpy()
    found = []
    for k in range(1, 1 + sum(bool(re.fullmatch(r"reason_\d+_code", c)) for c in scores.columns)):
        sentences = scores[f"reason_{k}"].fillna("").to_numpy()
        codes = scores[f"reason_{k}_code"].fillna("").to_numpy()
        for i in np.flatnonzero(sentences != ""):
            feature, why = _judge(sentences[i], codes[i], ids[i], rows, medians, names,
                                  reference, language)  # fmt: skip
            if why:
                found.append((ids[i], k, feature, sentences[i], why))
    return pd.DataFrame(found, columns=["customer_id", "k", "feature", "sentence", "why"])


def _judge(sentence, code, cid, rows, medians, names, reference, language) -> tuple[str, str]:
    for name in (n for n in names if FEATURES[n].reason_code == code):
        spec = FEATURES[name]
        value, median = float(rows.at[cid, name]), float(medians.at[cid, name])
        quoted = CLAUSE[language] in sentence
        said = spec.sentence(value, language, median if quoted else None)
        if said != sentence:
            continue
        if np.isnan(value):
            if spec.missing_value is None:  # a gap in the data, not a favourable fact
                return name, ""
            value = spec.missing_value
        if spec.direction == 0:
            return name, ""
        shown = wording.as_shown(spec, np.array([value, median, 0.0]))
        risk = spec.direction * (shown[0] - shown[1:])
        if quoted and not risk[0] > 0:
            return name, f"not worse than the sector median {median:g}"
        if wording.states_sign(spec) and not risk[1] > 0:
            return name, "a change or difference in the favourable direction"
        ref = None if reference is None else reference.get(name)
        if not quoted and not wording.states_sign(spec) and ref is not None:
            gap = spec.direction * (wording.as_shown(spec, np.array([value, ref])) @ [1, -1])
            if not gap > 0:
                return name, f"not worse than the population reference {ref:g}"
        return name, ""
    return "", f"no feature of {code} gives this sentence"


def population_reference(snapshots: pd.DataFrame, split: pd.DataFrame) -> dict[str, float]:
    """Each feature's median over the labelled windows (train, calibration, test)."""
    keys = ["customer_id", "as_of_date"]
    labelled = split[split["window"].isin(["train", "calibration", "test"])][keys]
    rows = snapshots.merge(labelled, on=keys)
    return {n: float(rows[n].median()) for n in FEATURES if n in rows}


def test_no_reason_states_a_favourable_fact(tiny_run):
    scores = pd.read_csv(tiny_run / "data/scored/scores.csv", dtype={"customer_id": str})
    snapshots = pd.read_parquet(tiny_run / "data/features/snapshots.parquet")
    split = pd.read_parquet(tiny_run / "data/splits/split.parquet")
    reference = population_reference(snapshots, split)
    found = favourable_reasons(scores, snapshots, reference)
    assert found.empty, found.head(10).to_string()
    assert (scores["reason_1"].fillna("") != "").any()  # the check did look at sentences


def test_the_check_finds_a_favourable_sentence():
    snapshots = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "as_of_date": pd.Timestamp("2025-12-31"),
            "industry": "retail",
            "days_late_vs_sector": [-2.0, 3.0, 0.0],
            "limit_utilisation": [0.58, 0.9, 0.65],
        }
    )
    spec_peer, spec_use = FEATURES["days_late_vs_sector"], FEATURES["limit_utilisation"]
    scores = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "as_of_date": "2025-12-31",
            "reason_1_code": ["WORSE_THAN_PEERS", "WORSE_THAN_PEERS", "UTILISATION"],
            "reason_1": [spec_peer.sentence(-2.0), spec_peer.sentence(3.0), "Made up"],
            "reason_2_code": ["UTILISATION", "UTILISATION", ""],
            "reason_2": [
                spec_use.sentence(0.58, median=0.65),
                spec_use.sentence(0.9, median=0.65),
                "",
            ],  # fmt: skip
        }
    )
    found = favourable_reasons(scores, snapshots)
    assert found[["customer_id", "k"]].values.tolist() == [["A", 1], ["C", 1], ["A", 2]]
    assert found["feature"].tolist() == ["days_late_vs_sector", "", "limit_utilisation"]
