"""The collections worklist and the open-invoice table: columns, ranking, actions, reasons.

Each open invoice of a scored customer gets its expected loss from late or missed payment,
``amount x P(not paid within missed_after_days past due) x LGD`` (the loss if it is missed)
plus ``amount x expected days late x cost_of_capital / 365`` (the cost of waiting), the policy's
action (``collections`` in configs/policy.yaml, most severe rule first), why (the invoice's facts
and the customer's reasons from the scored book) in ``score.language``. Written for people
with ``pipelines.book.export`` (rounded, dates as text, formulas neutralised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.policy import COLLECTION_ACTIONS, CollectionsRules
from pipelines.book.export import for_people

# column -> meaning (README "Collections and cash-in" lists the same)
INVOICES_SCHEMA: dict[str, str] = {
    "invoice_id": "invoice id from the ledger",
    "customer_id": "customer id",
    "name": "customer name",
    "as_of_date": "the month end of the forecast (YYYY-MM-DD)",
    "currency": "the book's currency",
    "amount": "invoice amount (open in full at the as-of date)",
    "issue_date": "issue date",
    "due_date": "due date",
    "days_past_due": "days past the due date at the as-of date (negative: days still to run)",
    "disputed": "the invoice is flagged as disputed (1) or not (0)",
    "p_paid_by_due": "probability it is paid by the due date (0: already past due)",
    "p_paid_within_30dpd": "probability it is paid within 30 days past the due date",
    "p_paid_within_60dpd": "probability it is paid within 60 days past the due date",
    "p_paid_within_90dpd": "probability it is paid within 90 days past the due date",
    "p_never_paid": (
        "probability it is never paid: the customer defaults before paying it (with the PD term "
        "structure: at most the customer's PD within collections.horizon_weeks)"
    ),
    "expected_pay_date": (
        "expected payment date, given that it is paid (empty where p_never_paid is above 0.5)"
    ),
    "early_pay_date": "80 % interval of the payment date given payment: 10th percentile",
    "late_pay_date": "80 % interval of the payment date given payment: 90th percentile",
    "expected_days_late": "expected pay date minus due date, in days (negative: early)",
}
COLLECTIONS_SCHEMA: dict[str, str] = {
    "rank": "1 = the largest expected loss from late or missed payment",
    **{k: INVOICES_SCHEMA[k] for k in ("invoice_id", "customer_id", "name", "as_of_date")},
    "grade": "the customer's master-scale grade (scores.csv)",
    "pd_12m": "the customer's probability of default within 12 months (scores.csv)",
    "pd_terms": "the customer's PD within its payment terms plus grace (empty: no term structure)",
    **{
        k: INVOICES_SCHEMA[k]
        for k in (
            "currency",
            "amount",
            "due_date",
            "days_past_due",
            "disputed",
            "p_paid_by_due",
            "p_paid_within_30dpd",
            "p_never_paid",
            "expected_pay_date",
            "early_pay_date",
            "late_pay_date",
            "expected_days_late",
        )
    },  # fmt: skip
    "p_missed": "probability it is not paid within collections.missed_after_days past due",
    "loss_if_missed": "amount x p_missed x LGD (configs/policy.yaml)",
    "cost_of_delay": (
        "amount x expected days late (at least 0) x (1 - p_never_paid) x "
        "collections.cost_of_capital / 365"
    ),
    "expected_loss": "loss_if_missed + cost_of_delay: what the list is ranked by",
    "action_code": "what to do: " + ", ".join(COLLECTION_ACTIONS),
    "action": "the same in score.language",
    "invoice_reasons": "why: the invoice's facts, in score.language",
    "customer_reasons": "the customer's PD reasons (scores.csv reason_1..), in score.language",
}
DECIMALS = {"amount": 2} | {c: 4 for c in (
    "pd_12m", "pd_terms", "p_paid_by_due", "p_paid_within_30dpd", "p_paid_within_60dpd",
    "p_paid_within_90dpd", "p_never_paid", "p_missed")}  # fmt: skip
WHOLE = ["days_past_due", "disputed", "expected_days_late", "loss_if_missed",
         "cost_of_delay", "expected_loss", "rank", "grade"]  # fmt: skip
PAY_DATES = ("expected_pay_date", "early_pay_date", "late_pay_date", "expected_days_late")
_JOIN = {"en": "; ", "zh": "；"}
_FACTS = {
    "en": {"past_due": "{v:.0f} days past due", "disputed": "disputed",
           "never": "{v:.0%} chance it is never paid (the customer defaults first)",
           "late_30": "{v:.0%} chance of payment more than 30 days late",
           "habit": "the customer paid {v:.0f} days late on average over 12 months",
           "due_soon": "due {v}, {p:.0%} chance of payment by then"},
    "zh": {"past_due": "已逾期 {v:.0f} 天", "disputed": "有争议",
           "never": "{v:.0%} 的可能永不付款（客户先违约）",
           "late_30": "{v:.0%} 的可能逾期超过 30 天付款",
           "habit": "客户近 12 个月平均逾期 {v:.0f} 天付款",
           "due_soon": "{v} 到期，届时付款的可能为 {p:.0%}"},
}  # fmt: skip


def choose_actions(frame: pd.DataFrame, rules: CollectionsRules) -> np.ndarray:
    """The action code of each invoice: the first rule that applies, most severe first.

    ``frame``: ``days_past_due``, ``p_never_paid``, ``p_paid_within_30dpd``, ``p_paid_by_due``,
    ``grade`` and ``overdue_amount`` (the customer's).
    """
    dpd, never = frame["days_past_due"].to_numpy(float), frame["p_never_paid"].to_numpy(float)
    conditions = [
        (dpd >= rules.hand_to_collection_days_past_due)
        | ((dpd > 0) & (never >= rules.hand_to_collection_never_paid)),
        (frame["grade"].to_numpy(float) >= rules.stop_shipments_grade)
        | (never >= rules.stop_shipments_never_paid),
        (dpd >= rules.payment_plan_days_past_due)
        & (frame["overdue_amount"].to_numpy(float) >= rules.payment_plan_overdue),
        (dpd >= rules.call_days_past_due)
        | (1 - frame["p_paid_within_30dpd"].to_numpy(float) >= rules.call_late_30),
        (dpd <= 0)
        & (-dpd <= rules.remind_within_days)
        & (frame["p_paid_by_due"].to_numpy(float) < rules.remind_below),
    ]
    codes = ["hand_to_collection", "stop_shipments", "payment_plan", "call", "remind_before_due"]
    return np.select(conditions, codes, default="no_action")


def invoice_reasons(frame: pd.DataFrame, rules: CollectionsRules, language: str) -> list[str]:
    """Each invoice's facts behind its place on the list, worded in ``language``."""
    words, out = _FACTS[language], []
    for row in frame.itertuples(index=False):
        facts = []
        if row.days_past_due > 0:
            facts.append(words["past_due"].format(v=row.days_past_due))
        elif -row.days_past_due <= rules.remind_within_days:
            due = f"{pd.Timestamp(row.due_date):%Y-%m-%d}"
            facts.append(words["due_soon"].format(v=due, p=row.p_paid_by_due))
        if row.disputed:
            facts.append(words["disputed"])
        if row.p_never_paid >= rules.stop_shipments_never_paid:
            facts.append(words["never"].format(v=row.p_never_paid))
        elif 1 - row.p_paid_within_30dpd >= rules.call_late_30:  # implied by never paid
            facts.append(words["late_30"].format(v=1 - row.p_paid_within_30dpd))
        if row.habit_days_late == row.habit_days_late and row.habit_days_late >= 10:
            facts.append(words["habit"].format(v=row.habit_days_late))
        out.append(_JOIN[language].join(facts))
    return out


def customer_reasons(book: pd.DataFrame, language: str) -> pd.Series:
    """The scored book's reason sentences of each customer, joined, indexed by customer."""
    columns = [c for c in book.columns if c.startswith("reason_") and c[7:].isdigit()]
    text = book[columns].astype("string").fillna("")
    joined = text.apply(lambda r: _JOIN[language].join(v for v in r if v), axis=1)
    return pd.Series(joined.to_numpy(), index=book["customer_id"].to_numpy())


def worklist(
    invoices: pd.DataFrame, book: pd.DataFrame, rules: CollectionsRules, lgd: float,
    language: str,
) -> pd.DataFrame:  # fmt: skip
    """The collections worklist for people, largest expected loss first.

    Args:
        invoices: The open invoices with the model's outputs and ``p_missed``
            (``pipelines.collections``), ``habit_days_late`` among them.
        book: The scored book (``customer_id``, ``status``, ``grade``, ``pd_12m``,
            ``overdue_amount``, ``reason_k``; ``pd_terms`` where the term structure is there).
        rules: The policy's ``collections``.
        lgd: The policy's loss given default.
        language: ``score.language``.
    """
    scored = book[book["status"] == "scored"].set_index("customer_id")
    info = scored[["grade", "pd_12m", "overdue_amount"]].assign(
        pd_terms=scored["pd_terms"] if "pd_terms" in scored else np.nan,
        customer_reasons=customer_reasons(scored.reset_index(), language),
    )
    frame = invoices.join(info, on="customer_id", how="inner")
    amount = frame["amount"].to_numpy(float)
    late = np.clip(np.nan_to_num(frame["expected_days_late"].to_numpy(float)), 0, None)
    frame["loss_if_missed"] = amount * frame["p_missed"].to_numpy(float) * lgd
    frame["cost_of_delay"] = (
        amount * late * (1 - frame["p_never_paid"].to_numpy(float)) * rules.cost_of_capital / 365
    )
    frame["expected_loss"] = frame["loss_if_missed"] + frame["cost_of_delay"]
    frame["action_code"] = choose_actions(frame, rules)
    frame["action"] = [COLLECTION_ACTIONS[c][language] for c in frame["action_code"]]
    frame["invoice_reasons"] = invoice_reasons(frame, rules, language)
    frame = frame.sort_values(["expected_loss", "invoice_id"], ascending=[False, True])
    frame["rank"] = np.arange(1, len(frame) + 1)
    return rounded(frame, list(COLLECTIONS_SCHEMA))


def rounded(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame``'s ``columns`` for people (``export.for_people``), rounded.

    Probabilities to 4 places, amounts to cents, other numbers whole; the pay dates are left
    empty where the invoice is more likely never paid (they are the dates given that it is paid).
    """
    out = for_people(frame, columns)
    for col in out.columns:
        if col in DECIMALS:
            out[col] = out[col].astype(float).round(DECIMALS[col])
        elif pd.api.types.is_float_dtype(out[col]) or col in WHOLE:
            out[col] = np.round(pd.to_numeric(out[col], errors="coerce")).astype("Int64")
    if "p_never_paid" in frame:
        unlikely = frame["p_never_paid"].to_numpy(float) > 0.5
        for col in PAY_DATES:
            if col in out:
                out.loc[unlikely, col] = None
    return out.reset_index(drop=True)
