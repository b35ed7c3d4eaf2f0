"""A customer's account beside its scores: position from the ledger, limit, terms, revenue.

What the credit policy and the account alerts read, for the score stage's book and for the
evaluate stage's replay of the policy on the test window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.exposure import POSITION_COLUMNS, account_positions

# customers table column -> book column
ACCOUNT = {"credit_limit": "current_limit", "payment_terms_days": "current_terms_days"}


def positions_at(
    invoices: pd.DataFrame | None, ids: pd.Series, as_of: pd.Timestamp, since: pd.Timestamp,
    days: int,
) -> pd.DataFrame:  # fmt: skip
    """Each customer's account position (:data:`POSITION_COLUMNS`; missing without a ledger)."""
    if invoices is None:
        index = pd.Index(ids.unique(), name="customer_id")
        return pd.DataFrame(np.nan, index=index, columns=POSITION_COLUMNS)
    return account_positions(invoices, ids, as_of, since=since, overdue_days=days)


def with_account(
    scored: pd.DataFrame, rows: pd.DataFrame, customers: pd.DataFrame, positions: pd.DataFrame
) -> pd.DataFrame:
    """``scored`` (aligned to the snapshot ``rows``) with what the policy and alerts read.

    Adds the account position (:data:`POSITION_COLUMNS`), the current limit and terms and the
    annual revenue from ``customers``, and the snapshot's relationship months and consecutive
    quarters more than 45 days late.
    """
    account = customers.set_index("customer_id")[[*ACCOUNT, "annual_revenue"]]
    out = scored.join(positions, on="customer_id").join(
        account.rename(columns=ACCOUNT), on="customer_id"
    )
    out["relationship_months"] = rows.get("relationship_months", np.nan)
    out["late_45_quarters"] = rows.get("consecutive_quarters_late_45", np.nan)
    return out
