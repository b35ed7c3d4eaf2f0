"""The words of the alerts: message templates in English and Chinese, event and trigger names.

``models.monitoring`` decides which alerts fire; this module says them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALERT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "DOWNGRADE": "Downgraded {notches} grades, from {previous_grade} to {grade} "
        "(PD {previous_pd:.2%} to {pd:.2%})",
        "ENTER_HIGH_RISK": "Entered the high-risk grades: grade {grade}, was {previous_grade}",
        "PD_INCREASE": "PD up {points:.1f} points to {pd:.2%}",
        "LATE_45_CONSECUTIVE": "Paid more than 45 days late in {quarters:.0f} consecutive quarters",
        "LIMIT_BREACH": "Open receivables {exposure:,.0f} exceed the credit limit {limit:,.0f} "
        "({use:.0%} used)",
        "NEW_OVERDUE": "{amount:,.0f} newly more than {days} days past due",
        "DEFAULTED": "In default since {date} ({trigger}); was grade {previous_grade}",
        "EVENT": "New {event} on {date}",
        "new": "new",
    },
    "zh": {
        "DOWNGRADE": "评级下调 {notches} 级：由 {previous_grade} 级降至 {grade} 级"
        "（违约概率 {previous_pd:.2%} → {pd:.2%}）",
        "ENTER_HIGH_RISK": "进入高风险等级：当前 {grade} 级，上期 {previous_grade} 级",
        "PD_INCREASE": "违约概率上升 {points:.1f} 个百分点至 {pd:.2%}",
        "LATE_45_CONSECUTIVE": "连续 {quarters:.0f} 个季度付款逾期超过 45 天",
        "LIMIT_BREACH": "应收账款余额 {exposure:,.0f} 超过信用额度 {limit:,.0f}（已用 {use:.0%}）",
        "NEW_OVERDUE": "新增逾期超过 {days} 天的金额 {amount:,.0f}",
        "DEFAULTED": "已于 {date} 违约（{trigger}），上期 {previous_grade} 级",
        "EVENT": "新增{event}（{date}）",
        "new": "新客户",
    },
}
EVENT_WORDS = {
    "legal_dispute": {"en": "legal dispute", "zh": "法律纠纷"},
    "ownership_change": {"en": "ownership change", "zh": "股权变更"},
    "management_change": {"en": "management change", "zh": "管理层变更"},
    "rating_downgrade": {"en": "rating downgrade", "zh": "评级下调"},
    "payment_incident": {"en": "payment incident", "zh": "付款事故"},
    "insolvency_filing": {"en": "insolvency filing", "zh": "破产申请"},
}
TRIGGER_WORDS = {
    "days_past_due": {"en": "90+ days past due", "zh": "逾期 90 天以上"},
    "insolvency_filing": {"en": "insolvency filing", "zh": "破产申请"},
    "defaults_table": {"en": "reported default", "zh": "外部报告违约"},
}


def alert_fields(row: pd.Series, language: str) -> dict[str, object]:
    """The values an alert message quotes, from one row of a compared book."""
    was = row.get("previous_grade")
    limit = row.get("current_limit", np.nan)
    trigger = row.get("default_trigger", "")
    date = row.get("default_date")
    return {
        "grade": row.get("grade"),
        "previous_grade": ALERT_TEXT[language]["new"] if pd.isna(was) else int(was),
        "notches": row.get("grade_change"),
        "pd": row.get("pd_12m", np.nan),
        "previous_pd": row.get("previous_pd_12m", np.nan),
        "points": 100 * row.get("pd_change", np.nan),
        "quarters": row.get("late_45_quarters", np.nan),
        "exposure": row.get("exposure", np.nan),
        "limit": limit,
        "use": row.get("exposure", np.nan) / limit if limit and limit > 0 else np.nan,
        "amount": row.get("newly_overdue_amount", np.nan),
        "date": "" if pd.isna(date) else f"{pd.Timestamp(date):%Y-%m-%d}",
        "trigger": word_trigger(trigger, language),
    }


def word_trigger(trigger: str, language: str) -> str:
    """What triggered a default (``features.labels.TRIGGERS``), in ``language``.

    An unknown trigger is returned as its code.
    """
    return TRIGGER_WORDS.get(trigger, {}).get(language, trigger)
