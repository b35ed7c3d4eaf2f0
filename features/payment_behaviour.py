"""Payment-behaviour features: invoices paid in parts, when each part came, payment plans.

Read from the optional ``payments`` table (one row per payment: an invoice paid in parts has
several) and ``payment_plans`` table (one row per plan agreed for an overdue balance), strictly
as known at each month end ``t``:

* a payment dated after ``t`` is unknown at ``t``; an invoice counts as paid in parts from its
  first payment on, when that payment is less than the invoice's amount;
* a plan is known from its ``agreed_date``; that it was broken only from its break date on
  (:func:`break_dates`), never from the ``status`` column, which is as of the data's last date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.events import _months_since
from features.timeline import Grid, month_index, positions, trailing_sum

CENT = 0.005  # a first payment this much short of the invoice's amount is a part
PAYMENT_WINDOWS = (3, 12)  # of the payments' days late
PART_WINDOW = 12  # of the share paid in parts (over 3 months it told the models nothing)


def payment_rows(payments: pd.DataFrame, invoices: pd.DataFrame | None) -> pd.DataFrame:
    """The payments with their invoice's due date and amount, the invoice as an integer code.

    Args:
        payments: ``invoice_id``, ``customer_id``, ``payment_date``, ``amount``.
        invoices: ``invoice_id``, ``due_date``, ``amount`` (``None``: no invoice is known).

    Returns:
        ``customer_id``, ``payment_date``, ``amount``, ``due_date``, ``invoice_amount`` and
        ``invoice``, the invoice's row in ``invoices`` (-1, with no
        due date or amount, for an invoice not there).
    """
    if invoices is None:
        invoices = pd.DataFrame({"invoice_id": [], "due_date": pd.Series(dtype="M8[ns]"),
                                 "amount": pd.Series(dtype=float)})  # fmt: skip
    at = positions(payments["invoice_id"], invoices["invoice_id"])
    known = at >= 0
    due = np.full(len(at), np.datetime64("NaT"), dtype="datetime64[ns]")
    due[known] = invoices["due_date"].to_numpy(dtype="datetime64[ns]")[at[known]]
    amount = np.full(len(at), np.nan)
    amount[known] = invoices["amount"].to_numpy(dtype=float)[at[known]]
    return pd.DataFrame(
        {
            "customer_id": payments["customer_id"].array,  # as it is: text not converted
            "payment_date": payments["payment_date"].to_numpy(dtype="datetime64[ns]"),
            "amount": payments["amount"].to_numpy(dtype=float),
            "due_date": due,
            "invoice_amount": amount,
            "invoice": at,
        }
    )


def _days(dates: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(den.shape, np.nan), where=den > 0)


def first_payments(payments: pd.DataFrame) -> pd.DataFrame:
    """Each invoice's first payment: its customer, date, and whether it was a part.

    The first payment is everything paid on the invoice's earliest payment day; it is a part
    when it is short of the invoice's amount (known on that day). Invoices not in the ledger
    (``invoice`` -1) are left out: their amount is unknown.
    """
    known = payments[payments["invoice"].to_numpy() >= 0]
    invoice, day = known["invoice"].to_numpy(), _days(known["payment_date"])
    order = np.lexsort((day, invoice))
    invoice, day = invoice[order], day[order]
    start = np.r_[True, invoice[1:] != invoice[:-1]] if len(invoice) else np.zeros(0, bool)
    group = np.cumsum(start) - 1
    first_day = day[start]
    on_first = day == first_day[group]
    paid = np.bincount(group, known["amount"].to_numpy()[order] * on_first, len(first_day))
    whole = known["invoice_amount"].to_numpy()[order][start]
    return pd.DataFrame(
        {
            "customer_id": known["customer_id"].to_numpy()[order][start],
            "month": month_index(pd.DatetimeIndex(first_day.astype("datetime64[D]"))),
            "part": paid < whole - CENT,
        }
    )


def payment_columns(snapshots: pd.DataFrame, payments: pd.DataFrame) -> dict[str, np.ndarray]:
    """Invoices paid in parts over the last 12 months; the payments' days late over 3 and 12.

    Args:
        snapshots: ``customer_id`` and ``month`` (month index).
        payments: :func:`payment_rows`.

    Returns:
        ``part_paid_share_12m``: of the invoices first paid in the last 12 months, the
        share whose first payment was a part; ``payment_days_late_<w>m``: the amount-weighted
        days past due of the payments received in the last ``w`` months (0 for one on time),
        each part at its own date. Missing where no payment falls in the window.
    """
    pay_month = month_index(payments["payment_date"])
    first = first_payments(payments)
    grid, cells = _grid(snapshots, [pay_month])
    rows = grid.rows(payments["customer_id"])
    late = np.maximum(0, _days(payments["payment_date"]) - _days(payments["due_date"]))
    dated = ~np.isnat(payments["due_date"].to_numpy(dtype="datetime64[ns]"))
    amount = payments["amount"].to_numpy(dtype=float) * dated
    paid = grid.total(grid.cell(rows, pay_month), amount)
    paid_late = grid.total(grid.cell(rows, pay_month), np.where(dated, amount * late, 0.0))
    first_cells = grid.position(first["customer_id"], first["month"].to_numpy())
    invoices = grid.total(first_cells)
    parts = grid.total(first_cells, first["part"].to_numpy(dtype=float))
    share = _ratio(trailing_sum(parts, PART_WINDOW), trailing_sum(invoices, PART_WINDOW))
    out = {f"part_paid_share_{PART_WINDOW}m": grid.gather(share, cells)}
    for w in PAYMENT_WINDOWS:
        days = _ratio(trailing_sum(paid_late, w), trailing_sum(paid, w))
        out[f"payment_days_late_{w}m"] = grid.gather(days, cells)
    return out


def plan_ends(plans: pd.DataFrame) -> np.ndarray:
    """Each plan's end: ``end_date``, else the month end of its last instalment (NaT: unknown)."""
    end = plans["end_date"].to_numpy(dtype="datetime64[ns]") if "end_date" in plans else None
    if end is None:
        end = np.full(len(plans), np.datetime64("NaT"), dtype="datetime64[ns]")
    if "instalments" in plans:
        counted = plans["instalments"].notna().to_numpy()
        months = month_index(plans["agreed_date"]) + plans["instalments"].fillna(0).to_numpy()
        last = _month_ends(months.astype(np.int64))
        end = np.where(np.isnat(end) & counted, last, end)
    return end


def _month_ends(months: np.ndarray) -> np.ndarray:
    """The last day of each month index, as ``datetime64[ns]``."""
    first_of_next = (months + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    return (first_of_next - np.timedelta64(1, "D")).astype("datetime64[ns]")


def break_dates(plans: pd.DataFrame) -> np.ndarray:
    """The day each plan is known broken: ``broken_date``, else its end if ``broken`` (or NaT).

    A plan marked broken without a break date is known broken from its end at the latest.
    """
    broken = np.full(len(plans), np.datetime64("NaT"), dtype="datetime64[ns]")
    if "broken_date" in plans:
        broken = plans["broken_date"].to_numpy(dtype="datetime64[ns]")
    marked = (plans["status"] == "broken").to_numpy() if "status" in plans else False
    return np.where(np.isnat(broken) & marked, plan_ends(plans), broken)


def plans_known_at(plans: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """The plans agreed by ``t``, each with its status and break date as known at ``t``.

    ``broken`` once its break date (:func:`break_dates`) is on or before ``t``, ``kept`` once
    its end is, else ``open``; a later break date is blanked. What any feature at ``t`` uses.
    """
    t = pd.Timestamp(t)
    agreed = (plans["agreed_date"] <= t).to_numpy()
    plans = plans[agreed]
    broken = break_dates(plans)
    seen = broken <= t.to_datetime64()
    ended = plan_ends(plans) <= t.to_datetime64()
    status = np.where(seen, "broken", np.where(ended, "kept", "open"))
    known = np.where(seen, broken, np.datetime64("NaT"))
    return plans.assign(status=status, broken_date=known.astype("datetime64[ns]"))


def plan_columns(snapshots: pd.DataFrame, plans: pd.DataFrame) -> dict[str, np.ndarray]:
    """Payment plans agreed and known broken in the last 12 months, and the latest agreed.

    Args:
        snapshots: ``customer_id`` and ``month`` (month index).
        plans: ``customer_id``, ``agreed_date``; optional ``end_date``, ``instalments``,
            ``status``, ``broken_date``.
    """
    agreed_m = month_index(plans["agreed_date"])
    broken_m = month_index(pd.DatetimeIndex(break_dates(plans)))
    grid, cells = _grid(snapshots, [agreed_m])
    rows = grid.rows(plans["customer_id"])
    agreed = grid.total(grid.cell(rows, agreed_m))
    out = {
        "plans_agreed_12m": trailing_sum(agreed, 12),
        "months_since_plan": _months_since(agreed, grid.first),
        "plans_broken_12m": trailing_sum(grid.total(grid.cell(rows, broken_m)), 12),
    }
    return {name: grid.gather(values, cells) for name, values in out.items()}


def _grid(snapshots: pd.DataFrame, months: list[np.ndarray]) -> tuple[Grid, np.ndarray]:
    """The snapshots' customers from the first dated month (or snapshot) on, and their cells."""
    dated = [m[m >= 0] for m in months]
    first = min([int(snapshots["month"].min())] + [int(m.min()) for m in dated if len(m)])
    grid = Grid(snapshots["customer_id"].unique(), first, int(snapshots["month"].max()))
    return grid, grid.position(snapshots["customer_id"], snapshots["month"].to_numpy())


def joined_payments(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``tables``' payments as :func:`payment_rows` (already so in a coded book)."""
    payments = tables["payments"]
    if "invoice" in payments:  # ``features.partitions.customer_codes`` joined them once
        return payments
    return payment_rows(payments, tables.get("invoices"))
