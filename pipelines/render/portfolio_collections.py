"""The portfolio report's "Collections and cash-in" section: the collections stage's figures.

From ``data/reports/payment_timing.json`` (the weekly cash-in forecast, DSO now and ahead, the
worklist by action, the out-of-time evaluation against the anchors and the cash back-test) and
the top of ``data/scored/collections.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from models.policy import COLLECTION_ACTIONS
from pipelines.render import figures

# (words key, evaluation path within model/anchor figures)
METRICS = (
    ("m_auc_by_due", ("paid_by_due", "auc")),
    ("m_ece_by_due", ("paid_by_due", "ece")),
    ("m_auc_late_30", ("late_over_30", "auc")),
    ("m_ece_late_30", ("late_over_30", "ece")),
    ("m_mae", ("pay_date_mae_days",)),
    ("m_coverage", ("interval_80_coverage",)),
    ("m_bucket", ("bucket_accuracy",)),
    ("m_concordance", ("concordance",)),
)
# the evaluation's columns: payment_timing.json's keys (an absent one: an empty column)
PREDICTORS = ("model", "anchor_customer_habit", "anchor_ageing_buckets", "oracle")


def collections_context(
    report: dict[str, Any], worklist: pd.DataFrame, top: int,
    linked: Callable[[pd.DataFrame], list[dict[str, Any]]], language: str,
    missed_after_days: int,
) -> dict[str, Any] | None:  # fmt: skip
    """What the section shows; ``None`` where the stage forecast nothing (it says why).

    Args:
        report: ``data/reports/payment_timing.json``.
        worklist: ``data/scored/collections.csv``, ranked.
        top: Worklist rows shown.
        linked: Adds each row's customer-page link.
        language: The report's.
        missed_after_days: The policy's ``collections.missed_after_days`` (the ranking's N).
    """
    if report.get("skipped") or "forecast" not in report:
        return None
    weeks = report["forecast"]["weeks"]
    dso = report.get("dso", [])
    return {
        "weeks": weeks,
        "expected": sum(w["expected"] for w in weeks),
        "low": sum(w["low"] for w in weeks),
        "high": sum(w["high"] for w in weeks),
        "chart": figures.data_uri(
            figures.cash_chart(
                [w["expected"] for w in weeks],
                [w["low"] for w in weeks],
                [w["high"] for w in weeks],
            )
        ),  # fmt: skip
        "open_amount": report.get("worklist", {}).get("amount"),
        "dso": dso,
        "by_action": by_action(report.get("worklist", {}).get("by_action", {})),
        "total": report.get("worklist", {}).get("invoices", 0),
        "top": linked(_blank_missing(short_reasons(by_customer(worklist, top), language))),
        "evaluation": evaluation_rows(report),
        "has_oracle": "oracle" in report.get("evaluation", {}),
        "setup": report.get("evaluation", {}),
        "backtest": report.get("cash_backtest", {}),
        "action_words": {code: words[language] for code, words in COLLECTION_ACTIONS.items()},
        "missed_after_days": missed_after_days,
        "horizon_weeks": report.get("evaluation", {}).get("horizon_weeks"),
    }


def by_action(counts: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """The worklist's invoices, amount and expected loss per action, most severe first."""
    order = [a for a in reversed(COLLECTION_ACTIONS) if a in counts]
    return [{"action": a, **counts[a]} for a in order]


def evaluation_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measure: the figure of the model and of each anchor (``None``: not there)."""
    evaluation = report.get("evaluation", {})
    if "model" not in evaluation:
        return []
    rows = []
    for key, path in METRICS:
        values = [_get(evaluation.get(name, {}), path) for name in PREDICTORS]
        rows.append({"key": key, "values": values, "money": False})
    wape = report.get("cash_backtest", {}).get("wape")
    if wape:
        rows.append({"key": "m_wape", "values": [wape.get(name) for name in PREDICTORS],
                     "money": False})  # fmt: skip
        coverage = report["cash_backtest"].get("coverage_80")
        rows.append({"key": "m_cash_coverage", "values": [coverage] + [None] * 3,
                     "money": False})  # fmt: skip
    return rows


def by_customer(worklist: pd.DataFrame, top: int) -> pd.DataFrame:
    """The worklist's first ``top`` customers, one line each, by their total expected loss.

    Each line is the customer's first invoice on the list (its action, reasons, pay dates) with
    ``invoices`` (how many of its invoices are on the list), ``amount`` and ``expected_loss``
    (their totals) and ``days_past_due`` (the oldest); ``rank`` 1..``top``.
    """
    ranked = worklist.sort_values("rank")
    totals = ranked.groupby("customer_id").agg(
        invoices=("invoice_id", "size"), amount=("amount", "sum"),
        expected_loss=("expected_loss", "sum"), days_past_due=("days_past_due", "max"),
    )  # fmt: skip
    first = ranked.groupby("customer_id", sort=False).head(1).drop(columns=list(totals.columns),
                                                                   errors="ignore")  # fmt: skip
    lines = first.join(totals, on="customer_id")
    lines = lines.sort_values(["expected_loss", "rank"], ascending=[False, True]).head(top)
    return lines.assign(rank=range(1, len(lines) + 1)).reset_index(drop=True)


def short_reasons(rows: pd.DataFrame, language: str, facts: int = 2) -> pd.DataFrame:
    """``rows`` with ``invoice_reasons`` cut to its first ``facts`` facts (the CSV has all)."""
    sep = "；" if language == "zh" else "; "
    cut = rows["invoice_reasons"].fillna("").str.split(sep, regex=False).str[:facts]
    return rows.assign(invoice_reasons=cut.str.join(sep))


def _blank_missing(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with every missing cell ``None`` (an empty pay date shows as nothing)."""
    return rows.astype(object).where(rows.notna(), None)


def _get(figures_: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = figures_
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
