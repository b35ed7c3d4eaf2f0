"""What a customer's paid history and an invoice's own payments say at the as-of date ``t``.

Point in time: only the invoices issued by ``t`` and the payments made by ``t`` count.
:func:`customer_habits`: how late the customer pays; :func:`run_habits`: on which days (a
month-end or weekly payment run); :func:`invoice_state`: what part of an open invoice is paid
and whether its customer has a payment plan open (the ledger's optional tables).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from features.incremental import invoices_known_at
from models.payment_periods import RUN_WEEKDAY

HABIT_FEATURES = [
    "habit_days_late", "habit_days_late_p10", "habit_days_late_p90", "habit_paid_by_due",
    "habit_late_30", "habit_invoices", "habit_days_late_undisputed", "habit_days_late_recent",
]  # fmt: skip
RECENT = 5  # the last undisputed invoices paid: habit_days_late_recent


def customer_habits(invoices: pd.DataFrame, as_of: pd.Timestamp, days: int = 365) -> pd.DataFrame:
    """Each customer's payment habits over the invoices due in the ``days`` before ``as_of``.

    Days late are signed (negative: paid early); an invoice past due and open at ``as_of``
    counts as late until ``as_of``, however it was settled later. Indexed by ``customer_id``:
    :data:`HABIT_FEATURES` (mean, 10th and 90th percentile of days late, share paid by the due
    date, share paid more than 30 days late, number of invoices; the mean days late without the
    disputed invoices, whose delay is the dispute's, not the customer's; and that of the last
    :data:`RECENT` undisputed invoices paid by ``as_of``, which follows a customer's change).
    """
    as_of = pd.Timestamp(as_of)
    known = invoices_known_at(invoices, as_of)
    disputed = disputed_flags(known)
    due = known["due_date"]
    window = ((due > as_of - pd.Timedelta(days=days)) & (due <= as_of)).to_numpy()
    late = (known["paid_date"].fillna(as_of) - due).dt.days.to_numpy(float)
    frame = pd.DataFrame(
        {"customer_id": known["customer_id"].to_numpy(), "late": late,
         "by_due": (late <= 0).astype(float), "late_30": (late > 30).astype(float),
         "undisputed": np.where(disputed, np.nan, late)}
    )[window]  # fmt: skip
    groups = frame.groupby("customer_id")
    paid = known[known["paid_date"].notna().to_numpy() & ~disputed]
    paid = paid.assign(late=(paid["paid_date"] - paid["due_date"]).dt.days.astype(float))
    recent = paid.sort_values(["paid_date", "invoice_id"]).groupby("customer_id").tail(RECENT)
    return pd.DataFrame(
        {
            "habit_days_late": groups["late"].mean(),
            "habit_days_late_p10": groups["late"].quantile(0.1),
            "habit_days_late_p90": groups["late"].quantile(0.9),
            "habit_paid_by_due": groups["by_due"].mean(),
            "habit_late_30": groups["late_30"].mean(),
            "habit_invoices": groups.size().astype(float),
            "habit_days_late_undisputed": groups["undisputed"].mean(),
        }
    ).join(recent.groupby("customer_id")["late"].mean().rename("habit_days_late_recent"),
           how="outer")  # fmt: skip


def run_habits(invoices: pd.DataFrame, as_of: pd.Timestamp, days: int = 365) -> pd.DataFrame:
    """Each customer's payment-run habit from its invoices settled in the ``days`` before ``as_of``.

    Indexed by ``customer_id``: :data:`RUN_FEATURES` (the share paid on a month's last day, the
    share paid on its most common weekday, the number of payments) and :data:`RUN_WEEKDAY`
    (that weekday; a tie: the earliest). Only payments made by ``as_of`` count.
    """
    as_of = pd.Timestamp(as_of)
    paid = pd.to_datetime(invoices["paid_date"])
    seen = ((paid <= as_of) & (paid > as_of - pd.Timedelta(days=days))).to_numpy()
    dates = pd.DatetimeIndex(paid[seen])
    frame = pd.DataFrame(
        {"customer_id": invoices["customer_id"].to_numpy()[seen],
         "month_end": dates.is_month_end.astype(float), "weekday": dates.dayofweek}
    )  # fmt: skip
    counts = frame.groupby(["customer_id", "weekday"]).size().unstack(fill_value=0)
    total = counts.sum(axis=1)
    return pd.DataFrame(
        {
            "run_month_end_share": frame.groupby("customer_id")["month_end"].mean(),
            "run_weekday_share": counts.max(axis=1) / total,
            "run_payments": total.astype(float),
            RUN_WEEKDAY: counts.idxmax(axis=1).astype(float),
        }
    )


def disputed_flags(invoices: pd.DataFrame) -> np.ndarray:
    """Each invoice's dispute flag (none: not disputed)."""
    if "disputed" not in invoices:
        return np.zeros(len(invoices), bool)
    return invoices["disputed"].fillna(False).astype(bool).to_numpy()


STATE_FEATURES = ["part_paid_share", "days_since_part_paid", "plan_open", "plan_days_left"]
PAYMENTS_COLUMNS = ("invoice_id", "payment_date", "amount")
PLANS_COLUMNS = ("customer_id", "agreed_date", "end_date", "broken_date")


class PaymentRecords(NamedTuple):
    """The ledger's optional tables: the payments (one row each) and the payment plans."""

    payments: pd.DataFrame | None = None
    plans: pd.DataFrame | None = None


NO_RECORDS = PaymentRecords()  # a ledger of invoices only


def invoice_state(rows: pd.DataFrame, as_of: pd.Timestamp, records: PaymentRecords) -> pd.DataFrame:
    """What the open invoices' own payments and their customers' plans say at ``as_of``.

    :data:`STATE_FEATURES`, aligned to ``rows`` (``invoice_id``, ``customer_id``, ``amount``):
    the share of the amount paid by ``as_of`` and the days since its last payment then (a
    first part: the rest tends to follow a set time later); whether the customer has a plan
    open at ``as_of`` (agreed by then, its end after it, not broken by then: a plan's status is
    known from its end or its broken date only, never from a later ``status``) and the days to
    its end. NaN where the table is absent.
    """
    as_of = pd.Timestamp(as_of)
    out = pd.DataFrame(np.nan, index=rows.index, columns=STATE_FEATURES)
    if records.payments is not None:
        payments = _checked(records.payments, PAYMENTS_COLUMNS, "payments")
        made = payments[pd.to_datetime(payments["payment_date"]) <= as_of]
        by_invoice = made.groupby("invoice_id").agg(
            paid=("amount", "sum"), last=("payment_date", "max")
        )
        mine = by_invoice.reindex(rows["invoice_id"])
        amount = rows["amount"].to_numpy(float)
        paid = np.nan_to_num(mine["paid"].to_numpy(float))
        out["part_paid_share"] = np.divide(
            paid, amount, out=np.zeros_like(amount), where=amount > 0
        )
        out["days_since_part_paid"] = (as_of - pd.to_datetime(mine["last"])).dt.days.to_numpy(float)
    if records.plans is not None:
        plans = _checked(records.plans, PLANS_COLUMNS, "payment_plans")
        agreed, end = pd.to_datetime(plans["agreed_date"]), pd.to_datetime(plans["end_date"])
        broken = pd.to_datetime(plans["broken_date"])
        open_ = plans[(agreed <= as_of) & (end > as_of) & ~(broken <= as_of)]
        ends = open_.assign(end=pd.to_datetime(open_["end_date"])).groupby("customer_id")["end"]
        left = (ends.max() - as_of).dt.days.reindex(rows["customer_id"]).to_numpy(float)
        out["plan_open"] = (~np.isnan(left)).astype(float)
        out["plan_days_left"] = left
    return out


def _checked(table: pd.DataFrame, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in table]
    if missing:
        raise KeyError(f"the {name} table lacks {missing}")
    return table
