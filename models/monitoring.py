"""Month-over-month monitoring: what changed between two scored books, and the alerts it raises.

A *book* is one row per customer of the customer book at a month end: ``status`` is
``scored`` (with ``pd_12m``, ``grade``, ``exposure``, ``current_limit``,
``newly_overdue_amount``, ``late_45_quarters``), ``in_default`` (with ``default_date`` and
``default_trigger``) or another reason it was not scored. Alert rules compare the book with the
previous one; a rule on a state (high-risk grade, limit breach, late three quarters running)
fires when the state is entered, so a customer is not alerted again every month it stays there,
and fires for a customer that has no previous record.

With hysteresis (``AlertRules.hysteresis``, on by default) the grade rules follow the *settled*
grade (``models.hysteresis``), which moves when the PD crosses a boundary by a margin or stays
beyond it two months, so a customer on a boundary is not alerted every time it flips; and a PD
increase must also hold against the PD of two months ago (a PD back where it was is no news).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from models.alert_text import ALERT_TEXT, EVENT_WORDS, alert_fields
from models.hysteresis import settle_grades
from models.master_scale import MasterScale

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")  # most severe first
ALERT_COLUMNS = ["customer_id", "severity", "rule", "message"]
SCORED = "scored"
IN_DEFAULT = "in_default"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity


class DowngradeRule(_Rule):
    """Downgrade by ``notches`` grades or more since the previous book."""

    notches: int = Field(2, ge=1)


class PDIncreaseRule(_Rule):
    """PD up by ``points`` (absolute, 0.05 = 5 percentage points) or more."""

    points: float = Field(0.05, gt=0, lt=1)


class LateRule(_Rule):
    """More than 45 days late in ``quarters`` consecutive quarters (entered this month)."""

    quarters: int = Field(3, ge=1, le=4)


class LimitBreachRule(_Rule):
    """Exposure above the current credit limit times ``1 + tolerance`` (entered this month)."""

    tolerance: float = Field(0.0, ge=0)


class NewOverdueRule(_Rule):
    """At least ``min_amount`` crossed ``days`` past due since the previous book."""

    days: int = Field(30, ge=0)
    min_amount: float = Field(5000.0, ge=0)


class Hysteresis(BaseModel):
    """Grade rules follow the settled grade: PD ``margin`` beyond a boundary, or two months."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    margin: float = Field(0.25, ge=0)


class AlertRules(BaseModel):
    """The alert rules of the credit policy; a rule set to ``null`` is off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    downgrade: DowngradeRule | None = DowngradeRule(severity="high")
    enter_high_risk: _Rule | None = _Rule(severity="high")
    pd_increase: PDIncreaseRule | None = PDIncreaseRule(severity="medium")
    late_45_quarters: LateRule | None = LateRule(severity="high")
    limit_breach: LimitBreachRule | None = LimitBreachRule(severity="medium")
    new_overdue: NewOverdueRule | None = NewOverdueRule(severity="medium")
    defaulted: _Rule | None = _Rule(severity="high")
    events: dict[str, Severity] = {"legal_dispute": "high", "ownership_change": "medium"}
    hysteresis: Hysteresis | None = Hysteresis()


def compare_books(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    scale: MasterScale | None = None,
    hysteresis: Hysteresis | None = None,
) -> pd.DataFrame:
    """Return ``current`` with the previous grade and PD and their changes (worse: positive).

    Adds ``previous_grade``, ``grade_change``, ``previous_pd_12m`` and ``pd_change``;
    ``earlier_pd_12m`` (the PD of the book before ``previous``, where ``previous`` carries it);
    ``previous_settled_grade`` (``previous``'s settled grade, else its grade) and
    ``settled_grade`` (:func:`models.hysteresis.settle_grades` with ``scale`` and
    ``hysteresis``; the model grade without either). Missing where the customer was not scored
    in ``previous`` (or there is none).
    """
    _require(current, ["customer_id", "status", "grade", "pd_12m"], "current book")
    prev = _scored(previous).set_index("customer_id") if previous is not None else None
    prev = prev if prev is not None and not prev.empty else None
    out = current.copy()
    scored = out["status"] == SCORED
    out["previous_grade"] = _before(out, prev, "grade").astype("Int64").where(scored, pd.NA)
    out["previous_pd_12m"] = _before(out, prev, "pd_12m")
    out["grade_change"] = out["grade"].astype("Int64") - out["previous_grade"]
    out["pd_change"] = out["pd_12m"] - out["previous_pd_12m"]
    out["earlier_pd_12m"] = _before(out, prev, "previous_pd_12m").where(scored)
    settled = _before(out, prev, "settled_grade").fillna(_before(out, prev, "grade"))
    out["previous_settled_grade"] = settled.astype("Int64").where(scored, pd.NA)
    out["settled_grade"] = out["grade"].astype("Int64")
    if scale is not None and hysteresis is not None and scored.any():
        rows = out[scored]
        out.loc[scored, "settled_grade"] = settle_grades(
            rows["pd_12m"].to_numpy(float),
            rows["grade"].to_numpy(float),
            rows["previous_grade"].to_numpy(float, na_value=np.nan),
            rows["previous_settled_grade"].to_numpy(float, na_value=np.nan),
            scale,
            hysteresis.margin,
        )
    return out


def grade_rule_hits(book: pd.DataFrame, rules: AlertRules, high_risk_grade: int) -> pd.DataFrame:
    """Which customers of a compared book the PD and grade rules hit (the rules that are on).

    Args:
        book: Scored rows compared by :func:`compare_books`.
        rules: The alert rules: ``downgrade`` and ``enter_high_risk`` on the settled grade,
            ``pd_increase`` on the PD (with hysteresis: also against ``earlier_pd_12m``).
        high_risk_grade: The first grade of the high-risk grades.

    Returns:
        Boolean frame aligned to ``book``, one column per rule code that is on.
    """
    was, now = book["previous_settled_grade"], book["settled_grade"].astype("Int64")
    hits: dict[str, pd.Series] = {}
    if rules.downgrade is not None:
        hits["DOWNGRADE"] = (now - was >= rules.downgrade.notches).fillna(False)
    if rules.enter_high_risk is not None:
        hits["ENTER_HIGH_RISK"] = (now >= high_risk_grade) & ~(was >= high_risk_grade).fillna(False)
    if rules.pd_increase is not None:
        points = rules.pd_increase.points
        up = book["pd_change"] >= points
        if rules.hysteresis is not None:  # not a rise back to where it was two months ago
            up &= ~(book["pd_12m"] - book["earlier_pd_12m"] < points)
        hits["PD_INCREASE"] = up
    return pd.DataFrame(hits, index=book.index).fillna(False).astype(bool)


def events_between(
    events: pd.DataFrame | None, since: pd.Timestamp, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Return the events dated in ``(since, as_of]`` (an empty frame when there are none)."""
    columns = ["customer_id", "event_date", "event_type"]
    if events is None or events.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    _require(events, columns, "events")
    dates = pd.to_datetime(events["event_date"])
    return events.loc[(dates > since) & (dates <= as_of), columns].assign(
        customer_id=lambda f: f["customer_id"].astype(str)
    )


def find_alerts(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    new_events: pd.DataFrame | None,
    rules: AlertRules,
    high_risk_grade: int,
    language: str = "en",
) -> pd.DataFrame:
    """Return the alerts the rules raise: ``customer_id, severity, rule, message``.

    Args:
        current: The book at the as-of date, compared by :func:`compare_books` already.
        previous: The previous book, or ``None`` (then every customer is new).
        new_events: Events since the previous book (:func:`events_between`), or ``None``.
        rules: The alert rules.
        high_risk_grade: The first grade of the high-risk grades.
        language: Language of the messages (``en`` or ``zh``).

    Returns:
        One row per alert: the most severe first, then by rule, the largest exposure first.
    """
    if language not in ALERT_TEXT:
        raise ValueError(f"unknown language {language!r}; known: {list(ALERT_TEXT)}")
    needed = ["previous_grade", "settled_grade", "previous_settled_grade", "earlier_pd_12m"]
    needed += ["exposure", "current_limit", "newly_overdue_amount"]
    _require(current, [*needed, "late_45_quarters"], "current book")
    prev = _scored(previous).set_index("customer_id") if previous is not None else None
    scored = current[current["status"] == SCORED]
    parts = [
        *_grade_alerts(scored, rules, high_risk_grade, language),
        *_account_alerts(scored, prev, rules, language),
        _default_alerts(current, prev, rules, language),
        _event_alerts(new_events, current, rules, language),
    ]
    alerts = pd.concat([p for p in parts if p is not None and not p.empty] or [_empty()])
    rank = alerts["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    money = alerts["customer_id"].map(current.set_index("customer_id")["exposure"]).fillna(0)
    order = alerts.assign(_rank=rank, _money=-money).sort_values(
        ["_rank", "rule", "_money", "customer_id"], kind="stable"
    )
    return order[ALERT_COLUMNS].reset_index(drop=True)


def worst_severity(alerts: pd.DataFrame) -> pd.Series:
    """Return each alerted customer's most severe alert (index ``customer_id``)."""
    if alerts.empty:
        return pd.Series(dtype=object, name="severity")
    rank = alerts["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    worst = rank.groupby(alerts["customer_id"]).min()
    return worst.map(dict(enumerate(SEVERITIES))).rename("severity")


def _grade_alerts(
    scored: pd.DataFrame, rules: AlertRules, high_risk_grade: int, language: str
) -> list[pd.DataFrame]:
    hits = grade_rule_hits(scored, rules, high_risk_grade)
    # the grade rules word the move from the grade the customer had settled in
    was = scored["previous_settled_grade"]
    moved = scored.assign(previous_grade=was, grade_change=scored["grade"].astype("Int64") - was)
    chosen = {"DOWNGRADE": rules.downgrade, "ENTER_HIGH_RISK": rules.enter_high_risk}
    chosen["PD_INCREASE"] = rules.pd_increase
    return [
        _alerts((scored if code == "PD_INCREASE" else moved)[hits[code]], rule, code, language)
        for code, rule in chosen.items()
        if rule is not None
    ]


def _account_alerts(
    scored: pd.DataFrame, prev: pd.DataFrame | None, rules: AlertRules, language: str
) -> list[pd.DataFrame]:
    out = []
    if rules.late_45_quarters is not None:
        q = rules.late_45_quarters.quarters
        hit = (scored["late_45_quarters"] >= q) & ~(_before(scored, prev, "late_45_quarters") >= q)
        out.append(_alerts(scored[hit], rules.late_45_quarters, "LATE_45_CONSECUTIVE", language))
    if rules.limit_breach is not None:
        cap = 1 + rules.limit_breach.tolerance
        over = scored["exposure"] > scored["current_limit"] * cap
        before = _before(scored, prev, "exposure") > _before(scored, prev, "current_limit") * cap
        out.append(_alerts(scored[over & ~before], rules.limit_breach, "LIMIT_BREACH", language))
    if rules.new_overdue is not None:
        hit = scored["newly_overdue_amount"] >= max(rules.new_overdue.min_amount, 1e-9)
        rule = rules.new_overdue
        out.append(_alerts(scored[hit], rule, "NEW_OVERDUE", language, days=rule.days))
    return out


def _default_alerts(
    current: pd.DataFrame, prev: pd.DataFrame | None, rules: AlertRules, language: str
) -> pd.DataFrame | None:
    if rules.defaulted is None or prev is None:
        return None
    hit = (current["status"] == IN_DEFAULT) & current["customer_id"].isin(prev.index)
    rows = current[hit].assign(previous_grade=current.loc[hit, "customer_id"].map(prev["grade"]))
    return _alerts(rows, rules.defaulted, "DEFAULTED", language)


def _event_alerts(
    new_events: pd.DataFrame | None, current: pd.DataFrame, rules: AlertRules, language: str
) -> pd.DataFrame | None:
    if new_events is None or new_events.empty:
        return None
    known = new_events[
        new_events["event_type"].isin(list(rules.events))
        & new_events["customer_id"].isin(current.loc[current["status"] == SCORED, "customer_id"])
    ].sort_values(["customer_id", "event_date"], kind="stable")
    if known.empty:
        return None
    words = known["event_type"].map(lambda t: EVENT_WORDS.get(t, {}).get(language, t))
    dates = pd.to_datetime(known["event_date"]).dt.strftime("%Y-%m-%d")
    template = ALERT_TEXT[language]["EVENT"]
    return pd.DataFrame(
        {
            "customer_id": known["customer_id"].to_numpy(),
            "severity": known["event_type"].map(rules.events).to_numpy(),
            "rule": ("EVENT_" + known["event_type"].str.upper()).to_numpy(),
            "message": [
                template.format(event=w, date=d) for w, d in zip(words, dates, strict=True)
            ],
        }
    )


def _alerts(
    rows: pd.DataFrame, rule: _Rule, code: str, language: str, **extra: object
) -> pd.DataFrame:
    template = ALERT_TEXT[language][code]
    messages = [
        template.format(**alert_fields(row, language), **extra) for _, row in rows.iterrows()
    ]
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"].to_numpy(),
            "severity": rule.severity,
            "rule": code,
            "message": messages,
        }
    )


def _before(scored: pd.DataFrame, prev: pd.DataFrame | None, column: str) -> pd.Series:
    if prev is None or column not in prev.columns:
        return pd.Series(np.nan, index=scored.index)
    return scored["customer_id"].map(prev[column]).astype(float)


def _scored(book: pd.DataFrame) -> pd.DataFrame:
    _require(book, ["customer_id", "status", "grade"], "previous book")
    return book[book["status"] == SCORED]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_COLUMNS})


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what} lacks columns {missing}")
