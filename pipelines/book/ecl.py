"""Lifetime expected credit loss in the score stage's book and summary (``models.ecl``).

:func:`lifetime_ecl` adds ``ecl_lifetime`` to the book: a scored customer's open invoices at the
model's term structure (``pd_1m .. pd_12m``), its expected delay its own ``days_late_avg_12m``
(its sector's median where it has none); a customer in default ``LGD x exposure``. A book
without the term structure (a model from before it) keeps the column empty for the scored
customers, and says so in the log. :func:`ecl_summary` gives ``summary.json`` its
``lifetime_ecl`` block (beside the 12-month expected loss) and its ``provision_matrix`` (the
book's own loss history by ageing bucket applied to the performing customers' open invoices).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from models import ecl
from models.monitoring import IN_DEFAULT, SCORED
from models.portfolio import book_totals
from models.receivables import ageing_bucket, open_at

HORIZON = 12  # months in which a default makes an open invoice lost (the 12-month PD's)
N_BOOT, SEED, LEVEL = 200, 0, 0.95  # the loss rates' customer-bootstrap interval

log = logging.getLogger("pipelines.score")


def lifetime_ecl(
    book: pd.DataFrame, invoices: pd.DataFrame | None, as_of: pd.Timestamp, lgd: float
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The book with ``ecl_lifetime``, and the scored customers' open invoices with their ECL.

    Returns:
        The book (a copy) and the per-invoice frame of ``models.ecl.invoice_ecl`` (``None``:
        no ledger or no term structure, the scored customers' ``ecl_lifetime`` left empty).
    """
    defaulted = (book["status"] == IN_DEFAULT).to_numpy()
    out = book.assign(ecl_lifetime=np.where(defaulted, lgd * book["exposure"], np.nan))
    if invoices is None:
        return out, None
    try:
        columns = ecl.term_columns(book)
    except KeyError as err:  # a model without the term structure
        log.warning("the book has no PD term structure: ecl_lifetime left empty (%s)", err)
        return out, None
    scored = (book["status"] == SCORED).to_numpy()
    rows = book.loc[scored].set_index("customer_id")
    delay = ecl.expected_delay(rows["days_late_avg_12m"], rows["industry"])
    per_invoice = ecl.invoice_ecl(invoices, as_of, rows[columns], delay, lgd)
    out.loc[scored, "ecl_lifetime"] = ecl.customer_ecl(per_invoice, rows.index).to_numpy()
    return out, per_invoice


def ecl_summary(
    book: pd.DataFrame, per_invoice: pd.DataFrame | None, invoices: pd.DataFrame | None,
    defaults: pd.DataFrame, as_of: pd.Timestamp, lgd: float,
) -> dict[str, Any]:  # fmt: skip
    """``lifetime_ecl`` and ``provision_matrix`` for ``summary.json`` (``None``: not known).

    Args:
        book: The book with ``ecl_lifetime`` (:func:`lifetime_ecl`).
        per_invoice: Its per-invoice frame (``None``: no term structure).
        invoices: The ledger (``None``: no ledger, neither block).
        defaults: ``customer_id``, ``default_date`` of every default known.
        as_of: The book's month end: the data's end for the loss history.
        lgd: The policy's loss given default.
    """
    if invoices is None:
        return {"lifetime_ecl": None, "provision_matrix": None}
    return {
        "lifetime_ecl": None if per_invoice is None else _lifetime_block(book, per_invoice),
        "provision_matrix": _matrix_block(book, per_invoice, invoices, defaults, as_of, lgd),
    }


def _lifetime_block(book: pd.DataFrame, per_invoice: pd.DataFrame) -> dict[str, Any]:
    scored, defaulted = book["status"] == SCORED, book["status"] == IN_DEFAULT
    totals = book_totals(book)
    performing = float(book.loc[scored, "ecl_lifetime"].sum())
    in_default = float(book.loc[defaulted, "ecl_lifetime"].sum())
    amount = per_invoice["amount"]
    life = (per_invoice["life_months"] * amount).sum() / amount.sum() if amount.sum() > 0 else None
    twelve = ("expected_loss", "performing_expected_loss", "defaulted_expected_loss", "exposure")
    return {
        "total": round(performing + in_default, 2),
        "performing": round(performing, 2),
        "defaulted": round(in_default, 2),
        **{k: round(totals[k], 2) for k in twelve},
        "open_invoices": len(per_invoice),
        "mean_life_months": _round(life, 2),  # amount-weighted remaining life
        # scored customers with no days late in 12 months: their sector's median delay
        "delay_from_sector": int(book.loc[scored, "days_late_avg_12m"].isna().sum()),
    }


def _matrix_block(
    book: pd.DataFrame, per_invoice: pd.DataFrame | None, invoices: pd.DataFrame,
    defaults: pd.DataFrame, as_of: pd.Timestamp, lgd: float,
) -> dict[str, Any]:  # fmt: skip
    known = defaults[pd.to_datetime(defaults["default_date"]) <= as_of]
    months = ecl.outcome_months(invoices, as_of, HORIZON)
    history = ecl.loss_history(invoices, known, months, HORIZON)
    rates = ecl.loss_rates(history, lgd, N_BOOT, SEED, LEVEL)
    current = per_invoice if per_invoice is not None else _performing_open(book, invoices, as_of)
    matrix = ecl.provision_matrix(rates, current).join(
        rates[["invoices", "amount", "lost"]].add_prefix("history_")
    )
    return {
        "horizon_months": HORIZON,
        "months": len(months),
        "first_month": f"{months[0]:%Y-%m-%d}" if len(months) else None,
        "last_month": f"{months[-1]:%Y-%m-%d}" if len(months) else None,
        # the loss rates' interval: percentile, over resamples of whole customers
        "interval": {"level": LEVEL, "resamples": N_BOOT, "seed": SEED},
        "buckets": [{"bucket": b, **_record(row)} for b, row in matrix.iterrows()],
        "total": {k: _round(matrix[k].sum(min_count=1), 2) for k in _TOTALS},
    }


def _performing_open(
    book: pd.DataFrame, invoices: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The scored customers' open invoices with their bucket (no term structure: no ECL)."""
    scored = book.loc[book["status"] == SCORED, "customer_id"]
    held = open_at(invoices[invoices["customer_id"].isin(scored)], as_of)
    return held.assign(bucket=ageing_bucket(held["days_past_due"]))[["bucket", "amount"]]


_RATES = {"loss_rate", "low", "high"}
_COUNTS = {"invoices", "history_invoices"}
_TOTALS = ("amount", "provision", "model_ecl")


def _record(row: pd.Series) -> dict[str, float | int | None]:
    """A matrix row for JSON: counts whole, rates to 6 decimals, amounts to the cent."""
    return {
        k: int(v) if k in _COUNTS else _round(v, 6 if k in _RATES else 2) for k, v in row.items()
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)
