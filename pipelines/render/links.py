"""Which customers get a credit-report page, and the link to it: one rule for every link.

The monthly run writes a page (``data/reports/customers/<page_name>``, its file name from
``pipelines.io.paths.page_name``) for every scored customer
in the high-risk grades and every customer with an alert this month; the portfolio report and
the customer index link to exactly those.
"""

from __future__ import annotations

import pandas as pd

from models.monitoring import SCORED
from pipelines.io.paths import page_name


def page_href(customer_id: str, folder: str = "customers/") -> str:
    """The link to a customer's page from ``data/reports/`` (``folder=""`` from the index)."""
    return folder + page_name(customer_id)


def customers_with_pages(
    book: pd.DataFrame, alerts: pd.DataFrame, high_risk_grade: int
) -> list[str]:
    """Ids of the scored customers in the high-risk grades and of every alerted customer.

    ``book`` is the month's book (``status``, ``grade``), ``alerts`` the month's alerts table;
    in the book's order.
    """
    scored = book["status"] == SCORED
    risky = scored & (pd.to_numeric(book["grade"], errors="coerce") >= high_risk_grade)
    alerted = book["customer_id"].isin(set(alerts["customer_id"]))
    return book.loc[risky | alerted, "customer_id"].astype(str).tolist()
