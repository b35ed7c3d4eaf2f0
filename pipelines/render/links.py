"""Which customers get a credit-report page, and the page's file name: one rule for every link.

The monthly run writes a page (``data/reports/customers/<page_name>``) for every scored customer
in the high-risk grades and every customer with an alert this month; the portfolio report and
the customer index link to exactly those.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from models.monitoring import SCORED

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def page_name(customer_id: str) -> str:
    """The page's file name: the id where it is a safe file name, else a readable form + hash.

    ``C001897`` -> ``C001897.html``; ``ACME/01 Ltd`` -> ``ACME_01_Ltd-<8 hex>.html`` (the hash
    keeps two ids that differ only in unsafe characters apart).
    """
    text = str(customer_id)
    safe = _UNSAFE.sub("_", text)
    if safe == text and not text.startswith("."):
        return f"{text}.html"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{safe.lstrip('.')[:80]}-{digest}.html"


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
