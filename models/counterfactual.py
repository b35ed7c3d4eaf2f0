"""What it would take: the smallest change of actionable features that reaches a target grade.

*Actionable* features are those the catalogue names (``FeatureSpec.actionable``: days late,
on-time rates, late counts, overdue share, utilisation, DSO, disputes, financial ratios); the
sector, size, age and past events are never changed. A change is *plausible* when it goes only
in the catalogue's risk-lowering direction and ends within the book's 1st-99th percentiles of
the feature (:func:`plausible_ranges`); a missing value is never changed (nothing to change from).

*Smallest* is by cost: a change costs ``|after - before| / spread``, the spread being the
feature's interquartile range among the book (where that is 0, as for a count most customers
have at 0: its 1st-99th percentile range; where that is 0 too: 1). Two changes cost the sum.

The search relies on the booster being monotone in these features (the catalogue's directions
are its constraints), so that the PD changes only where a value crosses a split threshold:

1. One feature, exactly: each feature's candidate values are its split thresholds on the safe
   side, rounded to the precision its sentence shows (``features.wording.as_shown``) in the
   safe direction, and its range's safe end. All candidates of all features of a chunk of
   customers are scored in one predict call; per customer the cheapest that reaches the target.
2. Two features, where no one feature suffices: a coarse grid (:data:`GRID` candidates of each
   feature, spread over its list) for every pair, scored in one call; the cheapest that reaches.

Every answer is verified by re-scoring the changed rows through the model's own path
(``PDModel.predict_pd`` and its master scale); only verified answers are returned. A peer
comparison (``features.peers.PEER_FEATURES``: days late against the sector median) follows its
source: a change of the source by ``d`` moves it by ``d`` too.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import wording
from features.catalogue import FEATURES
from features.peers import PEER_FEATURES
from models.pd_model import PDModel
from models.policy import CreditPolicy, apply_policy

GRID = 6  # candidates per feature in the two-feature search
CHUNK = 256  # customers per predict call
# a booster's split thresholds, read once per booster (a customer page asks one row at a time)
_THRESHOLDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_WORDS = {
    "en": {1: "reduce {label} from {before} to {after}", -1: "raise {label} from {before} to "
           "{after}", "and": " and ", "end": " to reach grade {grade}", "limit": " (limit {limit})",
           "none": "no grade gives a limit of {limit} under the credit policy",
           "there": "already at grade {grade}"},
    "zh": {1: "将{label}从 {before}降至 {after}", -1: "将{label}从 {before}提高到 {after}",
           "and": "，并", "end": "，即可达到 {grade} 级", "limit": "（额度 {limit}）",
           "none": "按信用政策，任何等级的额度都达不到 {limit}", "there": "已达到 {grade} 级"},
}  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One feature's change: from ``before`` to ``after``."""

    feature: str
    before: float
    after: float


@dataclass(frozen=True)
class Answer:
    """A verified way to reach ``target_grade``: the changes, the grade and PD they give."""

    target_grade: int
    grade: int
    pd_12m: float
    cost: float
    changes: tuple[Change, ...]

    def code(self) -> str:
        """Machine-readable form: ``feature:before->after`` joined by ``;``."""
        return ";".join(f"{c.feature}:{c.before:.10g}->{c.after:.10g}" for c in self.changes)


def plausible_ranges(X: pd.DataFrame, low: float = 0.01, high: float = 0.99) -> pd.DataFrame:
    """Each feature's plausible range (``lo``, ``hi``: its percentiles) and ``spread`` in ``X``.

    Args:
        X: The book's feature rows at the as-of date (numeric feature columns).
        low: Lower percentile of the range (fraction).
        high: Upper percentile of the range (fraction).

    Returns:
        Frame indexed by feature: ``lo``, ``hi``, ``spread`` (interquartile range; where 0 the
        ``hi - lo`` range; where that is 0 or unknown: 1).
    """
    if not 0 <= low < high <= 1:
        raise ValueError(f"need 0 <= low < high <= 1, found low={low}, high={high}")
    q = X.astype(float).quantile([low, 0.25, 0.75, high])
    lo, q1, q3, hi = (q.iloc[i] for i in range(4))
    spread = (q3 - q1).where(q3 > q1, hi - lo)
    return pd.DataFrame({"lo": lo, "hi": hi, "spread": spread.where(spread > 0, 1.0)})


def solve(
    model: PDModel, frame: pd.DataFrame, targets: np.ndarray, ranges: pd.DataFrame,
    chunk: int = CHUNK,
) -> list[Answer | None]:  # fmt: skip
    """The cheapest verified change of each row of ``frame`` that reaches its target grade.

    Args:
        model: The PD model (booster, calibrator, master scale).
        frame: Feature rows (the model's feature columns; others ignored).
        targets: Target grade per row (the grade to reach or better); NaN: none.
        ranges: :func:`plausible_ranges` of the book.
        chunk: Rows per predict call.

    Returns:
        Per row an :class:`Answer`, or ``None``: no target, or no plausible one- or
        two-feature change reaches it.
    """
    targets = np.asarray(targets, dtype=float)
    if len(targets) != len(frame):
        raise ValueError(f"need one target per row: {len(targets)} targets, {len(frame)} rows")
    space = _Space(model, ranges)
    X = model.feature_frame(frame).to_numpy(dtype=float)
    found: list[Answer | None] = []
    for s in range(0, len(X), chunk):
        part, goal = X[s : s + chunk], targets[s : s + chunk]
        picks = space.single(part, goal)
        rest = np.flatnonzero(~np.isnan(goal) & np.array([p is None for p in picks]))
        for i, pick in zip(rest, space.pairs(part[rest], goal[rest]), strict=True):
            picks[i] = pick
        found += space.verify(frame.iloc[s : s + chunk], part, goal, picks)
    return found


def up_one_grade(
    model: PDModel, frame: pd.DataFrame, grades: np.ndarray, ranges: pd.DataFrame,
    language: str = "en", chunk: int = CHUNK,
) -> pd.DataFrame:  # fmt: skip
    """``what_it_would_take`` (worded) and ``what_it_would_take_code`` of each row's next grade.

    The target is the grade one better on the master scale; empty strings where the row is in
    the best grade or no plausible change reaches the next one.
    """
    wording.check_language(language)
    numbers = [g.grade for g in model.scale.grades]
    better = {b: a for a, b in zip(numbers, numbers[1:], strict=False)}
    targets = np.array([better.get(int(g), np.nan) if pd.notna(g) else np.nan for g in grades])
    answers = solve(model, frame, targets, ranges, chunk)
    return pd.DataFrame(
        {
            "what_it_would_take": [word(a, model, language) if a else "" for a in answers],
            "what_it_would_take_code": [a.code() if a else "" for a in answers],
        },
        index=frame.index,
    )


def what_it_would_take(
    model: PDModel, features: pd.DataFrame, ranges: pd.DataFrame, *, grade: int | None = None,
    limit: float | None = None, book: pd.DataFrame | None = None,
    policy: CreditPolicy | None = None, language: str = "en",
) -> tuple[Answer | None, str]:  # fmt: skip
    """One customer's answer for a target grade, or a requested limit, and its sentence.

    Args:
        model: The PD model.
        features: The customer's feature row (one row).
        ranges: :func:`plausible_ranges` of the book.
        grade: The grade to reach.
        limit: Or: the limit requested, mapped to the grade it needs (:func:`grade_for_limit`).
        book: With ``limit``: the customer's scored book row (``apply_policy``'s columns).
        policy: With ``limit``: the credit policy.
        language: Language of the sentence.

    Returns:
        The answer (no changes: the customer is there already) and its sentence; ``None`` and
        an empty sentence where no plausible change reaches the target (or a sentence saying
        that no grade gives the limit).
    """
    wording.check_language(language)
    if len(features) != 1 or (grade is None) == (limit is None):
        raise ValueError("give one feature row and exactly one of grade or limit")
    words, shown = _WORDS[language], None
    if limit is not None:
        if book is None or policy is None:
            raise ValueError("a limit target needs the customer's book row and the policy")
        grade = grade_for_limit(book, policy, limit)
        if grade is None:
            return None, words["none"].format(limit=f"{limit:,.0f}")
        shown = limit_at(book, policy, grade)
    now = model.predict_pd(features)
    if model.scale.assign(now)[0] <= grade:
        answer = Answer(grade, int(model.scale.assign(now)[0]), float(now[0]), 0.0, ())
        return answer, words["there"].format(grade=answer.grade)
    answer = solve(model, features, np.array([grade]), ranges)[0]
    return answer, (word(answer, model, language, shown) if answer else "")


def grade_for_limit(book: pd.DataFrame, policy: CreditPolicy, limit: float) -> int | None:
    """The riskiest grade whose recommended limit reaches ``limit`` for this customer.

    ``book``: the customer's row with ``models.policy.apply_policy``'s columns (the policy is
    applied at every grade, without this month's deterioration actions). ``None``: no grade.
    """
    grades = policy.grade_table().index
    limits = pd.Series([limit_at(book, policy, int(g)) for g in grades], index=grades)
    enough = limits.index[limits >= limit]
    return int(enough.max()) if len(enough) else None


def limit_at(book: pd.DataFrame, policy: CreditPolicy, grade: int) -> float:
    """The limit the policy recommends for the customer of ``book`` (one row) at ``grade``."""
    if len(book) != 1:
        raise ValueError(f"need the customer's one book row, found {len(book)}")
    return float(apply_policy(book.assign(grade=grade), policy)["recommended_limit"].iloc[0])


def word(answer: Answer, model: PDModel, language: str = "en", limit: float | None = None) -> str:
    """The answer as a sentence: the changes, the grade reached, and the limit where given."""
    words = _WORDS[language]
    parts = []
    for c in answer.changes:
        spec = model.specs[c.feature]
        label = actionable(c.feature)[wording.LANGUAGES.index(language)]
        before, after = (wording.quantity(spec, v, language) for v in (c.before, c.after))
        parts.append(words[spec.direction].format(label=label, before=before, after=after))
    text = words["and"].join(parts) + words["end"].format(grade=answer.target_grade)
    if limit is not None:
        text += words["limit"].format(limit=f"{limit:,.0f}")
    return text[:1].upper() + text[1:]


def apply_changes(frame: pd.DataFrame, changes: list[tuple[Change, ...]]) -> pd.DataFrame:
    """``frame`` with each row's changes made, a peer comparison following its source."""
    out = frame.copy()
    for pos, row_changes in enumerate(changes):
        for c in row_changes:
            delta = c.after - float(out[c.feature].iloc[pos])
            out.iloc[pos, out.columns.get_loc(c.feature)] = c.after
            peer = PEER_FEATURES.get(c.feature)
            if peer in out.columns and pd.notna(out[peer].iloc[pos]):
                out.iloc[pos, out.columns.get_loc(peer)] = float(out[peer].iloc[pos]) + delta
    return out


class _Space:
    """The candidate values of the model's actionable features, and the searches over them."""

    def __init__(self, model: PDModel, ranges: pd.DataFrame) -> None:
        self.model = model
        names = model.feature_names
        self.direction = np.array([model.specs[n].direction for n in names], dtype=float)
        spread = ranges["spread"].reindex(names).fillna(1.0)
        self.spread = spread.to_numpy(dtype=float)
        self.links = [(names.index(s), names.index(p)) for s, p in PEER_FEATURES.items()
                      if s in names and p in names]  # fmt: skip
        cols, vals = [], []
        for j, values in enumerate(_candidate_values(model, ranges)):
            cols.append(np.full(len(values), j))
            vals.append(values)
        self.cols = np.concatenate(cols) if cols else np.array([], dtype=int)
        self.vals = np.concatenate(vals) if vals else np.array([])
        # the two-feature grid: a few candidates of each feature, spread over its list
        spaced = [np.flatnonzero(self.cols == j) for j in np.unique(self.cols)]
        self.grid = np.array([p for c in spaced for p in c[_spaced(len(c))]], dtype=int)

    def grades(self, X: np.ndarray) -> np.ndarray:
        raw = self.model.booster.predict(X, raw_score=True) if len(X) else np.array([])
        return self.model.scale.assign(self.model.calibrator.predict(raw))

    def single(self, X: np.ndarray, goal: np.ndarray) -> list[tuple | None]:
        k_all = np.arange(len(self.cols))
        before = X[:, self.cols]
        i, k = np.nonzero(self._safe(k_all, before) & ~np.isnan(goal)[:, None])
        rows = self._changed(X, i, [k])
        cost = self._cost(k, before[i, k])
        reached = self.grades(rows) <= goal[i]
        return _cheapest(len(X), i[reached], cost[reached], (k[reached],))

    def pairs(self, X: np.ndarray, goal: np.ndarray) -> list[tuple | None]:
        a, b = (self.grid[p] for p in np.triu_indices(len(self.grid), 1))
        a, b = a[self.cols[a] != self.cols[b]], b[self.cols[a] != self.cols[b]]
        before_a, before_b = X[:, self.cols[a]], X[:, self.cols[b]]
        i, k = np.nonzero(self._safe(a, before_a) & self._safe(b, before_b))
        ka, kb = a[k], b[k]
        rows = self._changed(X, i, [ka, kb])
        cost = self._cost(ka, before_a[i, k]) + self._cost(kb, before_b[i, k])
        reached = self.grades(rows) <= goal[i]
        coarse = _cheapest(len(X), i[reached], cost[reached], (ka[reached], kb[reached]))
        return self._refine(X, goal, coarse)

    def _refine(self, X: np.ndarray, goal: np.ndarray, coarse: list) -> list[tuple | None]:
        """Each grid answer's two features over all their candidates up to the grid's values."""
        found = [(r, p) for r, p in enumerate(coarse) if p is not None]
        if not found:
            return coarse
        i, ka, kb = [], [], []
        for r, (_, (a, b)) in found:
            near_a, near_b = (self._up_to(X[r], k) for k in (a, b))
            mesh_a, mesh_b = np.meshgrid(near_a, near_b)
            i.append(np.full(mesh_a.size, r))
            ka.append(mesh_a.ravel())
            kb.append(mesh_b.ravel())
        i, ka, kb = np.concatenate(i), np.concatenate(ka), np.concatenate(kb)
        rows = self._changed(X, i, [ka, kb])
        cost = self._cost(ka, X[i, self.cols[ka]]) + self._cost(kb, X[i, self.cols[kb]])
        reached = self.grades(rows) <= goal[i]
        return _cheapest(len(X), i[reached], cost[reached], (ka[reached], kb[reached]))

    def _up_to(self, x: np.ndarray, k: int) -> np.ndarray:
        """The candidates of ``k``'s feature on the safe side of ``x``, no farther than ``k``."""
        same = np.flatnonzero(self.cols == self.cols[k])
        d, before = self.direction[self.cols[k]], x[self.cols[k]]
        return same[
            (d * (self.vals[same] - before) < 0) & (d * (self.vals[same] - self.vals[k]) >= 0)
        ]

    def _safe(self, k: np.ndarray, before: np.ndarray) -> np.ndarray:
        """Whether candidate ``k`` lowers the risk from ``before`` (never from a missing one)."""
        return self.direction[self.cols[k]] * (self.vals[k] - before) < 0

    def _cost(self, k: np.ndarray, before: np.ndarray) -> np.ndarray:
        return np.abs(self.vals[k] - before) / self.spread[self.cols[k]]

    def _changed(self, X: np.ndarray, i: np.ndarray, candidates: list[np.ndarray]) -> np.ndarray:
        """Rows ``X[i]``, each with its ``candidates``' values set (a peer following its source)."""
        rows = X[i].copy()
        at = np.arange(len(i))
        for k in candidates:
            rows[at, self.cols[k]] = self.vals[k]
        for source, peer in self.links:
            rows[:, peer] += np.nan_to_num(rows[:, source] - X[i, source])
        return rows

    def verify(
        self, frame: pd.DataFrame, X: np.ndarray, goal: np.ndarray, picks: list[tuple | None]
    ) -> list[Answer | None]:
        names = self.model.feature_names
        changes = [
            () if p is None else tuple(
                Change(names[self.cols[k]], float(X[r, self.cols[k]]), float(self.vals[k]))
                for k in p[1]
            )
            for r, p in enumerate(picks)
        ]  # fmt: skip
        changed = apply_changes(frame[names].reset_index(drop=True), changes)
        pd_12m = self.model.predict_pd(changed)
        grades = self.model.scale.assign(pd_12m)
        return [
            Answer(int(goal[r]), int(grades[r]), float(pd_12m[r]), p[0], changes[r])
            if p is not None and grades[r] <= goal[r] else None
            for r, p in enumerate(picks)
        ]  # fmt: skip


def actionable(name: str) -> tuple[str, ...]:
    """The catalogue's ``actionable`` names of a feature; empty: fixed, or a user's attribute.

    Read from the catalogue, not from a model's stored entries: a model pickled before the
    catalogue marked them still gets today's marks.
    """
    return FEATURES[name].actionable if name in FEATURES else ()


def _candidate_values(model: PDModel, ranges: pd.DataFrame) -> list[np.ndarray]:
    """Per model feature, the values a change may end at (sorted; empty: not actionable)."""
    thresholds_of = split_thresholds(model.booster)
    out = []
    for j, name in enumerate(model.feature_names):
        spec = model.specs[name]
        if not actionable(name) or spec.direction == 0 or spec.categorical:
            out.append(np.array([]))
            continue
        lo, hi = (float(ranges[c].get(name, np.nan)) for c in ("lo", "hi"))
        step = _shown_step(spec)
        values = _safe_side(thresholds_of.get(j, np.array([])), spec.direction, step)
        end = lo if spec.direction > 0 else hi  # the range's safe end, rounded inward
        values = np.append(values, _safe_side(np.array([end]), -spec.direction, step))
        values = np.unique(values[(values >= lo) & (values <= hi)])
        out.append(values)
    return out


def split_thresholds(booster: object) -> dict[int, np.ndarray]:
    """Each feature's distinct split thresholds (by feature position), from the model text.

    Read from ``model_to_string`` (a tree's ``split_feature=`` and ``threshold=`` lines): ten
    times faster than ``trees_to_dataframe``; kept for the booster's lifetime. A categorical
    split's threshold is not a value; only numeric features are searched.
    """
    if booster not in _THRESHOLDS:
        _THRESHOLDS[booster] = _read_thresholds(booster)
    return _THRESHOLDS[booster]


def _read_thresholds(booster: object) -> dict[int, np.ndarray]:
    features, thresholds = [], []
    for line in booster.model_to_string().splitlines():
        if line.startswith("split_feature="):
            features.append(np.array(line.split("=", 1)[1].split(), dtype=int))
        elif line.startswith("threshold="):
            thresholds.append(np.array(line.split("=", 1)[1].split(), dtype=float))
    if not features:
        return {}
    f, t = np.concatenate(features), np.concatenate(thresholds)
    return {int(j): np.unique(t[f == j]) for j in np.unique(f)}


def _safe_side(thresholds: np.ndarray, direction: int, step: float) -> np.ndarray:
    """The shown value nearest each threshold on its safe side (LightGBM: ``<=`` goes left)."""
    if step == 0:
        return thresholds if direction > 0 else np.nextafter(thresholds, np.inf)
    if direction > 0:  # at most the threshold
        v = np.floor(thresholds / step) * step
        return np.where(v > thresholds, v - step, v)
    v = (np.floor(thresholds / step) + 1) * step  # above it
    return np.where(v <= thresholds, v + step, v)


def _shown_step(spec: object) -> float:
    """The precision a feature's sentence shows its value with (``0.01`` for ``58%``)."""
    probe = float(wording.as_shown(spec, np.array([np.pi]))[0])
    for decimals in range(12):
        if round(np.pi, decimals) == probe:
            return 10.0**-decimals
    return 0.0


def _spaced(n: int) -> np.ndarray:
    """Up to :data:`GRID` positions spread evenly over ``n``, both ends included."""
    return np.unique(np.round(np.linspace(0, n - 1, min(n, GRID))).astype(int))


def _cheapest(
    n: int, rows: np.ndarray, cost: np.ndarray, picks: tuple[np.ndarray, ...]
) -> list[tuple | None]:
    """Per row of ``n``, ``(cost, candidate positions)`` of its cheapest reaching candidate."""
    out: list[tuple | None] = [None] * n
    order = np.lexsort((cost, rows))
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]] if len(order) else order
    for m in first:
        out[rows[m]] = (float(cost[m]), tuple(int(p[m]) for p in picks))
    return out
