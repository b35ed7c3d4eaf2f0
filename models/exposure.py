"""A customer's account at a date, from the receivables ledger as it stood then.

Exposure is what the customer owes: invoices issued by the date and not paid by it (an
invoice paid later is still open at the date), the same open balance the late-payment
features use. Recent purchases are the invoicing of the last 12 months. Days past due are
those of the open invoice longest past due (its due date the earliest); an invoice issued after
the date does not exist yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POSITION_COLUMNS = [
    "exposure", "overdue_amount", "newly_overdue_amount", "purchases_12m", "days_past_due",
    "disputed_open_amount",
]  # fmt: skip
_LEDGER = ["customer_id", "issue_date", "due_date", "amount", "paid_date"]


def account_positions(
    invoices: pd.DataFrame,
    customer_ids: pd.Series | list[str],
    as_of: pd.Timestamp,
    since: pd.Timestamp | None = None,
    overdue_days: int = 30,
    purchase_months: int = 12,
) -> pd.DataFrame:
    """Return each customer's open, overdue and disputed amounts, purchases and days past due.

    Args:
        invoices: The ledger (``customer_id``, ``issue_date``, ``due_date``, ``amount``,
            ``paid_date``; a missing paid date means unpaid; optional ``disputed``).
        customer_ids: Customers to report on (one row each, zeros where they have no invoice).
        as_of: The date the position is taken at; nothing after it is used.
        since: Start of the period for ``newly_overdue_amount`` (default: one month earlier).
        overdue_days: Days past due from which an open invoice counts as newly overdue.
        purchase_months: Months of invoicing counted in ``purchases_12m``.

    Returns:
        Frame indexed by ``customer_id`` with :data:`POSITION_COLUMNS`: ``exposure`` (open at
        ``as_of``), ``overdue_amount`` (open and past due), ``newly_overdue_amount`` (open and
        crossing ``overdue_days`` past due in ``(since, as_of]``), ``purchases_12m``,
        ``days_past_due`` (of the open invoice longest past due: 0 when none is past due, missing
        when none is open) and ``disputed_open_amount`` (open and flagged ``disputed``; missing
        without the flag).
    """
    missing = [c for c in _LEDGER if c not in invoices.columns]
    if missing:
        raise KeyError(f"invoices lack columns {missing}")
    as_of = pd.Timestamp(as_of)
    since = months_before(as_of, 1) if since is None else pd.Timestamp(since)
    if since >= as_of:
        raise ValueError(f"since ({since:%Y-%m-%d}) must be before as_of ({as_of:%Y-%m-%d})")
    ids = pd.Index(pd.Series(customer_ids, dtype=str).unique(), name="customer_id")
    inv = invoices[_LEDGER + ["disputed"] * ("disputed" in invoices.columns)]
    inv = inv.assign(customer_id=inv["customer_id"].astype(str))
    inv = inv[inv["customer_id"].isin(ids) & (inv["issue_date"] <= as_of)]
    open_ = inv["paid_date"].isna() | (inv["paid_date"] > as_of)
    overdue = open_ & (inv["due_date"] < as_of)
    crossing = inv["due_date"] + pd.Timedelta(days=overdue_days)
    newly = open_ & (crossing > since) & (crossing <= as_of)
    recent = inv["issue_date"] > months_before(as_of, purchase_months)
    amount = inv["amount"].astype(float)
    parts = {
        "exposure": amount.where(open_, 0.0),
        "overdue_amount": amount.where(overdue, 0.0),
        "newly_overdue_amount": amount.where(newly, 0.0),
        "purchases_12m": amount.where(recent, 0.0),
    }
    sums = pd.DataFrame(parts).groupby(inv["customer_id"]).sum().reindex(ids, fill_value=0.0)
    return sums.join(_arrears(inv, open_, as_of, ids))[POSITION_COLUMNS]


def _arrears(
    inv: pd.DataFrame, open_: pd.Series, as_of: pd.Timestamp, ids: pd.Index
) -> pd.DataFrame:
    """Days past due of the open invoice longest past due, and the open disputed amount.

    Days past due are missing where no invoice is open (nothing can be past due); the disputed
    amount is missing where the ledger has no dispute flag.
    """
    by = inv["customer_id"]
    past_due = (as_of - inv["due_date"]).dt.days.clip(lower=0).where(open_)
    out = pd.DataFrame({"days_past_due": past_due.groupby(by).max().reindex(ids)})
    out["disputed_open_amount"] = np.nan
    if "disputed" in inv.columns:
        disputed = open_ & inv["disputed"].fillna(False).astype(bool)
        amounts = inv["amount"].astype(float).where(disputed, 0.0).groupby(by).sum()
        out["disputed_open_amount"] = amounts.reindex(ids, fill_value=0.0)
    return out


def months_before(date: pd.Timestamp, months: int) -> pd.Timestamp:
    """Return ``date`` moved back ``months`` months; a month end stays a month end."""
    date = pd.Timestamp(date)
    if date.is_month_end:
        return date - pd.offsets.MonthEnd(months)
    return date - pd.DateOffset(months=months)
