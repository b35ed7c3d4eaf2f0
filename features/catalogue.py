"""The feature catalogue: the one place that names, describes and explains every model feature.

Each entry gives the feature's family, unit, expected risk direction (``+1``: a higher value
means a higher default risk; used as LightGBM monotone constraint), the reason code its SHAP
contribution is grouped under, and the reason sentence shown to a credit analyst, in every
language of ``features.wording.LANGUAGES`` side by side: this table is the one place to
translate. How a template is filled in (value format, trend words, sector median) is in
``features.wording``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from features import wording


@dataclass(frozen=True)
class FeatureSpec:
    """Catalogue entry of one feature.

    Attributes:
        name: Column name in the feature table.
        family: Feature family (late_payment, industry, financials, events, peers, profile).
        description: What the feature measures, point-in-time at the snapshot date.
        unit: Unit of the value (days, share, ratio, times, count, months, index, currency).
        direction: +1 if higher means riskier, -1 if higher means safer, 0 if not constrained.
        reason_code: Short code contributions are grouped under.
        template: English sentence with ``{value}`` for the customer's own value.
        missing_text: English sentence used when the value is missing.
        template_zh: Chinese sentence (empty: the English one is used).
        missing_text_zh: Chinese sentence for a missing value.
        missing_value: What a missing value stands for where absence has one (``inf``: the
            event never happened, infinitely long ago); ``None``: unknown, a gap in the data.
        kind: How the value relates to the calendar (:data:`KINDS`): ``customer`` (the
            customer's own record), ``level`` (a market-wide level whose range follows the
            phase of the cycle: the training stability screen judges it) or ``relative`` (a
            change, or a position against its own history, the sector or the book: it means
            the same in every phase, and moves with the cycle by design).
        categorical: Whether the value is a category (a user's attribute), not a number: its
            sentence shows the category's text.
        levels: A categorical feature's categories as the model codes them (position = code);
            set by the model that learned them (``models.pd_model.PDModel``).
        actionable: What the customer can change, named in each language of
            ``features.wording.LANGUAGES`` (``(en, zh)``), for a "what it would take" sentence
            (``models.counterfactual``); empty: the customer cannot change it (sector, size,
            age, past events) or it follows another feature (:data:`ACTIONABLE`).
        description_zh: The description in Chinese (:data:`DESCRIPTIONS_ZH`); empty: English.
    """

    name: str
    family: str
    description: str
    unit: str
    direction: int
    reason_code: str
    template: str
    missing_text: str = ""
    template_zh: str = ""
    missing_text_zh: str = ""
    missing_value: float | None = None
    kind: str = "customer"
    categorical: bool = False
    levels: tuple[str, ...] = ()
    actionable: tuple[str, ...] = ()
    description_zh: str = ""

    def label(self, language: str = "en") -> str:
        """The description in ``language`` (English where it has none)."""
        return self.description_zh if language == "zh" and self.description_zh else self.description

    def texts(self, language: str = "en") -> tuple[str, str]:
        """Return ``(template, missing_text)`` in ``language`` (:func:`features.wording.texts`)."""
        return wording.texts(self, language)

    def sentence(
        self, value: float | None, language: str = "en", median: float | None = None
    ) -> str:
        """Return the reason sentence for ``value`` (:func:`features.wording.sentence`)."""
        return wording.sentence(self, value, language, median)

    def sentences(
        self, values: np.ndarray, language: str = "en", medians: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the sentence of each of ``values`` (:func:`features.wording.sentences`)."""
        return wording.sentences(self, values, language, medians)

    def quantity(self, value: float, language: str = "en") -> str:
        """Return ``value`` formatted with its unit's word (:func:`features.wording.quantity`)."""
        return wording.quantity(self, value, language)


def _f(
    *args: object,
    en: tuple[str, str],
    zh: tuple[str, str],
    missing_value: float | None = None,
    kind: str = "customer",
) -> FeatureSpec:
    return FeatureSpec(  # type: ignore[arg-type]
        *args, template=en[0], missing_text=en[1], template_zh=zh[0], missing_text_zh=zh[1],
        missing_value=missing_value, kind=kind, actionable=ACTIONABLE.get(str(args[0]), ()),
        description_zh=DESCRIPTIONS_ZH.get(str(args[0]), ""),
    )  # fmt: skip


# What a customer can change by how it pays and runs its business, named (en, zh) for the
# "what it would take" sentences; every other catalogue feature is in FIXED. A peer comparison
# (``features.peers.PEER_FEATURES``) is fixed: it follows its source feature when that changes.
ACTIONABLE: dict[str, tuple[str, str]] = {
    "on_time_rate_3m": ("the on-time payment rate (3 months)", "近 3 个月按时付款率"),
    "on_time_rate_6m": ("the on-time payment rate (6 months)", "近 6 个月按时付款率"),
    "on_time_rate_12m": ("the on-time payment rate (12 months)", "近 12 个月按时付款率"),
    "days_late_wavg_12m": ("average days late (12 months)", "近 12 个月平均逾期天数"),
    "days_late_wavg_3m": ("average days late (3 months)", "近 3 个月平均逾期天数"),
    "days_late_max_12m": ("the longest delay (12 months)", "近 12 个月最长逾期天数"),
    "n_late_30_12m": ("invoices over 30 days late (12 months)", "近 12 个月逾期超过 30 天的发票数"),
    "n_late_45_12m": ("invoices over 45 days late (12 months)", "近 12 个月逾期超过 45 天的发票数"),
    "n_late_60_12m": ("invoices over 60 days late (12 months)", "近 12 个月逾期超过 60 天的发票数"),
    "n_late_90_12m": ("invoices over 90 days late (12 months)", "近 12 个月逾期超过 90 天的发票数"),
    "consecutive_quarters_late_45": (
        "consecutive quarters over 45 days late", "逾期超过 45 天的连续季度数"
    ),
    "days_late_trend_3m": ("the change in days late on the previous quarter", "付款延迟的季度变化"),
    "overdue_share": ("the overdue share of the open balance", "逾期余额占比"),
    "limit_utilisation": ("credit limit utilisation", "信用额度使用率"),
    "days_since_last_payment": ("days since the last payment", "距上次付款天数"),
    "dispute_share_12m": ("the disputed share of invoicing (12 months)", "近 12 个月争议金额占比"),
    "dso_days": ("days sales outstanding", "应收账款周转天数"),
    "debt_ratio": ("the debt ratio", "资产负债率"),
    "current_ratio": ("the current ratio", "流动比率"),
    "cash_ratio": ("the cash ratio", "现金比率"),
    "ocf_to_liabilities": ("operating cash flow to liabilities", "经营现金流与总负债之比"),
    "ebit_margin": ("the operating margin", "营业利润率"),
    "interest_coverage": ("interest coverage", "利息保障倍数"),
    "part_paid_share_12m": (
        "invoices paid only in part (12 months)", "近 12 个月仅部分付款的发票比例"
    ),
    "payment_days_late_3m": ("days late of payments (3 months)", "近 3 个月付款逾期天数"),
    "payment_days_late_12m": ("days late of payments (12 months)", "近 12 个月付款逾期天数"),
}  # fmt: skip
FIXED: frozenset[str] = frozenset({
    "industry_index", "industry_index_chg_3m", "industry_index_chg_12m", "industry_index_z",
    "industry_index_vs_history", "industry_index_pct", "sector_default_rate_12m",
    "sector_default_rate_vs_book", "revenue_growth", "financials_age_months",
    "legal_disputes_12m", "months_since_legal_dispute", "ownership_changes_12m",
    "months_since_ownership_change", "management_changes_12m", "days_late_vs_sector",
    "debt_ratio_vs_sector", "annual_revenue", "relationship_months", "payment_terms_days",
    "plans_agreed_12m", "months_since_plan", "plans_broken_12m",
})  # fmt: skip


# Each feature's description in Chinese (the customer report's indicator names in ``zh``).
DESCRIPTIONS_ZH: dict[str, str] = {
    "on_time_rate_3m": "近 3 个月到期发票的按时付款比例",
    "on_time_rate_6m": "近 6 个月到期发票的按时付款比例",
    "on_time_rate_12m": "近 12 个月到期发票的按时付款比例",
    "days_late_wavg_12m": "近 12 个月到期发票的金额加权逾期天数（未付发票计至当日）",
    "days_late_wavg_3m": "近 3 个月到期发票的金额加权逾期天数（未付发票计至当日）",
    "days_late_max_12m": "近 12 个月到期发票的最长逾期天数",
    "n_late_30_12m": "近 12 个月到期发票中逾期超过 30 天的张数",
    "n_late_45_12m": "近 12 个月到期发票中逾期超过 45 天的张数",
    "n_late_60_12m": "近 12 个月到期发票中逾期超过 60 天的张数",
    "n_late_90_12m": "近 12 个月到期发票中逾期超过 90 天的张数",
    "consecutive_quarters_late_45": "自当日起连续有发票逾期超过 45 天的季度数",
    "days_late_trend_3m": "近 3 个月金额加权逾期天数减去之前 3 个月",
    "overdue_share": "当日未付余额中已逾期的比例",
    "limit_utilisation": "未付余额除以信用额度",
    "days_since_last_payment": "距最近一次收款的天数",
    "dispute_share_12m": "近 12 个月到期发票金额中有争议的比例",
    "dso_days": "应收账款周转天数：未付余额除以近 3 个月开票额，乘以 91 天",
    "industry_index": "客户所在行业最近公布的景气指数",
    "industry_index_chg_3m": "行业指数 3 个月相对变化",
    "industry_index_chg_12m": "行业指数 12 个月相对变化",
    "industry_index_z": "行业指数相对其过去 10 年的标准分",
    "industry_index_vs_history": "行业指数相对其过去 10 年均值",
    "industry_index_pct": "过去 10 年中行业指数低于当前值的比例（0 为最低，1 为最高）",
    "sector_default_rate_12m": "近 12 个月行业客户的违约比例",
    "sector_default_rate_vs_book": "行业近 12 个月违约率与全账簿违约率之比",
    "debt_ratio": "总负债除以总资产（最新可用报表）",
    "current_ratio": "流动资产除以流动负债",
    "cash_ratio": "现金除以流动负债",
    "ocf_to_liabilities": "经营现金流除以总负债",
    "ebit_margin": "息税前利润除以营业收入",
    "interest_coverage": "息税前利润除以利息支出",
    "revenue_growth": "营业收入较上一期报表的增长",
    "financials_age_months": "最新可用报表的期末日距当日的月数",
    "legal_disputes_12m": "近 12 个月记录的法律纠纷次数",
    "months_since_legal_dispute": "距最近一次法律纠纷的月数",
    "ownership_changes_12m": "近 12 个月记录的股权变更次数",
    "months_since_ownership_change": "距最近一次股权变更的月数",
    "management_changes_12m": "近 12 个月记录的管理层变更次数",
    "days_late_vs_sector": "金额加权逾期天数减去同日行业中位数",
    "debt_ratio_vs_sector": "资产负债率减去同日行业中位数",
    "annual_revenue": "客户档案中的年营业收入",
    "relationship_months": "合作关系开始至今的月数",
    "payment_terms_days": "约定付款期限",
    "part_paid_share_12m": "近 12 个月首次付款的发票中首笔仅为部分付款的比例",
    "payment_days_late_3m": "近 3 个月收到的付款的金额加权逾期天数（每笔按其付款日）",
    "payment_days_late_12m": "近 12 个月收到的付款的金额加权逾期天数（每笔按其付款日）",
    "plans_agreed_12m": "近 12 个月就逾期余额达成的还款计划数",
    "months_since_plan": "距最近一次达成还款计划的月数",
    "plans_broken_12m": "近 12 个月已知违约（漏付一期）的还款计划数",
}


_NO_HISTORY = "No invoices due in the period, so no payment history"
_NO_HISTORY_ZH = "期间内没有到期发票，暂无付款记录"
_NO_STATEMENT = "No financial statement available"
_NO_STATEMENT_ZH = "没有可用的财务报表"

CATALOGUE: tuple[FeatureSpec, ...] = (
    # --- late payment ---------------------------------------------------------------------
    _f(
        "on_time_rate_3m",
        "late_payment",
        "Share of invoices due in the last 3 months paid by the due date",
        "share",
        -1,
        "LATE_PAYMENT",
        en=("Only {value:.0%} of invoices due in the last 3 months were paid on time", _NO_HISTORY),
        zh=("近 3 个月到期的发票仅 {value:.0%} 按时付款", _NO_HISTORY_ZH),
    ),
    _f(
        "on_time_rate_6m",
        "late_payment",
        "Share of invoices due in the last 6 months paid by the due date",
        "share",
        -1,
        "LATE_PAYMENT",
        en=("Only {value:.0%} of invoices due in the last 6 months were paid on time", _NO_HISTORY),
        zh=("近 6 个月到期的发票仅 {value:.0%} 按时付款", _NO_HISTORY_ZH),
    ),
    _f(
        "on_time_rate_12m",
        "late_payment",
        "Share of invoices due in the last 12 months paid by the due date",
        "share",
        -1,
        "LATE_PAYMENT",
        en=(
            "Only {value:.0%} of invoices due in the last 12 months were paid on time",
            _NO_HISTORY,
        ),
        zh=("近 12 个月到期的发票仅 {value:.0%} 按时付款", _NO_HISTORY_ZH),
    ),
    _f(
        "days_late_wavg_12m",
        "late_payment",
        "Amount-weighted days past due of invoices due in the last 12 months (open: counted to t)",
        "days",
        1,
        "DAYS_LATE",
        en=(
            "Pays on average {value:.0f} days after the due date (last 12 months, amount-weighted)",
            _NO_HISTORY,
        ),
        zh=("近 12 个月平均逾期 {value:.0f} 天付款（按金额加权）", _NO_HISTORY_ZH),
    ),
    _f(
        "days_late_wavg_3m",
        "late_payment",
        "Amount-weighted days past due of invoices due in the last 3 months (open: counted to t)",
        "days",
        1,
        "DAYS_LATE",
        en=("Invoices due in the last 3 months are {value:.0f} days late on average", _NO_HISTORY),
        zh=("近 3 个月到期的发票平均逾期 {value:.0f} 天", _NO_HISTORY_ZH),
    ),
    _f(
        "days_late_max_12m",
        "late_payment",
        "Largest days past due of an invoice due in the last 12 months",
        "days",
        1,
        "DAYS_LATE",
        en=("An invoice due in the last 12 months was {value:.0f} days late", _NO_HISTORY),
        zh=("近 12 个月有发票逾期 {value:.0f} 天", _NO_HISTORY_ZH),
    ),
    _f(
        "n_late_30_12m",
        "late_payment",
        "Invoices due in the last 12 months paid or still open more than 30 days late",
        "count",
        1,
        "DAYS_LATE",
        en=("{value:.0f} invoices more than 30 days late in the last 12 months", ""),
        zh=(
            "近 12 个月有 {value:.0f} 张发票逾期超过 30 天",
            "近 12 个月逾期超过 30 天的发票数：暂无数据",
        ),
    ),
    _f(
        "n_late_45_12m",
        "late_payment",
        "Invoices due in the last 12 months more than 45 days late",
        "count",
        1,
        "DAYS_LATE",
        en=("{value:.0f} invoices more than 45 days late in the last 12 months", ""),
        zh=(
            "近 12 个月有 {value:.0f} 张发票逾期超过 45 天",
            "近 12 个月逾期超过 45 天的发票数：暂无数据",
        ),
    ),
    _f(
        "n_late_60_12m",
        "late_payment",
        "Invoices due in the last 12 months more than 60 days late",
        "count",
        1,
        "SEVERE_LATE",
        en=("{value:.0f} invoices more than 60 days late in the last 12 months", ""),
        zh=(
            "近 12 个月有 {value:.0f} 张发票逾期超过 60 天",
            "近 12 个月逾期超过 60 天的发票数：暂无数据",
        ),
    ),
    _f(
        "n_late_90_12m",
        "late_payment",
        "Invoices due in the last 12 months more than 90 days late",
        "count",
        1,
        "SEVERE_LATE",
        en=("{value:.0f} invoices more than 90 days late in the last 12 months", ""),
        zh=(
            "近 12 个月有 {value:.0f} 张发票逾期超过 90 天",
            "近 12 个月逾期超过 90 天的发票数：暂无数据",
        ),
    ),
    _f(
        "consecutive_quarters_late_45",
        "late_payment",
        "Consecutive quarters back from t with an invoice more than 45 days late",
        "quarters",
        1,
        "LATE_45_CONSEC",
        en=("Paid more than 45 days late in {value:.0f} consecutive quarters", ""),
        zh=("连续 {value:.0f} 个季度有付款逾期超过 45 天", "逾期超过 45 天的连续季度数：暂无数据"),
    ),
    _f(
        "days_late_trend_3m",
        "late_payment",
        "Amount-weighted days late, last 3 months minus the 3 months before",
        "days",
        1,
        "LATE_TREND",
        en=(
            "Payment delays {trend} {value:.0f} days on the previous quarter",
            "No payment trend: too few invoices due in the last 6 months",
        ),
        zh=(
            "付款延迟较上一季度{trend} {value:.0f} 天",
            "近 6 个月到期的发票太少，无法判断付款趋势",
        ),
    ),
    _f(
        "overdue_share",
        "late_payment",
        "Share of the open balance that is past due at the snapshot date",
        "share",
        1,
        "OVERDUE",
        en=("{value:.0%} of the open balance is past due", ""),
        zh=("未结余额中 {value:.0%} 已逾期", "逾期余额占比：暂无数据"),
    ),
    _f(
        "limit_utilisation",
        "late_payment",
        "Open balance divided by the credit limit",
        "share",
        1,
        "UTILISATION",
        en=("Uses {value:.0%} of its credit limit", ""),
        zh=("已使用信用额度的 {value:.0%}", "信用额度使用率：暂无数据"),
    ),
    _f(
        "days_since_last_payment",
        "late_payment",
        "Days since the latest payment received, at the snapshot date",
        "days",
        1,
        "NO_PAYMENT",
        en=("No payment received for {value:.0f} days", "No payment ever received"),
        zh=("已 {value:.0f} 天未收到付款", "从未收到付款"),
        missing_value=math.inf,
    ),
    _f(
        "dispute_share_12m",
        "late_payment",
        "Share of invoice amount due in the last 12 months that was disputed",
        "share",
        1,
        "DISPUTES",
        en=("{value:.0%} of the invoiced amount of the last 12 months was disputed", _NO_HISTORY),
        zh=("近 12 个月开票金额中 {value:.0%} 存在争议", _NO_HISTORY_ZH),
    ),
    _f(
        "dso_days",
        "late_payment",
        "Days sales outstanding: open balance over the last 3 months' invoicing, times 91 days",
        "days",
        1,
        "DSO",
        en=("Days sales outstanding {value:.0f} days", "No invoicing in the last 3 months"),
        zh=("应收账款周转天数 {value:.0f} 天", "近 3 个月没有开票"),
    ),
    # --- industry cycle -------------------------------------------------------------------
    _f(
        "industry_index",
        "industry",
        "Latest published industry-cycle index of the customer's sector",
        "index",
        -1,
        "SECTOR_CYCLE",
        en=(
            "Sector index at {value:.1f}, a weak point of the cycle",
            "No industry index published for the sector",
        ),
        zh=("行业景气指数为 {value:.1f}，处于周期低位", "该行业未发布景气指数"),
        kind="level",
    ),
    _f(
        "industry_index_chg_3m",
        "industry",
        "Relative change of the sector index over 3 months",
        "share",
        -1,
        "SECTOR_CYCLE",
        en=(
            "Sector index {trend} {value:.1%} in 3 months",
            "No industry index history for the sector",
        ),
        zh=("行业景气指数 3 个月内{trend} {value:.1%}", "该行业没有景气指数历史"),
        kind="relative",
    ),
    _f(
        "industry_index_chg_12m",
        "industry",
        "Relative change of the sector index over 12 months",
        "share",
        -1,
        "SECTOR_CYCLE",
        en=(
            "Sector index {trend} {value:.1%} in 12 months",
            "No industry index history for the sector",
        ),
        zh=("行业景气指数 12 个月内{trend} {value:.1%}", "该行业没有景气指数历史"),
        kind="relative",
    ),
    _f(
        "industry_index_z",
        "industry",
        "Sector index against its own last 10 years (z-score, history known at the date)",
        "z",
        -1,
        "SECTOR_CYCLE",
        en=(
            "Sector index {value:+.1f} standard deviations from its own history",
            "No industry index history for the sector",
        ),
        zh=("行业景气指数偏离自身历史 {value:+.1f} 个标准差", "该行业没有景气指数历史"),
        kind="relative",
    ),
    _f(
        "industry_index_vs_history",
        "industry",
        "Sector index relative to its own mean over the last 10 years (history known at the date)",
        "share",
        -1,
        "SECTOR_CYCLE",
        en=(
            "Sector index {value:.1%} {trend:above|below} its own long-run average",
            "No industry index history for the sector",
        ),
        zh=("行业景气指数{trend:高于|低于}自身长期均值 {value:.1%}", "该行业没有景气指数历史"),
        kind="relative",
    ),
    _f(
        "industry_index_pct",
        "industry",
        "Share of the sector index's last 10 years with a lower value (0: its lowest, 1: highest)",
        "share",
        -1,
        "SECTOR_CYCLE",
        en=(
            "Sector index higher than in only {value:.0%} of the months of its own history",
            "No industry index history for the sector",
        ),
        zh=("行业景气指数仅高于自身历史上 {value:.0%} 的月份", "该行业没有景气指数历史"),
        kind="relative",
    ),
    _f(
        "sector_default_rate_12m",
        "industry",
        "Share of the sector's customers that defaulted in the last 12 months",
        "share",
        1,
        "SECTOR_DEFAULTS",
        en=("{value:.1%} of the sector's customers defaulted in the last 12 months", ""),
        zh=("近 12 个月该行业 {value:.1%} 的客户发生违约", "行业违约率：暂无数据"),
        kind="level",
    ),
    _f(
        "sector_default_rate_vs_book",
        "industry",
        "The sector's default rate of the last 12 months over the whole book's",
        "times",
        1,
        "SECTOR_DEFAULTS",
        en=(
            "The sector's default rate is {value:.1f} times the book's (last 12 months)",
            "No default in the book in the last 12 months to compare the sector with",
        ),
        zh=(
            "近 12 个月该行业违约率为全部客户的 {value:.1f} 倍",
            "近 12 个月全部客户没有违约，无法比较",
        ),
        kind="relative",
    ),
    # --- financial statements -------------------------------------------------------------
    _f(
        "debt_ratio",
        "financials",
        "Total liabilities over total assets, latest statement available",
        "ratio",
        1,
        "LEVERAGE",
        en=("Debt ratio {value:.2f}", _NO_STATEMENT),
        zh=("资产负债率 {value:.2f}", _NO_STATEMENT_ZH),
    ),
    _f(
        "current_ratio",
        "financials",
        "Current assets over current liabilities",
        "ratio",
        -1,
        "LIQUIDITY",
        en=("Current ratio {value:.2f}", _NO_STATEMENT),
        zh=("流动比率 {value:.2f}", _NO_STATEMENT_ZH),
    ),
    _f(
        "cash_ratio",
        "financials",
        "Cash over current liabilities",
        "ratio",
        -1,
        "LIQUIDITY",
        en=("Cash covers {value:.0%} of current liabilities", _NO_STATEMENT),
        zh=("现金可覆盖流动负债的 {value:.0%}", _NO_STATEMENT_ZH),
    ),
    _f(
        "ocf_to_liabilities",
        "financials",
        "Operating cash flow over total liabilities",
        "ratio",
        -1,
        "CASH_FLOW",
        en=("Operating cash flow is {value:.0%} of total liabilities", _NO_STATEMENT),
        zh=("经营现金流为总负债的 {value:.0%}", _NO_STATEMENT_ZH),
    ),
    _f(
        "ebit_margin",
        "financials",
        "EBIT over revenue",
        "ratio",
        -1,
        "PROFITABILITY",
        en=("Operating margin {value:.1%}", _NO_STATEMENT),
        zh=("营业利润率 {value:.1%}", _NO_STATEMENT_ZH),
    ),
    _f(
        "interest_coverage",
        "financials",
        "EBIT over interest expense",
        "times",
        -1,
        "PROFITABILITY",
        en=("EBIT covers interest {value:.1f} times", _NO_STATEMENT),
        zh=("息税前利润为利息支出的 {value:.1f} 倍", _NO_STATEMENT_ZH),
    ),
    _f(
        "revenue_growth",
        "financials",
        "Revenue growth against the previous statement",
        "share",
        -1,
        "REVENUE_DECLINE",
        en=(
            "Revenue {trend} {value:.0%} year on year",
            "No previous statement to compare revenue with",
        ),
        zh=("营业收入同比{trend} {value:.0%}", "没有上一期报表可比较营业收入"),
    ),
    _f(
        "financials_age_months",
        "financials",
        "Months between the latest available statement's period end and the snapshot date",
        "months",
        0,
        "STALE_FINANCIALS",
        en=("Latest financial statement is {value:.0f} months old", _NO_STATEMENT),
        zh=("最新财务报表已有 {value:.0f} 个月", _NO_STATEMENT_ZH),
    ),
    # --- events ---------------------------------------------------------------------------
    _f(
        "legal_disputes_12m",
        "events",
        "Legal disputes recorded in the last 12 months",
        "count",
        1,
        "LEGAL_DISPUTE",
        en=("{value:.0f} legal disputes in the last 12 months", ""),
        zh=("近 12 个月有 {value:.0f} 起法律纠纷", "法律纠纷记录：暂无数据"),
    ),
    _f(
        "months_since_legal_dispute",
        "events",
        "Months since the latest legal dispute",
        "months",
        -1,
        "LEGAL_DISPUTE",
        en=("Legal dispute {value:.0f} months ago", "No legal dispute on record"),
        zh=("{value:.0f} 个月前发生法律纠纷", "没有法律纠纷记录"),
        missing_value=math.inf,
    ),
    _f(
        "ownership_changes_12m",
        "events",
        "Ownership changes recorded in the last 12 months",
        "count",
        1,
        "OWNERSHIP_CHANGE",
        en=("{value:.0f} ownership changes in the last 12 months", ""),
        zh=("近 12 个月股权变更 {value:.0f} 次", "股权变更记录：暂无数据"),
    ),
    _f(
        "months_since_ownership_change",
        "events",
        "Months since the latest ownership change",
        "months",
        -1,
        "OWNERSHIP_CHANGE",
        en=("Ownership changed {value:.0f} months ago", "No ownership change on record"),
        zh=("{value:.0f} 个月前发生股权变更", "没有股权变更记录"),
        missing_value=math.inf,
    ),
    _f(
        "management_changes_12m",
        "events",
        "Management changes recorded in the last 12 months",
        "count",
        1,
        "MANAGEMENT_CHANGE",
        en=("{value:.0f} management changes in the last 12 months", ""),
        zh=("近 12 个月管理层变更 {value:.0f} 次", "管理层变更记录：暂无数据"),
    ),
    # --- partial payments (the payments table) ---------------------------------------------
    _f(
        "part_paid_share_12m",
        "partial_payments",
        "Share of the invoices first paid in the last 12 months whose first payment was a part",
        "share",
        1,
        "PARTIAL_PAYMENTS",
        en=(
            "{value:.0%} of the invoices paid in the last 12 months were paid only in part",
            "No payment received in the last 12 months",
        ),
        zh=("近 12 个月付款的发票中 {value:.0%} 仅部分付款", "近 12 个月没有收到付款"),
    ),
    _f(
        "payment_days_late_3m",
        "partial_payments",
        "Amount-weighted days past due of the payments received in the last 3 months (each part "
        "at its own date)",
        "days",
        1,
        "DAYS_LATE",
        en=(
            "Payments received in the last 3 months came {value:.0f} days after the due date on "
            "average",
            "No payment received in the last 3 months",
        ),
        zh=("近 3 个月收到的付款平均逾期 {value:.0f} 天", "近 3 个月没有收到付款"),
    ),
    _f(
        "payment_days_late_12m",
        "partial_payments",
        "Amount-weighted days past due of the payments received in the last 12 months (each part "
        "at its own date)",
        "days",
        1,
        "DAYS_LATE",
        en=(
            "Payments received in the last 12 months came {value:.0f} days after the due date on "
            "average",
            "No payment received in the last 12 months",
        ),
        zh=("近 12 个月收到的付款平均逾期 {value:.0f} 天", "近 12 个月没有收到付款"),
    ),
    # --- payment plans --------------------------------------------------------------------
    _f(
        "plans_agreed_12m",
        "payment_plans",
        "Payment plans agreed for an overdue balance in the last 12 months",
        "count",
        1,
        "PAYMENT_PLAN",
        en=("Payment plans agreed in the last 12 months: {value:.0f}", ""),
        zh=("近 12 个月达成的还款计划：{value:.0f} 个", "还款计划记录：暂无数据"),
    ),
    _f(
        "months_since_plan",
        "payment_plans",
        "Months since the latest payment plan was agreed",
        "months",
        -1,
        "PAYMENT_PLAN",
        en=("A payment plan was agreed {value:.0f} months ago", "No payment plan on record"),
        zh=("{value:.0f} 个月前达成还款计划", "没有还款计划记录"),
        missing_value=math.inf,
    ),
    _f(
        "plans_broken_12m",
        "payment_plans",
        "Payment plans known broken (an instalment missed) in the last 12 months",
        "count",
        1,
        "BROKEN_PLAN",
        en=("Payment plans broken in the last 12 months: {value:.0f}", ""),
        zh=("近 12 个月违约的还款计划：{value:.0f} 个", "还款计划记录：暂无数据"),
    ),
    # --- peer comparison ------------------------------------------------------------------
    _f(
        "days_late_vs_sector",
        "peers",
        "Amount-weighted days late minus the sector median at the same date",
        "days",
        1,
        "WORSE_THAN_PEERS",
        en=("Pays {value:.0f} days {trend:later|earlier} than the sector median", _NO_HISTORY),
        zh=("付款比行业中位数{trend:晚|早} {value:.0f} 天", _NO_HISTORY_ZH),
        kind="relative",
    ),
    _f(
        "debt_ratio_vs_sector",
        "peers",
        "Debt ratio minus the sector median at the same date",
        "ratio",
        1,
        "LEVERAGE",
        en=("Debt ratio {value:+.2f} above the sector median", _NO_STATEMENT),
        zh=("资产负债率高于行业中位数 {value:+.2f}", _NO_STATEMENT_ZH),
        kind="relative",
    ),
    # --- profile --------------------------------------------------------------------------
    _f(
        "annual_revenue",
        "profile",
        "Annual revenue from the customer book (trees split on ranks, so no log is needed)",
        "currency",
        -1,
        "SMALL_COMPANY",
        en=("Small company: annual revenue {value:,.0f}", "Annual revenue unknown"),
        zh=("小型企业：年营业收入 {value:,.0f}", "年营业收入未知"),
    ),
    _f(
        "relationship_months",
        "profile",
        "Months since the trading relationship started",
        "months",
        -1,
        "NEW_RELATIONSHIP",
        en=("Customer for only {value:.0f} months", ""),
        zh=("合作仅 {value:.0f} 个月", "合作时长：暂无数据"),
    ),
    _f(
        "payment_terms_days",
        "profile",
        "Agreed payment terms",
        "days",
        0,
        "LONG_TERMS",
        en=("Payment terms of {value:.0f} days", ""),
        zh=("付款期限 {value:.0f} 天", "付款期限：暂无数据"),
    ),
)

FEATURES: dict[str, FeatureSpec] = {spec.name: spec for spec in CATALOGUE}
FEATURE_NAMES: list[str] = [spec.name for spec in CATALOGUE]
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(spec.family for spec in CATALOGUE))
KINDS: tuple[str, ...] = ("customer", "level", "relative")


def feature_names(families: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Return the catalogue's feature names, optionally only those of the given families."""
    if families is None:
        return list(FEATURE_NAMES)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown feature families {sorted(unknown)}; known: {list(FAMILIES)}")
    return [spec.name for spec in CATALOGUE if spec.family in families]


ATTRIBUTE_PREFIX = "attr_"


def spec_for(name: str, attributes: Mapping[str, FeatureSpec] | None = None) -> FeatureSpec:
    """The catalogue entry of a feature.

    ``attr_<field>`` columns (supplied attributes) take their entry from ``attributes`` (the
    user's schema, ``features.attributes.attribute_specs``); without one, an unconstrained
    entry of family ``attributes`` with their own reason code.
    """
    if name in FEATURES:
        return FEATURES[name]
    if attributes and name in attributes:
        return attributes[name]
    if not name.startswith(ATTRIBUTE_PREFIX):
        raise KeyError(f"feature {name!r} is not in the catalogue")
    return default_attribute_spec(name)


def default_attribute_spec(name: str, categorical: bool = False) -> FeatureSpec:
    """The entry of an attribute without a schema entry: its name, its value as given.

    A number is shown to 4 significant digits, a category (``categorical``) as it is.
    """
    field = name.removeprefix(ATTRIBUTE_PREFIX)
    value = "{value}" if categorical else "{value:.4g}"
    return FeatureSpec(
        name=name,
        family="attributes",
        description=f"Attribute {field!r} supplied with the data, latest value known at t",
        unit="as supplied",
        direction=0,
        reason_code=f"ATTR_{field.upper()}",
        template=f"{field} is {value}",
        missing_text=f"{field} not available",
        template_zh=f"{field} 为 {value}",
        missing_text_zh=f"{field} 暂无数据",
    )


# The values a feature of each unit can take at all. Beyond them a value is a unit or encoding
# error (1e308 days late, a negative count), which a tree would score as its last bin: scoring
# refuses it (``models.pd_model.PDModel.feature_frame``). The bounds are wide on purpose: no real
# book reaches a trillion days, times or ratio points; amounts allow for any currency.
MAX_MAGNITUDE = 1e12
UNIT_RANGES: dict[str, tuple[float, float]] = {
    "count": (0.0, MAX_MAGNITUDE),
    "quarters": (0.0, MAX_MAGNITUDE),
    "months": (0.0, MAX_MAGNITUDE),
    "index": (0.0, MAX_MAGNITUDE),
    "currency": (-1e15, 1e15),
}


def valid_range(name: str) -> tuple[float, float]:
    """``(lowest, highest)`` value a feature can take (:data:`UNIT_RANGES` of its unit).

    A user's attribute is taken as supplied: any finite number.
    """
    unit = FEATURES[name].unit if name in FEATURES else ""
    return UNIT_RANGES.get(unit, (-MAX_MAGNITUDE, MAX_MAGNITUDE))


def is_model_feature(name: str) -> bool:
    """Whether a snapshot column is a model feature (catalogue or supplied attribute)."""
    return name in FEATURES or name.startswith(ATTRIBUTE_PREFIX)


def monotone_constraints(
    names: list[str], attributes: Mapping[str, FeatureSpec] | None = None
) -> list[int]:
    """Return the expected risk direction of each named feature, for LightGBM.

    ``attributes``: the user's attribute entries (their declared directions); an attribute
    without one is unconstrained.
    """
    missing = [n for n in names if not is_model_feature(n)]
    if missing:
        raise KeyError(f"features not in the catalogue: {missing}")
    return [spec_for(n, attributes).direction for n in names]
