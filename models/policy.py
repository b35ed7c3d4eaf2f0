"""Credit policy: what to do about each scored customer (limit, terms, prepayment, actions).

The policy is the risk team's (``configs/policy.yaml``); :class:`CreditPolicy` is its contract
and :func:`apply_policy` applies it to a scored book:

* payment terms: the agreed terms, capped by the grade's maximum, by the small-account cap
  (annual purchases below a threshold) and, for a deteriorating customer whose actions include
  shortening, by ``shortened_terms_days``;
* credit limit: monthly purchases (invoicing of the last 12 months, per month of relationship)
  times the recommended terms in months plus a buffer, at most a share of annual revenue,
  scaled by the grade's factor (lower as the PD rises) and rounded down; with a ``limit_grade``
  (the score stage passes the better of this month's and last month's grade) the grade's
  factor and terms are that grade's, so that a worse grade cuts the limit only once it holds;
* prepayment: the grade's share, or the long-terms share for risky grades on long terms;
* actions: the grade's, those for the most severe alert (deterioration), and those the
  numbers imply (shorter terms, a limit lower by more than ``limit.reduce_tolerance``,
  prepayment); most severe first;
* expected loss: PD x LGD x exposure (open receivables).

:func:`apply_recovery` does the same for the customers in default, which stay in the book's
exposure: the recovery actions of what triggered the default (``recovery`` in the policy), the
days in default, and the expected loss at PD 1 (LGD x exposure).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.labels import TRIGGERS
from models.alert_text import word_trigger
from models.monitoring import AlertRules, Severity

# action code -> wording per language, in rising severity
ACTIONS: dict[str, dict[str, str]] = {
    "start_collection_early": {"en": "start collection early", "zh": "提前催收"},
    "require_prepayment": {"en": "require prepayment", "zh": "要求预付款"},
    "reduce_limit": {"en": "reduce the credit limit", "zh": "降低信用额度"},
    "shorten_terms": {"en": "shorten payment terms", "zh": "缩短付款期限"},
    "require_guarantee_or_insurance": {
        "en": "require a guarantee or credit insurance",
        "zh": "要求担保或信用保险",
    },
    "pause_unshipped_orders": {"en": "pause unshipped orders", "zh": "暂停未发货订单"},
}
# recovery action code -> wording per language: what to do about a customer in default
RECOVERY_ACTIONS: dict[str, dict[str, str]] = {
    "stop_shipments": {"en": "stop all shipments", "zh": "停止一切发货"},
    "hand_to_collection": {"en": "hand the receivables to collection", "zh": "将应收账款移交催收"},
    "lodge_insolvency_claim": {
        "en": "lodge the claim with the insolvency administrator",
        "zh": "向破产管理人申报债权",
    },
    "file_insurance_claim": {
        "en": "file a claim with the credit insurer",
        "zh": "向信用保险公司提出索赔",
    },
}
# collections action code -> wording per language: what to do about one open invoice, in rising
# severity (pipelines/book/collections_worklist.py chooses one per invoice)
COLLECTION_ACTIONS: dict[str, dict[str, str]] = {
    "no_action": {"en": "no action: expected to be paid on time", "zh": "无需行动：预计按时付款"},
    "remind_before_due": {"en": "remind before the due date", "zh": "到期前提醒"},
    "call": {"en": "call the customer", "zh": "致电客户"},
    "payment_plan": {"en": "agree a payment plan", "zh": "商定还款计划"},
    "stop_shipments": {"en": "stop shipments until paid", "zh": "付款前停止发货"},
    "hand_to_collection": {"en": "hand to collection", "zh": "移交催收"},
}
RECOVERY_COLUMNS = [
    "days_in_default",
    "default_trigger_text",
    "recovery_action_codes",
    "recovery_actions",
    "expected_loss",
]
POLICY_COLUMNS = [
    "recommended_limit",
    "recommended_terms_days",
    "prepayment_pct",
    "action_codes",
    "actions",
    "expected_loss",
]
_DERIVED = ("shorten_terms", "reduce_limit", "require_prepayment")
# actions on a trade ledger: a book without one (a loan book, a list of companies) gets none
LEDGER_ACTIONS = ("start_collection_early", "pause_unshipped_orders", "require_prepayment")
_SEPARATOR = {"en": "; ", "zh": "；"}
_NEEDED = [
    "grade", "pd_12m", "exposure", "purchases_12m", "relationship_months", "annual_revenue",
    "current_limit", "current_terms_days",
]  # fmt: skip
_RECOVERY_NEEDED = ["as_of_date", "default_date", "default_trigger", "exposure"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GradeTerms(_Part):
    """What one master-scale grade allows."""

    grade: int = Field(ge=1)
    max_terms_days: int = Field(ge=0)
    limit_factor: float = Field(ge=0)
    prepayment_pct: float = Field(0.0, ge=0, le=100)
    actions: tuple[str, ...] = ()


class SmallAccount(_Part):
    """Accounts buying less than ``annual_purchases_below`` a year get short terms."""

    annual_purchases_below: float = Field(ge=0)
    max_terms_days: int = Field(ge=0)


class LongTerms(_Part):
    """Grades from ``from_grade`` on terms above ``above_days`` prepay ``prepayment_pct``."""

    from_grade: int = Field(ge=1)
    above_days: int = Field(ge=0)
    prepayment_pct: float = Field(ge=0, le=100)


class LimitRule(_Part):
    """Recommended limit = monthly purchases x (terms / 30 + buffer), capped, scaled, rounded."""

    buffer_months: float = Field(1.5, ge=0)
    max_revenue_share: float = Field(0.1, gt=0)
    round_to: float = Field(1000.0, gt=0)
    reduce_tolerance: float = Field(0.1, ge=0, lt=1)  # "reduce_limit" below (1 - this) x current


class Recovery(_Part):
    """What to do about a customer in default, in order: ``actions``, or its trigger's."""

    actions: tuple[str, ...] = ("stop_shipments", "hand_to_collection", "file_insurance_claim")
    by_trigger: dict[str, tuple[str, ...]] = {}

    @model_validator(mode="after")
    def _known(self) -> Recovery:
        named = [*self.actions, *(a for acts in self.by_trigger.values() for a in acts)]
        unknown = sorted(set(named) - set(RECOVERY_ACTIONS))
        if unknown:
            raise ValueError(f"unknown recovery actions {unknown}; known: {list(RECOVERY_ACTIONS)}")
        triggers = sorted(set(self.by_trigger) - set(TRIGGERS))
        if triggers:
            raise ValueError(f"unknown default triggers {triggers}; known: {list(TRIGGERS)}")
        return self

    def for_trigger(self, trigger: str) -> tuple[str, ...]:
        """The actions for a default with ``trigger``."""
        return self.by_trigger.get(trigger, self.actions)


class CollectionsRules(_Part):
    """The collections worklist's loss terms and action thresholds (``collections``, README)."""

    missed_after_days: int = Field(90, ge=0)  # not paid within this many days past due: missed
    cost_of_capital: float = Field(0.08, ge=0, le=1)  # a year, for the cost of waiting
    remind_within_days: int = Field(14, ge=0)
    remind_below: float = Field(0.8, ge=0, le=1)
    call_days_past_due: int = Field(7, ge=0)
    call_late_30: float = Field(0.5, ge=0, le=1)
    payment_plan_overdue: float = Field(20000.0, ge=0)
    payment_plan_days_past_due: int = Field(30, ge=0)
    stop_shipments_grade: int = Field(9, ge=1)
    stop_shipments_never_paid: float = Field(0.2, ge=0, le=1)
    hand_to_collection_days_past_due: int = Field(60, ge=0)
    hand_to_collection_never_paid: float = Field(0.5, ge=0, le=1)


class CreditPolicy(_Part):
    """The credit policy (``configs/policy.yaml``)."""

    lgd: float = Field(gt=0, le=1)
    high_risk_grade: int = Field(ge=1)
    grades: tuple[GradeTerms, ...]
    small_account: SmallAccount
    long_terms: LongTerms
    limit: LimitRule = LimitRule()
    shortened_terms_days: int = Field(30, ge=0)
    deterioration: dict[Severity, tuple[str, ...]] = {}
    alerts: AlertRules = AlertRules()
    recovery: Recovery = Recovery()
    collections: CollectionsRules = CollectionsRules()

    @model_validator(mode="after")
    def _consistent(self) -> CreditPolicy:
        numbers = [g.grade for g in self.grades]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"grades must be 1, 2, ... in order, found {numbers}")
        if not 1 <= self.high_risk_grade <= len(numbers):
            raise ValueError(f"high_risk_grade {self.high_risk_grade} is not one of the grades")
        named = [a for g in self.grades for a in g.actions]
        named += [a for acts in self.deterioration.values() for a in acts]
        unknown = sorted(set(named) - set(ACTIONS))
        if unknown:
            raise ValueError(f"unknown actions {unknown}; known: {list(ACTIONS)}")
        return self

    def grade_table(self) -> pd.DataFrame:
        """The grades as a frame indexed by grade."""
        return pd.DataFrame([g.model_dump() for g in self.grades]).set_index("grade")


def apply_policy(
    book: pd.DataFrame,
    policy: CreditPolicy,
    severity: pd.Series | None = None,
    language: str = "en",
    limit_grade: pd.Series | None = None,
) -> pd.DataFrame:
    """Return the policy columns (:data:`POLICY_COLUMNS`) for each row of a scored ``book``.

    Args:
        book: Scored customers: ``grade``, ``pd_12m``, ``exposure``, ``purchases_12m``,
            ``relationship_months``, ``annual_revenue``, ``current_limit``,
            ``current_terms_days`` (missing revenue: no revenue cap).
        policy: The credit policy; it must cover every grade of ``book``.
        severity: Each customer's most severe alert, aligned to ``book`` (missing: none).
        language: Language of ``actions`` (``action_codes`` are the stable codes).
        limit_grade: The grade whose limit factor and terms set the recommended limit (and so
            ``reduce_limit``), aligned to ``book`` (missing: the book's grade).

    Returns:
        Frame aligned to ``book``.
    """
    missing = [c for c in _NEEDED if c not in book.columns]
    if missing:
        raise KeyError(f"book lacks columns {missing}")
    table = policy.grade_table()
    named = book["grade"] if limit_grade is None else pd.concat([book["grade"], limit_grade])
    unknown = sorted(set(named.dropna().astype(int)) - set(table.index))
    if unknown:
        raise ValueError(f"grades {unknown} are not in the policy (grades 1..{len(table)})")
    severity = pd.Series(pd.NA, index=book.index) if severity is None else severity
    rules = table.loc[book["grade"].astype(int)].set_index(book.index)
    extra = severity.map(lambda s: policy.deterioration.get(s, ()) if isinstance(s, str) else ())
    terms = recommended_terms(book, rules, policy, extra)
    held = book["grade"] if limit_grade is None else limit_grade.fillna(book["grade"])
    held_rules = table.loc[held.astype(int)].set_index(book.index)
    limit = recommended_limit(
        book, held_rules, policy, recommended_terms(book, held_rules, policy, extra)
    )
    risky = (book["grade"] >= policy.long_terms.from_grade) & (terms > policy.long_terms.above_days)
    prepay = np.maximum(
        rules["prepayment_pct"], np.where(risky, policy.long_terms.prepayment_pct, 0)
    )
    # nothing is recommended against what the book does not hold: no terms agreed, no terms
    # to shorten; no ledger, no orders to pause, invoices to collect or prepay
    terms = terms.where(book["current_terms_days"].notna())
    ledger = book["purchases_12m"].notna().to_numpy()
    prepay = np.where(ledger, prepay, np.nan)
    codes = [
        _actions(grade_acts, more, shorter, lower, pay > 0, has_ledger)
        for grade_acts, more, shorter, lower, pay, has_ledger in zip(
            rules["actions"], extra, terms < book["current_terms_days"].astype(float),
            limit < book["current_limit"].astype(float) * (1 - policy.limit.reduce_tolerance),
            prepay, ledger,
            strict=True,
        )
    ]  # fmt: skip
    return pd.DataFrame(
        {
            "recommended_limit": limit,
            "recommended_terms_days": terms.round().astype("Int64"),
            "prepayment_pct": prepay.astype(float),
            "action_codes": ["; ".join(c) for c in codes],
            "actions": [_SEPARATOR[language].join(ACTIONS[a][language] for a in c) for c in codes],
            "expected_loss": book["pd_12m"] * policy.lgd * book["exposure"],
        },
        index=book.index,
    )


def held_grade(grade: pd.Series, previous_grade: pd.Series) -> pd.Series:
    """The grade a limit follows: the better of this month's and last month's (missing: none).

    A worse grade cuts the limit once it has held two months, not on a one-month step.
    """
    return pd.concat([grade, previous_grade], axis=1).astype(float).min(axis=1)


def apply_recovery(book: pd.DataFrame, policy: CreditPolicy, language: str = "en") -> pd.DataFrame:
    """Return the recovery columns (:data:`RECOVERY_COLUMNS`) for each customer in default.

    Args:
        book: Customers in default: ``as_of_date``, ``default_date``, ``default_trigger`` and
            ``exposure`` (open receivables; missing where there is no ledger).
        policy: The credit policy (its ``lgd`` and ``recovery`` actions).
        language: Language of ``default_trigger_text`` and ``recovery_actions`` (the codes are
            stable).

    Returns:
        Frame aligned to ``book``: ``days_in_default`` (as-of date minus default date),
        ``default_trigger_text``, ``recovery_action_codes`` and ``recovery_actions`` (in the
        policy's order, ``"; "``-separated codes), ``expected_loss`` (PD 1: LGD x exposure).
    """
    missing = [c for c in _RECOVERY_NEEDED if c not in book.columns]
    if missing:
        raise KeyError(f"book lacks columns {missing}")
    if language not in _SEPARATOR:
        raise ValueError(f"unknown language {language!r}; known: {list(_SEPARATOR)}")
    codes = [policy.recovery.for_trigger(t) for t in book["default_trigger"]]
    days = pd.to_datetime(book["as_of_date"]) - pd.to_datetime(book["default_date"])
    words = _SEPARATOR[language]
    return pd.DataFrame(
        {
            "days_in_default": days.dt.days.astype("Int64"),
            "default_trigger_text": [word_trigger(t, language) for t in book["default_trigger"]],
            "recovery_action_codes": ["; ".join(c) for c in codes],
            "recovery_actions": [
                words.join(RECOVERY_ACTIONS[a][language] for a in c) for c in codes
            ],
            "expected_loss": policy.lgd * book["exposure"].astype(float),
        },
        index=book.index,
    )


def recommended_terms(
    book: pd.DataFrame, rules: pd.DataFrame, policy: CreditPolicy, extra: pd.Series
) -> pd.Series:
    """Agreed terms capped by the grade, the small-account rule and deterioration."""
    small = annual_purchases(book) < policy.small_account.annual_purchases_below
    caps = [
        book["current_terms_days"].astype(float),
        rules["max_terms_days"].astype(float),
        pd.Series(np.where(small, policy.small_account.max_terms_days, np.inf), index=book.index),
        extra.map(lambda a: policy.shortened_terms_days if "shorten_terms" in a else np.inf),
    ]
    return pd.concat(caps, axis=1).min(axis=1)


def recommended_limit(
    book: pd.DataFrame, rules: pd.DataFrame, policy: CreditPolicy, terms: pd.Series
) -> pd.Series:
    """Monthly purchases x (terms in months + buffer), capped by revenue, scaled, rounded down."""
    rule = policy.limit
    base = annual_purchases(book) / 12 * (terms / 30 + rule.buffer_months)
    cap = (book["annual_revenue"] * rule.max_revenue_share).fillna(np.inf)
    scaled = np.minimum(base, cap) * rules["limit_factor"]
    return (np.floor(scaled / rule.round_to) * rule.round_to).astype(float)


def annual_purchases(book: pd.DataFrame) -> pd.Series:
    """Purchases of the last 12 months, annualised for relationships younger than a year."""
    months = book["relationship_months"].fillna(12).clip(lower=1, upper=12)
    return book["purchases_12m"] * 12 / months


def _actions(
    grade_actions: tuple[str, ...],
    deterioration: tuple[str, ...],
    shorter: bool,
    lower: bool,
    prepay: bool,
    ledger: bool = True,
) -> list[str]:
    implied = dict(zip(_DERIVED, (shorter, lower, prepay), strict=True))
    chosen = {a for a in (*grade_actions, *deterioration) if a not in _DERIVED}
    chosen |= {a for a, on in implied.items() if on}
    if not ledger:
        chosen -= set(LEDGER_ACTIONS)
    return sorted(chosen, key=list(ACTIONS).index, reverse=True)
