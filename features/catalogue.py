"""The feature catalogue: the one place that names, describes and explains every model feature.

Each entry gives the feature's family, unit, expected risk direction (``+1``: a higher value
means a higher default risk; used as LightGBM monotone constraint), the reason code its SHAP
contribution is grouped under, and the sentence shown to a credit analyst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """Catalogue entry of one feature.

    Attributes:
        name: Column name in the feature table.
        family: Feature family (late_payment, industry, financials, events, peers, profile).
        description: What the feature measures, point-in-time at the snapshot date.
        unit: Unit of the value (days, share, ratio, count, months, index, currency).
        direction: +1 if higher means riskier, -1 if higher means safer, 0 if not constrained.
        reason_code: Short code contributions are grouped under.
        template: Sentence with ``{value}`` for the customer's own value.
        missing_text: Sentence used when the value is missing.
    """

    name: str
    family: str
    description: str
    unit: str
    direction: int
    reason_code: str
    template: str
    missing_text: str = ""

    def sentence(self, value: float) -> str:
        """Return the reason sentence for the customer's ``value``."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.missing_text or f"{self.description}: not available"
        return self.template.format(value=value)


def _f(*args: object, **kwargs: object) -> FeatureSpec:
    return FeatureSpec(*args, **kwargs)  # type: ignore[arg-type]


_NO_HISTORY = "No invoices due in the period, so no payment history"
_NO_STATEMENT = "No financial statement available"

CATALOGUE: tuple[FeatureSpec, ...] = (
    # --- late payment -------------------------------------------------------------------
    _f(
        "on_time_rate_3m",
        "late_payment",
        "Share of invoices due in the last 3 months paid by the due date",
        "share",
        -1,
        "LATE_PAYMENT",
        "Only {value:.0%} of invoices due in the last 3 months were paid on time",
        _NO_HISTORY,
    ),
    _f(
        "on_time_rate_6m",
        "late_payment",
        "Share of invoices due in the last 6 months paid by the due date",
        "share",
        -1,
        "LATE_PAYMENT",
        "Only {value:.0%} of invoices due in the last 6 months were paid on time",
        _NO_HISTORY,
    ),
    _f(
        "on_time_rate_12m",
        "late_payment",
        "Share of invoices due in the last 12 months paid by the due date",
        "share",
        -1,
        "LATE_PAYMENT",
        "Only {value:.0%} of invoices due in the last 12 months were paid on time",
        _NO_HISTORY,
    ),
    _f(
        "days_late_wavg_12m",
        "late_payment",
        "Amount-weighted days past due of invoices due in the last 12 months (open: counted to t)",
        "days",
        1,
        "DAYS_LATE",
        "Pays on average {value:.0f} days after the due date (last 12 months, amount-weighted)",
        _NO_HISTORY,
    ),
    _f(
        "days_late_wavg_3m",
        "late_payment",
        "Amount-weighted days past due of invoices due in the last 3 months (open: counted to t)",
        "days",
        1,
        "DAYS_LATE",
        "Invoices due in the last 3 months are {value:.0f} days late on average",
        _NO_HISTORY,
    ),
    _f(
        "days_late_max_12m",
        "late_payment",
        "Largest days past due of an invoice due in the last 12 months",
        "days",
        1,
        "DAYS_LATE",
        "An invoice due in the last 12 months was {value:.0f} days late",
        _NO_HISTORY,
    ),
    _f(
        "n_late_30_12m",
        "late_payment",
        "Invoices due in the last 12 months paid or still open more than 30 days late",
        "count",
        1,
        "DAYS_LATE",
        "{value:.0f} invoices more than 30 days late in the last 12 months",
    ),
    _f(
        "n_late_45_12m",
        "late_payment",
        "Invoices due in the last 12 months more than 45 days late",
        "count",
        1,
        "DAYS_LATE",
        "{value:.0f} invoices more than 45 days late in the last 12 months",
    ),
    _f(
        "n_late_60_12m",
        "late_payment",
        "Invoices due in the last 12 months more than 60 days late",
        "count",
        1,
        "SEVERE_LATE",
        "{value:.0f} invoices more than 60 days late in the last 12 months",
    ),
    _f(
        "n_late_90_12m",
        "late_payment",
        "Invoices due in the last 12 months more than 90 days late",
        "count",
        1,
        "SEVERE_LATE",
        "{value:.0f} invoices more than 90 days late in the last 12 months",
    ),
    _f(
        "consecutive_quarters_late_45",
        "late_payment",
        "Consecutive quarters back from t with an invoice more than 45 days late",
        "quarters",
        1,
        "LATE_45_CONSEC",
        "Paid more than 45 days late in {value:.0f} consecutive quarters",
    ),
    _f(
        "days_late_trend_3m",
        "late_payment",
        "Amount-weighted days late, last 3 months minus the 3 months before",
        "days",
        1,
        "LATE_TREND",
        "Payment delays grew by {value:.0f} days against the previous quarter",
        "No payment trend: too few invoices due in the last 6 months",
    ),
    _f(
        "overdue_share",
        "late_payment",
        "Share of the open balance that is past due at the snapshot date",
        "share",
        1,
        "OVERDUE",
        "{value:.0%} of the open balance is past due",
    ),
    _f(
        "limit_utilisation",
        "late_payment",
        "Open balance divided by the credit limit",
        "share",
        1,
        "UTILISATION",
        "Uses {value:.0%} of its credit limit",
    ),
    _f(
        "days_since_last_payment",
        "late_payment",
        "Days since the latest payment received, at the snapshot date",
        "days",
        1,
        "NO_PAYMENT",
        "No payment received for {value:.0f} days",
        "No payment ever received",
    ),
    _f(
        "dispute_share_12m",
        "late_payment",
        "Share of invoice amount due in the last 12 months that was disputed",
        "share",
        1,
        "DISPUTES",
        "{value:.0%} of the invoiced amount of the last 12 months was disputed",
        _NO_HISTORY,
    ),
    _f(
        "dso_days",
        "late_payment",
        "Days sales outstanding: open balance over the last 3 months' invoicing, times 91 days",
        "days",
        1,
        "DSO",
        "Days sales outstanding of {value:.0f} days",
        "No invoicing in the last 3 months",
    ),
    # --- industry cycle ------------------------------------------------------------------
    _f(
        "industry_index",
        "industry",
        "Latest published industry-cycle index of the customer's sector",
        "index",
        -1,
        "SECTOR_CYCLE",
        "Sector index at {value:.1f}, a weak point of the cycle",
        "No industry index published for the sector",
    ),
    _f(
        "industry_index_chg_3m",
        "industry",
        "Relative change of the sector index over 3 months",
        "share",
        -1,
        "SECTOR_CYCLE",
        "Sector index changed {value:+.1%} in 3 months",
        "No industry index history for the sector",
    ),
    _f(
        "industry_index_chg_12m",
        "industry",
        "Relative change of the sector index over 12 months",
        "share",
        -1,
        "SECTOR_CYCLE",
        "Sector index changed {value:+.1%} in 12 months",
        "No industry index history for the sector",
    ),
    _f(
        "industry_index_z",
        "industry",
        "Sector index against the sector's own history (z-score, history known at the date)",
        "z",
        -1,
        "SECTOR_CYCLE",
        "Sector index {value:+.1f} standard deviations from its own history",
        "No industry index history for the sector",
    ),
    _f(
        "sector_default_rate_12m",
        "industry",
        "Share of the sector's customers that defaulted in the last 12 months",
        "share",
        1,
        "SECTOR_DEFAULTS",
        "{value:.1%} of the sector's customers defaulted in the last 12 months",
    ),
    # --- financial statements ------------------------------------------------------------
    _f(
        "debt_ratio",
        "financials",
        "Total liabilities over total assets, latest statement available",
        "ratio",
        1,
        "LEVERAGE",
        "Debt ratio of {value:.2f}",
        _NO_STATEMENT,
    ),
    _f(
        "current_ratio",
        "financials",
        "Current assets over current liabilities",
        "ratio",
        -1,
        "LIQUIDITY",
        "Current ratio of {value:.2f}",
        _NO_STATEMENT,
    ),
    _f(
        "cash_ratio",
        "financials",
        "Cash over current liabilities",
        "ratio",
        -1,
        "LIQUIDITY",
        "Cash covers {value:.0%} of current liabilities",
        _NO_STATEMENT,
    ),
    _f(
        "ocf_to_liabilities",
        "financials",
        "Operating cash flow over total liabilities",
        "ratio",
        -1,
        "CASH_FLOW",
        "Operating cash flow is {value:.0%} of total liabilities",
        _NO_STATEMENT,
    ),
    _f(
        "ebit_margin",
        "financials",
        "EBIT over revenue",
        "ratio",
        -1,
        "PROFITABILITY",
        "Operating margin of {value:.1%}",
        _NO_STATEMENT,
    ),
    _f(
        "interest_coverage",
        "financials",
        "EBIT over interest expense",
        "ratio",
        -1,
        "PROFITABILITY",
        "EBIT covers interest {value:.1f} times",
        _NO_STATEMENT,
    ),
    _f(
        "revenue_growth",
        "financials",
        "Revenue growth against the previous statement",
        "share",
        -1,
        "REVENUE_DECLINE",
        "Revenue changed {value:+.0%} year on year",
        "No previous statement to compare revenue with",
    ),
    _f(
        "financials_age_months",
        "financials",
        "Months between the latest available statement's period end and the snapshot date",
        "months",
        0,
        "STALE_FINANCIALS",
        "Latest financial statement is {value:.0f} months old",
        _NO_STATEMENT,
    ),
    # --- events --------------------------------------------------------------------------
    _f(
        "legal_disputes_12m",
        "events",
        "Legal disputes recorded in the last 12 months",
        "count",
        1,
        "LEGAL_DISPUTE",
        "{value:.0f} legal disputes in the last 12 months",
    ),
    _f(
        "months_since_legal_dispute",
        "events",
        "Months since the latest legal dispute",
        "months",
        -1,
        "LEGAL_DISPUTE",
        "Legal dispute {value:.0f} months ago",
        "No legal dispute on record",
    ),
    _f(
        "ownership_changes_12m",
        "events",
        "Ownership changes recorded in the last 12 months",
        "count",
        1,
        "OWNERSHIP_CHANGE",
        "{value:.0f} ownership changes in the last 12 months",
    ),
    _f(
        "months_since_ownership_change",
        "events",
        "Months since the latest ownership change",
        "months",
        -1,
        "OWNERSHIP_CHANGE",
        "Ownership changed {value:.0f} months ago",
        "No ownership change on record",
    ),
    _f(
        "management_changes_12m",
        "events",
        "Management changes recorded in the last 12 months",
        "count",
        1,
        "MANAGEMENT_CHANGE",
        "{value:.0f} management changes in the last 12 months",
    ),
    # --- peer comparison -----------------------------------------------------------------
    _f(
        "days_late_vs_sector",
        "peers",
        "Amount-weighted days late minus the sector median at the same date",
        "days",
        1,
        "WORSE_THAN_PEERS",
        "Pays {value:.0f} days later than the sector median",
        _NO_HISTORY,
    ),
    _f(
        "debt_ratio_vs_sector",
        "peers",
        "Debt ratio minus the sector median at the same date",
        "ratio",
        1,
        "LEVERAGE",
        "Debt ratio {value:+.2f} above the sector median",
        _NO_STATEMENT,
    ),
    # --- profile -------------------------------------------------------------------------
    _f(
        "annual_revenue",
        "profile",
        "Annual revenue from the customer book (trees split on ranks, so no log is needed)",
        "currency",
        -1,
        "SMALL_COMPANY",
        "Small company: annual revenue {value:,.0f}",
        "Annual revenue unknown",
    ),
    _f(
        "relationship_months",
        "profile",
        "Months since the trading relationship started",
        "months",
        -1,
        "NEW_RELATIONSHIP",
        "Customer for only {value:.0f} months",
    ),
    _f(
        "payment_terms_days",
        "profile",
        "Agreed payment terms",
        "days",
        0,
        "LONG_TERMS",
        "Payment terms of {value:.0f} days",
    ),
)

FEATURES: dict[str, FeatureSpec] = {spec.name: spec for spec in CATALOGUE}
FEATURE_NAMES: list[str] = [spec.name for spec in CATALOGUE]
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(spec.family for spec in CATALOGUE))


def feature_names(families: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Return the catalogue's feature names, optionally only those of the given families."""
    if families is None:
        return list(FEATURE_NAMES)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown feature families {sorted(unknown)}; known: {list(FAMILIES)}")
    return [spec.name for spec in CATALOGUE if spec.family in families]


def monotone_constraints(names: list[str]) -> list[int]:
    """Return the expected risk direction of each named feature, for LightGBM."""
    missing = [n for n in names if n not in FEATURES]
    if missing:
        raise KeyError(f"features not in the catalogue: {missing}")
    return [FEATURES[n].direction for n in names]
