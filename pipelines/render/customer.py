"""The customer credit report: one self-contained page per customer, and the index of the pages.

Every indicator the pipeline knows about the customer (the catalogue features in the snapshot
table and the user's attributes) with its sector's median, the customer's percentile in its
sector, a 12-month trend drawn inline and its effect on the risk (the sign of its SHAP
contribution against the model's average customer); the grade history, the payment history,
the open invoices by ageing bucket, the events, the reasons, the policy's outcome and the alerts.
Charts are inline SVG: no script, no image file, nothing from another host; printable on A4.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment
from markupsafe import Markup

from features.catalogue import FeatureSpec
from pipelines.render.figures import sparkline
from pipelines.render.jinja import environment
from pipelines.render.portfolio import pct

SEED_INDICATORS = 80  # what the product promises a customer report shows, where data allows
# |SHAP contribution| (log-odds) below which an indicator is shown as neutral
NEUTRAL_LOGODDS = 0.01

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Credit report",
        "index_title": "Customer credit reports",
        "portfolio": "Portfolio report",
        "as_of": "as of",
        "grade": "Grade",
        "pd": "PD 12 months",
        "status_in_default": "in default",
        "status_other": "not scored",
        "customer_id": "Customer id",
        "industry": "Sector",
        "region": "Region",
        "annual_revenue": "Annual revenue",
        "relationship_months": "Customer for",
        "months": "months",
        "account": "Account",
        "exposure": "Exposure (open receivables)",
        "overdue_amount": "Overdue",
        "expected_loss": "Expected loss",
        "purchases_12m": "Purchases, 12 months",
        "current_limit": "Credit limit",
        "current_terms_days": "Payment terms",
        "days": "days",
        "days_past_due": "Days past due, oldest open invoice",
        "disputed_open_amount": "Disputed, open",
        "policy": "Credit policy",
        "recommended_limit": "Recommended limit",
        "recommended_terms_days": "Recommended terms",
        "prepayment_pct": "Prepayment",
        "actions": "Actions",
        "what_it_would_take": "What it would take",
        "pd_curve": "PD within 1 / 3 / 6 / 12 months",
        "pd_terms": "PD within its payment terms and grace",
        "nothing_to_take": "No plausible change of what the customer controls moves it up a grade.",
        "keep_limit": "To keep the current limit of {limit}",
        "no_keep_limit": (
            "No plausible change of one or two things the customer controls reaches the grade "
            "this limit needs."
        ),
        "no_grade_for_limit": "No grade gives a limit of {limit} under the credit policy.",
        "recovery": "Recovery",
        "default_since": "In default since",
        "reasons": "Why this grade",
        "no_reason": "No material adverse factor: nothing in the data raises the risk materially.",
        "alerts": "Alerts",
        "no_alert": "No alert in the last months.",
        "grade_history": "Grade history",
        "month": "Month",
        "payment_history": "Payment history",
        "days_late": "Days late (invoices due in the month, amount-weighted)",
        "days_late_short": "Days late",
        "on_time": "Paid on time",
        "invoices_due": "Invoices due",
        "ageing": "Open invoices by days past due",
        "bucket": "Days past due",
        "invoices": "Invoices",
        "amount": "Amount",
        "share": "Share",
        "no_invoices": "No invoice data for this customer.",
        "indicators": "Indicators",
        "indicator": "Indicator",
        "value": "Value",
        "sector_median": "Sector median",
        "percentile": "Percentile in sector",
        "trend": "12 months",
        "effect": "Effect on risk",
        "raises": "raises",
        "lowers": "lowers",
        "neutral": "neutral",
        "not_in_model": "not in the model",
        "indicator_note": (
            "{shown} indicators from this book's data (the product aims at {seed}; a book with "
            "more tables or attributes shows more). Percentile: share of the sector's customers "
            "with a value at or below this one. Effect: the indicator's contribution against "
            "the model's average customer."
        ),
        "no_indicators": "No indicators at this date: the customer is not scored ({why}).",
        "events": "Events",
        "no_events": "No event on record.",
        "date": "Date",
        "event": "Event",
        "pages_note": (
            "One page per customer in the high-risk grades ({grade}+) and per customer with an "
            "alert this month: {n} pages, riskiest first."
        ),
        "name": "Name",
        "model": "Model version",
    },
    "zh": {
        "title": "客户信用报告",
        "index_title": "客户信用报告目录",
        "portfolio": "组合报告",
        "as_of": "截至",
        "grade": "评级",
        "pd": "12 个月违约概率",
        "status_in_default": "违约中",
        "status_other": "未评分",
        "customer_id": "客户编号",
        "industry": "行业",
        "region": "地区",
        "annual_revenue": "年营业收入",
        "relationship_months": "合作时长",
        "months": "个月",
        "account": "账户",
        "exposure": "敞口（未收应收账款）",
        "overdue_amount": "逾期金额",
        "expected_loss": "预期损失",
        "purchases_12m": "近 12 个月采购额",
        "current_limit": "信用额度",
        "current_terms_days": "付款期限",
        "days": "天",
        "days_past_due": "最早未付发票逾期天数",
        "disputed_open_amount": "争议中未付金额",
        "policy": "信用政策",
        "recommended_limit": "建议额度",
        "recommended_terms_days": "建议付款期限",
        "prepayment_pct": "预付比例",
        "actions": "建议措施",
        "what_it_would_take": "提升评级所需改变",
        "pd_curve": "1 / 3 / 6 / 12 个月内违约概率",
        "pd_terms": "付款期限（含宽限期）内违约概率",
        "nothing_to_take": "客户可控指标在合理范围内的改变都不足以提升一级评级。",
        "keep_limit": "保持现有额度 {limit} 所需改变",
        "no_keep_limit": "客户可控的一两项指标在合理范围内的改变都达不到该额度所需的评级。",
        "no_grade_for_limit": "按信用政策，任何等级的额度都达不到 {limit}。",
        "recovery": "回收措施",
        "default_since": "违约起始日",
        "reasons": "评级原因",
        "no_reason": "没有重大不利因素：数据中没有显著提高风险的指标。",
        "alerts": "预警",
        "no_alert": "最近几个月没有预警。",
        "grade_history": "评级历史",
        "month": "月份",
        "payment_history": "付款记录",
        "days_late": "逾期天数（当月到期发票，按金额加权）",
        "days_late_short": "逾期天数",
        "on_time": "按时付款",
        "invoices_due": "到期发票",
        "ageing": "未付发票账龄（逾期天数）",
        "bucket": "逾期天数",
        "invoices": "发票数",
        "amount": "金额",
        "share": "占比",
        "no_invoices": "该客户没有发票数据。",
        "indicators": "指标",
        "indicator": "指标",
        "value": "数值",
        "sector_median": "行业中位数",
        "percentile": "行业百分位",
        "trend": "12 个月走势",
        "effect": "对风险的影响",
        "raises": "提高",
        "lowers": "降低",
        "neutral": "中性",
        "not_in_model": "未用于模型",
        "indicator_note": (
            "本账簿数据共有 {shown} 项指标（产品目标为 {seed} 项；数据表或属性越多，指标越多）。"
            "百分位：行业内数值不高于该客户的客户占比。影响：相对于模型平均客户的贡献。"
        ),
        "no_indicators": "该日期没有指标：客户未评分（{why}）。",
        "events": "事件",
        "no_events": "没有事件记录。",
        "date": "日期",
        "event": "事件",
        "pages_note": (
            "高风险评级（{grade} 级及以上）和本月有预警的客户各一页：共 {n} 页，风险最高者在前。"
        ),
        "name": "名称",
        "model": "模型版本",
    },
}
FAMILY_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "late_payment": "Payment behaviour",
        "industry": "Industry cycle",
        "financials": "Financial statements",
        "events": "Company events",
        "partial_payments": "Partial payments",
        "payment_plans": "Payment plans",
        "peers": "Against the sector",
        "profile": "Profile",
        "attributes": "Your attributes",
    },
    "zh": {
        "late_payment": "付款行为",
        "industry": "行业景气",
        "financials": "财务报表",
        "events": "企业事件",
        "partial_payments": "部分付款",
        "payment_plans": "还款计划",
        "peers": "与行业比较",
        "profile": "基本情况",
        "attributes": "自定义属性",
    },
}
NEVER = {"en": "never", "zh": "从未"}
BUCKET_WORDS = {"en": {"current": "not yet due"}, "zh": {"current": "未到期"}}


def sector_view(
    rows: pd.DataFrame, specs: Mapping[str, FeatureSpec]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each row's sector median and percentile of the ``specs``' features (one month end's rows).

    A missing value that stands for something (``missing_value``: never happened, infinitely
    long ago) counts as that value.

    Returns:
        ``(medians, percentiles)``, both on ``rows``' index with one column per feature: the
        median of the row's industry (missing values left out) and the share of the
        industry's customers with a value at or below the row's (NaN: the row's value is
        missing, or the whole industry shares one value, as a sector index does).
    """
    values = rows[list(specs)].apply(pd.to_numeric, errors="coerce")
    values = values.fillna(
        {n: s.missing_value for n, s in specs.items() if s.missing_value is not None}
    )
    groups = values.groupby(rows["industry"].astype(str), sort=False)
    medians = groups.transform("median")
    ranks = groups.rank(method="max")
    counts = groups.transform("count")
    # one value for the whole sector (the sector's own index): no rank among its customers
    spread = groups.transform("nunique") > 1
    return medians, (ranks / counts).where(spread)


def bars(values: Sequence[float], width: int = 300, height: int = 46) -> Markup:
    """An inline SVG bar chart of ``values`` (NaN: no bar), scaled to the largest."""
    y = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    top = float(y.max()) if len(y) and y.max() > 0 else 1.0
    step = width / max(len(y), 1)
    rects = "".join(
        f'<rect x="{i * step + 1:.1f}" y="{height - v / top * (height - 2):.1f}" '
        f'width="{step - 2:.1f}" height="{v / top * (height - 2):.1f}" fill="#f59e0b"/>'
        for i, v in enumerate(y)
    )
    return Markup(
        f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-hidden="true">{rects}</svg>'
    )


def indicator_groups(
    current: pd.Series,
    medians: pd.Series,
    percentiles: pd.Series,
    trend: pd.DataFrame,
    effects: Mapping[str, float],
    specs: Mapping[str, FeatureSpec],
    language: str,
) -> list[dict[str, Any]]:
    """The indicators of one customer, grouped by family in the catalogue's order.

    Args:
        current: The customer's snapshot row at the as-of date.
        medians: Its sector's median of each indicator.
        percentiles: Its percentile in the sector of each indicator.
        trend: Its snapshot rows of the last 12 month ends (oldest first), one column each.
        effects: Each model feature's SHAP contribution (log-odds) for this customer; a
            feature not in it is not in the model.
        specs: The catalogue entry of each indicator, in display order.
        language: ``en`` or ``zh``.
    """
    words, families = WORDS[language], FAMILY_WORDS[language]
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, spec in specs.items():
        value = current.get(name)
        effect = effects.get(name)
        if effect is None:
            sign = "none"
        elif abs(effect) < NEUTRAL_LOGODDS:
            sign = "neutral"
        else:
            sign = "raises" if effect > 0 else "lowers"
        series = trend[name] if name in trend else pd.Series(dtype=float)
        groups.setdefault(spec.family, []).append(
            {
                "name": name,
                "label": spec.label(language),
                "value": _shown(spec, value, language),
                "median": _shown(spec, medians.get(name), language),
                "percentile": None
                if math.isnan(p := _number(percentiles.get(name)))
                else round(100 * p),
                "trend": sparkline(
                    pd.to_numeric(series, errors="coerce").to_numpy(dtype=float), 72, 16, 0
                ),
                "effect": sign,
                "effect_text": words["not_in_model"] if sign == "none" else words[sign],
            }
        )
    return [
        {"family": family, "title": families.get(family, family), "rows": rows}
        for family, rows in groups.items()
    ]


def render(template: str, context: dict[str, Any]) -> str:
    """Render ``template`` (``customer.html.j2`` or ``customers_index.html.j2``), escaped."""
    return _environment().get_template(template).render(**context)


@functools.cache
def _environment() -> Environment:
    return environment(money=money, pct=pct, whole=whole)


def money(value: object, currency: str = "") -> str:
    """An amount in whole units with thousands separators and the currency code; n/a: missing."""
    number = _number(value)
    if math.isnan(number):
        return "n/a"
    return f"{number:,.0f}" + (f" {currency}" if currency else "")


def whole(value: object) -> str:
    """A whole number; n/a: missing."""
    number = _number(value)
    return "n/a" if math.isnan(number) else f"{number:,.0f}"


def _shown(spec: FeatureSpec, value: object, language: str) -> str:
    if spec.categorical and isinstance(value, str):
        return value
    number = _number(value)
    if spec.missing_value == math.inf and (math.isnan(number) or _is_inf(value)):
        return NEVER[language]  # a missing value stands for "never happened"
    if math.isnan(number):
        return "n/a"
    value = number
    if spec.categorical and spec.levels and 0 <= int(value) < len(spec.levels):
        return spec.levels[int(value)]
    try:
        return spec.quantity(value, language)
    except (ValueError, TypeError):
        return f"{value:.4g}"


def _is_inf(value: object) -> bool:
    try:
        return math.isinf(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan
