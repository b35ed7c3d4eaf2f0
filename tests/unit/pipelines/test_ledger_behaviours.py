"""The synthetic ledger's behaviours: payment runs, partial payments, payment plans."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from pipelines.sources.ledger_behaviours import (
    MAX_DAYS_PAST_DUE,
    PLAN_DAYS_PAST_DUE,
    RUN_TYPES,
    latest_meant,
    pay_dates,
)
from pipelines.sources.synthetic import generate

DAY = np.timedelta64(1, "D")


@pytest.mark.parametrize(("run", "weekday"), [("any_day", -1), ("month_end", -1), ("weekly", 0),
                                              ("weekly", 4)])  # fmt: skip
@pytest.mark.parametrize("issue", ["2024-11-20", "2025-01-03"])
def test_latest_meant_inverts_the_pay_dates(run, weekday, issue):
    """A payment meant for day d is made by x exactly when d - due <= latest_meant(x)."""
    issue = np.datetime64(issue, "D")
    due = issue + 30 * DAY
    meant = due + np.arange(-29, 86) * DAY
    code = RUN_TYPES.index(run)
    paid = pay_dates(meant, due, issue, code, weekday)
    assert (paid >= meant - 15 * DAY).all() and (paid >= issue).all()
    assert ((paid - due).astype(int) <= MAX_DAYS_PAST_DUE).all()
    x = due + np.arange(-40, 120) * DAY
    cover = latest_meant(x, due, issue, code, weekday)
    by_x = paid[None, :] <= x[:, None]
    assert (by_x == ((meant - due).astype(int)[None, :] <= cover[:, None])).all()


@pytest.fixture(scope="module")
def book() -> dict[str, pd.DataFrame]:
    return generate(300, 36, "2021-01-31", 42)


def test_payment_runs_land_on_run_days(book):
    pays = book["payments"].merge(book["invoice_truth"], on=["invoice_id", "customer_id"])
    date = pays["payment_date"]
    capped = (date - pays["due_date"]).dt.days == MAX_DAYS_PAST_DUE
    month_end = pays["true_run_type"] == "month_end"
    weekly = pays["true_run_type"] == "weekly"
    assert month_end.sum() > 1000 and weekly.sum() > 500
    assert (date[month_end & ~capped].dt.is_month_end).all()
    on_day = date.dt.weekday == pays["true_run_weekday"]
    assert on_day[weekly & ~capped].all()
    anyday = pays["true_run_type"] == "any_day"  # the others pay on every weekday and day
    assert date[anyday].dt.weekday.nunique() == 7 and not date[anyday].dt.is_month_end.all()


def test_partial_payments_sum_to_the_amount_and_settle_with_the_rest(book):
    invoices, pays = book["invoices"], book["payments"]
    settled = invoices[invoices["paid_date"].notna()].set_index("invoice_id")
    total = pays.groupby("invoice_id")["amount"].sum()
    assert total[settled.index].to_numpy() == pytest.approx(settled["amount"].to_numpy(), abs=0.011)
    count = pays.groupby("invoice_id").size()
    parts = count[count == 2].index
    assert 0.03 < len(parts) / len(settled) < 0.15
    last = pays.groupby("invoice_id")["payment_date"].max()
    assert (last[settled.index] == settled["paid_date"]).all()
    first = pays.groupby("invoice_id")["payment_date"].min()
    assert (first[parts] < last[parts]).mean() > 0.95  # the rest follows, a month later
    # an invoice not settled has at most its first part, paid before the data's as-of date
    open_ids = invoices.loc[invoices["paid_date"].isna(), "invoice_id"]
    assert (count.reindex(open_ids).fillna(0) <= 1).all()
    # a partial payment is likelier the worse the customer: the truth's chance follows it
    truth = book["invoice_truth"].set_index("invoice_id").loc[settled.index]
    is_part = settled.index.isin(parts)
    assert truth["true_p_partial"][is_part].mean() > 1.5 * truth["true_p_partial"][~is_part].mean()


def test_plans_cover_overdue_balances_one_at_a_time(book):
    invoices, plans = book["invoices"], book["payment_plans"]
    assert len(plans) > 20 and set(plans["status"]) <= {"kept", "broken", "open"}
    for plan in plans.itertuples():
        t = plan.agreed_date
        mine = invoices[
            (invoices["customer_id"] == plan.customer_id) & (invoices["issue_date"] <= t)
        ]
        overdue = mine[(mine["due_date"] < t - pd.Timedelta(days=PLAN_DAYS_PAST_DUE))
                       & ~(mine["paid_date"] <= t)]  # fmt: skip
        assert t.is_month_end and plan.amount == pytest.approx(overdue["amount"].sum(), abs=0.01)
    ends = plans.groupby("customer_id")["end_date"].shift()
    assert not (plans["agreed_date"] <= ends).any()  # no plan while another runs
    assert (plans["broken_date"].notna() == (plans["status"] == "broken")).all()
    # a plan is broken at an instalment: after it was agreed, by its end
    broken = plans[plans["status"] == "broken"]
    assert (broken["broken_date"] > broken["agreed_date"]).all()
    assert (broken["broken_date"] <= broken["end_date"]).all()
    assert broken["broken_date"].dt.is_month_end.all()


def test_a_broken_plan_signals_a_default(book):
    plans = book["payment_plans"]
    defaulted = set(book["defaults"]["customer_id"]) | set(
        book["events"].loc[book["events"]["event_type"] == "insolvency_filing", "customer_id"]
    )
    hit = plans["customer_id"].isin(defaulted)
    broken = plans["status"] == "broken"
    assert hit[broken].mean() > 0.8 and hit[plans["status"] == "kept"].mean() < 0.2


def test_the_same_seed_gives_the_same_bytes():
    a, b = generate(40, 24, "2021-01-31", 5), generate(40, 24, "2021-01-31", 5)
    for name in ("invoices", "payments", "payment_plans", "invoice_truth"):
        first, second = io.BytesIO(), io.BytesIO()
        a[name].to_parquet(first, index=False)
        b[name].to_parquet(second, index=False)
        assert first.getvalue() == second.getvalue(), name
    other = generate(40, 24, "2021-01-31", 6)["payments"]
    assert not other.equals(a["payments"])
