"""Adapters: public real data sets in their own shape, mapped onto the data contract.

Each adapter takes the data set's frames as read from its files and returns contract tables
plus the facts the pipeline needs about it: the data's as-of date, and for data sets observed at
a single date, that snapshot date and the label horizon the data set defines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Adapted:
    """Contract tables of an adapted data set and how to read them.

    Attributes:
        tables: Contract tables (``customers`` always).
        as_of_date: The date up to which the data (outcomes included) is known.
        snapshot_dates: Month ends to build snapshots at; empty means every month end.
        horizon_months: Label horizon the data set defines; ``None`` means the configured one.
        notes: What the adapter assumed, for the manifest.
        attribute_schema: What the user's schema declares per attribute (folder data).
    """

    tables: dict[str, pd.DataFrame]
    as_of_date: pd.Timestamp
    snapshot_dates: list[pd.Timestamp] = field(default_factory=list)
    horizon_months: int | None = None
    notes: list[str] = field(default_factory=list)
    attribute_schema: dict = field(default_factory=dict)


def _book(
    ids: pd.Series,
    *,
    country: str | np.ndarray,
    industry: str,
    start: pd.Timestamp | np.ndarray,
    limit: pd.Series | float,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "name": ids.to_numpy(),
            "country": country,
            "region": country,
            "industry": industry,
            "annual_revenue": np.nan,
            "relationship_start": start,
            "credit_limit": limit,
            "payment_terms_days": 30,
        }
    )


TAIWAN_MONTHS = ("sep", "aug", "jul", "jun", "may", "apr")  # PAY_0/BILL_AMT1 is September 2005
TAIWAN_STATUS = ("X6", "X7", "X8", "X9", "X10", "X11")
TAIWAN_BILL = ("X12", "X13", "X14", "X15", "X16", "X17")
TAIWAN_PAID = ("X18", "X19", "X20", "X21", "X22", "X23")
TAIWAN_DUE_DAYS = 20


def adapt_taiwan(raw: pd.DataFrame) -> Adapted:
    """Taiwan credit-card default (UCI 350): statements become invoices, Y the default.

    The statement of month m is an invoice dated at m's end, due 20 days later; it is settled
    ``30 x status`` days after the due date, where status is the repayment status reported
    the month after (<= 0: paid duly); settlements after 2005-09-30 are still open. The label
    is the data set's: default in October 2005, so the snapshot is 2005-09-30 and the horizon
    one month. Demographics, raw statuses, bills and payments enter as ``attributes``.
    """
    ids = "TW" + raw["ID"].astype(int).astype(str).str.zfill(5)
    snapshot = pd.Timestamp("2005-09-30")
    month_ends = [snapshot - pd.offsets.MonthEnd(k) for k in range(6)]
    invoices = []
    for k, month_end in enumerate(month_ends):
        due = month_end + pd.Timedelta(days=TAIWAN_DUE_DAYS)
        status = raw[TAIWAN_STATUS[k - 1]] if k > 0 else pd.Series(np.nan, index=raw.index)
        late = pd.to_timedelta(30 * status.clip(lower=0).fillna(0), unit="D")
        paid = (due + late).where(status.notna(), pd.NaT)
        paid = paid.where(paid <= snapshot, pd.NaT)
        amount = raw[TAIWAN_BILL[k]].astype(float)
        keep = amount > 0
        invoices.append(
            pd.DataFrame(
                {
                    "invoice_id": ids[keep] + f"-{month_end:%Y%m}",
                    "customer_id": ids[keep],
                    "issue_date": month_end,
                    "due_date": due,
                    "amount": amount[keep],
                    "currency": "TWD",
                    "paid_date": paid[keep],
                    "paid_amount": amount[keep].where(paid[keep].notna()),
                    "disputed": False,
                }
            )
        )
    attrs = {"limit_bal": "X1", "sex": "X2", "education": "X3", "marriage": "X4", "age": "X5"}
    for k, month in enumerate(TAIWAN_MONTHS):
        attrs |= {f"status_{month}": TAIWAN_STATUS[k], f"bill_{month}": TAIWAN_BILL[k]}
        attrs |= {f"paid_{month}": TAIWAN_PAID[k]}
    attributes = pd.DataFrame({"customer_id": ids, "known_date": snapshot})
    for name, col in attrs.items():
        attributes[name] = raw[col].astype(float)
    defaulted = raw["Y"].astype(int) == 1
    defaults = pd.DataFrame(
        {
            "customer_id": ids[defaulted],
            "default_date": pd.Timestamp("2005-10-31"),
            "default_type": "other",
        }
    )
    book = _book(
        ids, country="TW", industry="consumer_credit", start=month_ends[-1], limit=raw["X1"]
    )
    book["payment_terms_days"] = TAIWAN_DUE_DAYS
    return Adapted(
        tables={
            "customers": book,
            "invoices": pd.concat(invoices, ignore_index=True),
            "attributes": attributes,
            "defaults": defaults.reset_index(drop=True),
        },
        as_of_date=pd.Timestamp("2005-10-31"),
        snapshot_dates=[snapshot],
        horizon_months=1,
        notes=["statements Apr-Sep 2005 as invoices; label: default payment in October 2005"],
    )


POLISH_SNAPSHOT = pd.Timestamp("2000-12-31")  # nominal: the data set carries no dates


def adapt_polish(raw: pd.DataFrame) -> Adapted:
    """Polish bankruptcy, year 5 (UCI 365): ratios as ``attributes``, class 1 as a default.

    The data set has no dates: statements are placed at a nominal snapshot, 2000-12-31, and a
    bankruptcy "within one year" at the middle of the following year.
    """
    ids = "PL" + pd.Series(np.arange(1, len(raw) + 1)).astype(str).str.zfill(5)
    attributes = raw.drop(columns="class").rename(columns=str.lower).astype(float)
    attributes.insert(0, "known_date", POLISH_SNAPSHOT)
    attributes.insert(0, "customer_id", ids.to_numpy())
    bankrupt = raw["class"].astype(int).to_numpy() == 1
    defaults = pd.DataFrame(
        {
            "customer_id": ids[bankrupt].to_numpy(),
            "default_date": POLISH_SNAPSHOT + pd.DateOffset(months=6),
            "default_type": "insolvency",
        }
    )
    start = POLISH_SNAPSHOT - pd.DateOffset(years=5)
    return Adapted(
        tables={
            "customers": _book(ids, country="PL", industry="manufacturing", start=start, limit=0.0),
            "attributes": attributes,
            "defaults": defaults,
        },
        as_of_date=POLISH_SNAPSHOT + pd.DateOffset(years=1),
        snapshot_dates=[POLISH_SNAPSHOT],
        horizon_months=12,
        notes=["nominal snapshot 2000-12-31; bankruptcies placed at 2001-06-30"],
    )


def adapt_ibm_ar(raw: pd.DataFrame) -> Adapted:
    """IBM accounts-receivable sample: 2,466 settled invoices of 100 customers, no defaults."""
    issue = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y")
    invoices = pd.DataFrame(
        {
            "invoice_id": raw["invoiceNumber"].astype(str),
            "customer_id": raw["customerID"].astype(str),
            "issue_date": issue,
            "due_date": pd.to_datetime(raw["DueDate"], format="%m/%d/%Y"),
            "amount": raw["InvoiceAmount"].astype(float),
            "currency": "USD",
            "paid_date": pd.to_datetime(raw["SettledDate"], format="%m/%d/%Y"),
            "paid_amount": raw["InvoiceAmount"].astype(float),
            "disputed": raw["Disputed"].astype(str).str.strip().eq("Yes"),
        }
    )
    first = invoices.groupby("customer_id")["issue_date"].min()
    country = "C" + raw.groupby("customerID")["countryCode"].first().astype(str)
    book = _book(
        pd.Series(first.index),
        country=country.reindex(first.index).to_numpy(),
        industry="unknown",
        start=first.to_numpy(),
        limit=0.0,
    )
    terms = (invoices["due_date"] - invoices["issue_date"]).dt.days
    book["payment_terms_days"] = int(terms.median())
    return Adapted(
        tables={"customers": book, "invoices": invoices},
        as_of_date=max(invoices["paid_date"].max(), issue.max()).normalize(),
        notes=["no defaults in the data: features only, no model can be trained"],
    )


FAMA_FRENCH_SECTOR = {
    "construction": "Other",
    "hospitality": "Other",
    "transport": "Other",
    "retail": "Shops",
    "wholesale": "Shops",
    "manufacturing": "Manuf",
    "agriculture": "NoDur",
    "energy": "Enrgy",
    "technology": "BusEq",
    "healthcare": "Hlth",
}


def industry_index_from_returns(
    returns: pd.DataFrame, leading: pd.Series, months: pd.DatetimeIndex, industries: list[str]
) -> pd.DataFrame:
    """An ``industry_index`` table on ``months`` from real monthly series.

    Each industry gets the cumulative value index (100 at the start) of its Fama-French
    portfolio; industries without a portfolio get the OECD leading indicator. The latest
    ``len(months)`` months of the real series are laid onto ``months`` (real values on the
    book's calendar).

    Args:
        returns: Monthly returns in percent, index = month, one column per FF12 portfolio.
        leading: OECD composite leading indicator, index = month.
        months: Month ends of the book.
        industries: The book's industries.
    """
    n = len(months)
    common = returns.index.intersection(leading.index).sort_values()
    if len(common) < n:
        raise ValueError(f"the real series cover {len(common)} common months, need {n}")
    window = common[-n:]
    level = 100 * (1 + returns.loc[window].fillna(0) / 100).cumprod()
    rows = []
    for industry in industries:
        source = FAMA_FRENCH_SECTOR.get(industry)
        values = level[source] if source in level else leading.loc[window]
        rows.append(
            pd.DataFrame({"industry": industry, "month": months, "value": values.to_numpy()})
        )
    return pd.concat(rows, ignore_index=True).round({"value": 4})
