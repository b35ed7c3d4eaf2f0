"""Consistency flags: rows that pass every rule but contradict another table, kept and named.

A flag does not reject a row: the row is plausible on its own and the contradiction may be in
the other table (a ``relationship_start`` that records the contract, not the first trade).
Validation lists each flag in its summary and logs it as one warning line naming the files,
the columns, the rule and example rows.
"""

from __future__ import annotations

import pandas as pd

BEFORE_START = "issue_date before the customer's relationship_start"


def consistency_flags(tables: dict[str, pd.DataFrame], sample_rows: int) -> list[dict]:
    """Every flag the kept rows raise (empty when none).

    Args:
        tables: The kept rows of each table, indexed by their 0-based data row in the file.
        sample_rows: Example rows kept per flag.
    """
    flag = invoices_before_start(tables, sample_rows)
    return [flag] if flag else []


def invoices_before_start(tables: dict[str, pd.DataFrame], sample_rows: int) -> dict | None:
    """Invoices issued before their customer's ``relationship_start``, or ``None``.

    The tenure features count from ``relationship_start``; an earlier invoice says the
    relationship began before it (or the invoice is booked to the wrong customer).

    Returns:
        ``table``, ``column``, ``rule``, ``rows``, ``customers``, ``sample`` (1-based data rows
        of the file with their invoice, customer, issue date and relationship start) and a
        one-line ``message``.
    """
    invoices, customers = tables.get("invoices"), tables["customers"]
    if invoices is None or invoices.empty or "relationship_start" not in customers:
        return None
    start = invoices["customer_id"].map(
        customers.drop_duplicates("customer_id").set_index("customer_id")["relationship_start"]
    )
    early = invoices["issue_date"] < start  # NaT on either side compares False
    if not early.any():
        return None
    rows = invoices[early]
    sample = [
        {
            "row": int(position) + 1,
            "invoice_id": str(row["invoice_id"]),
            "customer_id": str(row["customer_id"]),
            "issue_date": row["issue_date"].date().isoformat(),
            "relationship_start": start[position].date().isoformat(),
        }
        for position, row in rows.head(sample_rows).iterrows()
    ]
    n_customers = int(rows["customer_id"].nunique())
    shown = "; ".join(
        f"row {s['row']} (invoice {s['invoice_id']}, customer {s['customer_id']}, issued "
        f"{s['issue_date']}, relationship_start {s['relationship_start']})"
        for s in sample[:3]
    )
    message = (
        f"invoices: {len(rows)} invoice(s) of {n_customers} customer(s) have {BEFORE_START} "
        f"(customers), e.g. {shown}; kept: the tenure features count from relationship_start, "
        "so correct it where the relationship began earlier"
    )
    return {
        "table": "invoices",
        "column": "issue_date",
        "rule": BEFORE_START,
        "rows": int(len(rows)),
        "customers": n_customers,
        "sample": sample,
        "message": message,
    }
