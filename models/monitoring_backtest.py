"""Month-over-month figures of a labelled window: grade churn against the truth, alert precision.

*Churn*: over consecutive month ends, the share of the customers present in both months whose
grade changed, for each PD column (the model's, and on synthetic data the true PD mapped through
the same master scale). A model whose grades move much more often than the true PDs' moves on
noise, and every such move can raise an alert.

*Alert back-test*: the alert rules that need only the PD and grade history (``DOWNGRADE``,
``ENTER_HIGH_RISK``, ``PD_INCREASE``, see :func:`models.monitoring.grade_rule_hits`) replayed
month by month on the window's PDs, exactly as the score stage applies them (settled grades and
all). The first month only sets the starting state (no previous book: every customer would be
new), so alerts are counted from the second month. Each row's label (default within the
horizon) tells whether an alert was worth raising: the *precision* is the default rate of the
alerted customer-months, set against the default rate of the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.master_scale import MasterScale
from models.monitoring import SCORED, SEVERITIES, AlertRules, compare_books, grade_rule_hits

KEYS = ["customer_id", "as_of_date"]
# the rules replayed: code -> field of AlertRules
_GRADE_RULES = {"DOWNGRADE": "downgrade", "ENTER_HIGH_RISK": "enter_high_risk"}
_GRADE_RULES["PD_INCREASE"] = "pd_increase"
MAX_CHURN_RATIO = 1.5  # the model's grades may change at most 1.5x as often as the truth's
MIN_PRECISION_RATIO = 2.0  # alerted customers default at least twice as often as the rest
REPLAY_COLUMNS = [
    *KEYS, "label", "pd_12m", "grade", "previous_grade", "settled_grade", "previous_settled_grade",
]  # fmt: skip


def grade_churn(rows: pd.DataFrame, scale: MasterScale, columns: Mapping[str, str]) -> pd.DataFrame:
    """Per pair of consecutive month ends, how many customers changed grade under each PD.

    Args:
        rows: ``customer_id``, ``as_of_date`` and the PD columns, one row per customer-month.
        scale: The master scale mapping each PD to a grade.
        columns: Name -> PD column (e.g. ``{"model": "pd_12m", "truth": "true_pd_12m"}``).

    Returns:
        One row per month end after the first: ``as_of_date``, ``previous_as_of_date``,
        ``customers`` (in both months) and per name ``<name>_changed`` (their count whose grade
        changed) and ``<name>_pd_unchanged`` (whose PD is exactly the same).
    """
    _require(rows, [*KEYS, *columns.values()])
    if rows.duplicated(KEYS).any():
        raise ValueError("rows must hold one row per customer and month end")
    dates = sorted(pd.to_datetime(rows["as_of_date"]).unique())
    wide = {
        name: rows.assign(
            _g=scale.assign(rows[col].to_numpy(float)), _p=rows[col].astype(float)
        ).pivot(index="customer_id", columns="as_of_date", values=["_g", "_p"])
        for name, col in columns.items()
    }
    out = []
    for before, date in zip(dates, dates[1:], strict=False):
        first = next(iter(wide.values()))["_g"]
        both = first[before].notna() & first[date].notna()
        row: dict = {
            "as_of_date": date,
            "previous_as_of_date": before,
            "customers": int(both.sum()),
        }
        for name, table in wide.items():
            for key, what in (("_g", "changed"), ("_p", "pd_unchanged")):
                same = table[key][date][both] == table[key][before][both]
                row[f"{name}_{what}"] = int((~same if what == "changed" else same).sum())
        out.append(row)
    return pd.DataFrame(out)


def summarize_churn(table: pd.DataFrame, model: str = "model", truth: str = "truth") -> dict:
    """Pooled shares of :func:`grade_churn`, their ratio and the per-month shares.

    ``ratio`` is the model's grade-change share over the truth's; ``within_target`` whether it
    is at most :data:`MAX_CHURN_RATIO` (``None`` without a truth column).
    """
    n = int(table["customers"].sum()) if len(table) else 0
    if n == 0:
        raise ValueError("no customer is present in two consecutive month ends")
    names = [c[: -len("_changed")] for c in table.columns if c.endswith("_changed")]
    out: dict = {"month_pairs": len(table), "customer_months": n}
    for name in names:
        out[f"{name}_grade_change_share"] = table[f"{name}_changed"].sum() / n
        out[f"{name}_pd_unchanged_share"] = table[f"{name}_pd_unchanged"].sum() / n
    if truth in names and model in names:
        ratio = _ratio(out[f"{model}_grade_change_share"], out[f"{truth}_grade_change_share"])
        out |= {"ratio": ratio, "target_ratio": MAX_CHURN_RATIO}
        out["within_target"] = bool(ratio <= MAX_CHURN_RATIO)
    out["by_month"] = {
        f"{pd.Timestamp(r['as_of_date']):%Y-%m-%d}": {
            "customers": int(r["customers"]),
            **{
                f"{name}_grade_change_share": r[f"{name}_changed"] / r["customers"]
                for name in names
            },
        }
        for _, r in table.iterrows()
        if r["customers"] > 0
    }
    return out


def replay_alerts(
    rows: pd.DataFrame, scale: MasterScale, rules: AlertRules, high_risk_grade: int
) -> pd.DataFrame:
    """Replay the PD and grade alert rules month by month over labelled ``rows``.

    Args:
        rows: ``customer_id``, ``as_of_date``, ``pd_12m`` and ``label``, one row per
            customer-month (the scored book of each month end).
        scale: The master scale.
        rules: The alert rules (their hysteresis included).
        high_risk_grade: The first grade of the high-risk grades.

    Returns:
        :data:`REPLAY_COLUMNS` and one boolean column per rule that is on, for every
        customer-month after the first month end.
    """
    _require(rows, [*KEYS, "pd_12m", "label"])
    previous, out = None, []
    for date, month in rows.groupby(pd.to_datetime(rows["as_of_date"]), sort=True):
        book = month[[*KEYS, "pd_12m", "label"]].assign(
            status=SCORED, grade=scale.assign(month["pd_12m"].to_numpy(float)), as_of_date=date
        )
        book = compare_books(book, previous, scale, rules.hysteresis)
        if previous is not None:
            hits = grade_rule_hits(book, rules, high_risk_grade)
            out.append(pd.concat([book[REPLAY_COLUMNS], hits], axis=1))
        previous = book
    if not out:
        raise ValueError("the alert back-test needs at least two month ends")
    return pd.concat(out, ignore_index=True)


def alert_precision(replay: pd.DataFrame) -> dict:
    """Alerts per month and how often the alerted customers default, from :func:`replay_alerts`.

    Returns:
        ``rules`` (those replayed), per month end (``by_month``) the customers, alerts and
        alerted customers; over all months the ``precision`` (default rate of the alerted
        customer-months), the ``non_alerted_default_rate``, their ``ratio`` and whether it
        reaches :data:`MIN_PRECISION_RATIO`; ``by_rule`` the alerts and precision of each rule.
    """
    rules = [c for c in replay.columns if c not in REPLAY_COLUMNS]
    alerted = replay[rules].any(axis=1) if rules else pd.Series(False, index=replay.index)
    y = replay["label"].astype(float)
    precision = float(y[alerted].mean()) if alerted.any() else np.nan
    rest = float(y[~alerted].mean()) if (~alerted).any() else np.nan
    months = replay.assign(_alerts=replay[rules].sum(axis=1), _alerted=alerted)
    by_month = months.groupby("as_of_date").agg(
        customers=("customer_id", "size"), alerts=("_alerts", "sum"), alerted=("_alerted", "sum")
    )
    known = replay["previous_grade"].notna()
    return {
        "rules": rules,
        "months": len(by_month),
        # how often what the rules follow moved: the model grade, and the settled grade
        "grade_change_share": _mean(
            replay.loc[known, "grade"] != replay.loc[known, "previous_grade"]
        ),
        "settled_grade_change_share": _mean(
            replay.loc[known, "settled_grade"] != replay.loc[known, "previous_settled_grade"]
        ),
        "alerts": int(replay[rules].to_numpy().sum()),
        "alerted_customer_months": int(alerted.sum()),
        "precision": precision,
        "non_alerted_default_rate": rest,
        "ratio": _ratio(precision, rest),
        "target_ratio": MIN_PRECISION_RATIO,
        "within_target": bool(_ratio(precision, rest) >= MIN_PRECISION_RATIO),
        "by_rule": {
            r: {"alerts": int(replay[r].sum()), "precision": _mean(y[replay[r]])} for r in rules
        },
        "by_month": {
            f"{pd.Timestamp(d):%Y-%m-%d}": {k: int(v) for k, v in row.items()}
            for d, row in by_month.iterrows()
        },
    }


def replay_severity(replay: pd.DataFrame, rules: AlertRules) -> pd.Series:
    """Each replayed customer-month's most severe alert (missing: none), as the policy reads it."""
    worst = pd.Series(pd.NA, index=replay.index, dtype=object)
    for severity in reversed(SEVERITIES):  # the most severe last, so that it wins
        codes = [c for c, field in _GRADE_RULES.items() if _severity(rules, field) == severity]
        codes = [c for c in codes if c in replay]
        worst = worst.mask(replay[codes].any(axis=1), severity) if codes else worst
    return worst


def limit_reductions(told: pd.DataFrame) -> dict:
    """Share of customers told to reduce their limit per month, and newly told.

    Args:
        told: ``customer_id``, ``as_of_date`` and ``reduce_limit`` (bool), one row per
            customer-month.

    Returns:
        ``share`` (over all customer-months), ``newly_share`` (told this month and not the
        month before, over the customers present both months) and both per month end.
    """
    _require(told, [*KEYS, "reduce_limit"])
    wide = told.pivot(index="customer_id", columns="as_of_date", values="reduce_limit")
    by_month, newly, both = {}, 0, 0
    dates = list(wide.columns)
    for i, date in enumerate(dates):
        now = wide[date].dropna().astype(bool)
        row = {"customers": len(now), "share": _mean(now)}
        if i:
            before = wide[dates[i - 1]].reindex(now.index).dropna().astype(bool)
            new = now[before.index] & ~before
            row["newly_share"] = _mean(new)
            newly, both = newly + int(new.sum()), both + len(before)
        by_month[f"{pd.Timestamp(date):%Y-%m-%d}"] = row
    return {
        "share": _mean(told["reduce_limit"].astype(bool)),
        "newly_share": newly / both if both else np.nan,
        "by_month": by_month,
    }


def _severity(rules: AlertRules, name: str) -> str | None:
    rule = getattr(rules, name)
    return None if rule is None else rule.severity


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 and np.isfinite(a) else np.nan


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else np.nan


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"rows lack columns {missing}")
