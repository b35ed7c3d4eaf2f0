"""Payment-behaviour features on a hand-made ledger: parts, payments' days late, plans, in time."""

import numpy as np
import pandas as pd
import pytest

from features.build import FeatureSettings, build_features
from features.catalogue import feature_names
from features.payment_behaviour import (
    first_payments,
    payment_columns,
    payment_rows,
    plan_columns,
    plans_known_at,
)
from features.timeline import month_index

D = pd.Timestamp
PARTS = feature_names(["partial_payments"])
PLANS = feature_names(["payment_plans"])


def month(date: str) -> int:
    return int(month_index(pd.DatetimeIndex([date]))[0])


def snaps(*keys: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [c for c, _ in keys], "month": [month(d) for _, d in keys]})


INVOICES = pd.DataFrame(
    {
        "invoice_id": ["I1", "I2", "I3"],
        "customer_id": ["A", "A", "B"],
        "issue_date": pd.to_datetime(["2023-12-31", "2024-01-15", "2024-02-10"]),
        "due_date": pd.to_datetime(["2024-01-31", "2024-02-15", "2024-03-10"]),
        "amount": [100.0, 200.0, 50.0],
        "paid_date": pd.to_datetime(["2024-03-11", "2024-02-15", "2024-04-05"]),
        "disputed": [False, False, False],
    }
)
PAYMENTS = pd.DataFrame(
    {
        "invoice_id": ["I1", "I2", "I1", "I3"],
        "customer_id": ["A", "A", "A", "B"],
        # I1 in two parts (10 and 40 days late), I2 on time, I3 26 days late in April
        "payment_date": pd.to_datetime(["2024-02-10", "2024-02-15", "2024-03-11", "2024-04-05"]),
        "amount": [40.0, 200.0, 60.0, 50.0],
    }
)
PLAN_ROWS = pd.DataFrame(
    {
        "customer_id": ["A", "A", "B"],
        "agreed_date": pd.to_datetime(["2023-06-30", "2024-01-31", "2024-02-29"]),
        "amount": [500.0, 900.0, 50.0],
        "instalments": [3, 3, 2],
        "end_date": pd.to_datetime(["2023-09-30", "2024-04-30", None]),  # B's: 2 instalments
        # the status as of the data's last date: A's second plan broken in March, B's broken
        # with no date given (known at its end, 2024-04-30)
        "status": ["kept", "broken", "broken"],
        "broken_date": pd.to_datetime([None, "2024-03-31", None]),
    }
)


def values(columns: dict, names: list[str]) -> list[list[float | None]]:
    rows = np.column_stack([columns[n] for n in names])
    return [[None if np.isnan(v) else round(float(v), 4) for v in row] for row in rows]


def test_parts_and_the_payments_days_late():
    at = snaps(("A", "2024-02-29"), ("A", "2024-03-31"), ("B", "2024-03-31"), ("B", "2024-04-30"))
    got = values(payment_columns(at, payment_rows(PAYMENTS, INVOICES)), PARTS)
    assert PARTS == ["part_paid_share_12m", "payment_days_late_3m", "payment_days_late_12m"]
    assert got == [
        [0.5, 1.6667, 1.6667],  # I1's first part (40 of 100, 10 days late) and I2 on time
        [0.5, 9.3333, 9.3333],  # and I1's rest, 40 days late: (400 + 2400) / 300
        [None, None, None],  # B has paid nothing by March
        [0.0, 26.0, 26.0],  # I3 paid whole, 26 days late
    ]


def test_a_payment_leaves_the_three_month_window():
    at = snaps(("A", "2024-05-31"), ("A", "2024-06-30"))
    got = values(payment_columns(at, payment_rows(PAYMENTS, INVOICES)), PARTS)
    assert got == [[0.5, 40.0, 9.3333], [0.5, None, 9.3333]]


def test_a_first_payment_is_a_part_when_short_of_the_amount():
    first = first_payments(payment_rows(PAYMENTS, INVOICES)).sort_values("month")
    assert first["customer_id"].tolist() == ["A", "A", "B"]
    assert first["part"].tolist() == [True, False, False]


def test_payments_of_an_unknown_invoice_have_no_terms_and_count_nowhere():
    rows = payment_rows(PAYMENTS.assign(invoice_id=["I1", "I2", "I1", "I9"]), INVOICES)
    assert rows["invoice"].tolist() == [0, 1, 0, -1]
    assert pd.isna(rows["due_date"].iloc[3]) and np.isnan(rows["invoice_amount"].iloc[3])
    got = values(payment_columns(snaps(("B", "2024-04-30")), rows), PARTS)
    assert got == [[None, None, None]]
    alone = payment_rows(PAYMENTS, None)  # no ledger: no invoice known
    assert (alone["invoice"] == -1).all() and alone["due_date"].isna().all()


def test_plans_agreed_broken_and_since():
    at = snaps(
        ("A", "2023-08-31"),
        ("A", "2024-02-29"),
        ("A", "2024-03-31"),
        ("B", "2024-03-31"),
        ("B", "2024-04-30"),
        ("C", "2024-04-30"),
    )
    assert PLANS == ["plans_agreed_12m", "months_since_plan", "plans_broken_12m"]
    assert values(plan_columns(at, PLAN_ROWS), PLANS) == [
        [1.0, 2.0, 0.0],
        [2.0, 1.0, 0.0],  # the January plan's break in March is not known yet
        [2.0, 2.0, 1.0],  # broken on 31 March: known at the month end
        [1.0, 1.0, 0.0],
        [1.0, 2.0, 1.0],  # broken with no date: known at its end, 30 April
        [0.0, None, 0.0],  # no plan ever
    ]


@pytest.mark.parametrize("t", ["2024-02-29", "2024-03-31", "2024-04-30"])
def test_plans_at_t_are_what_was_known_at_t(t):
    """The features at t from the plans as known at t equal those from the whole table."""
    at = snaps(("A", t), ("B", t))
    known = plans_known_at(PLAN_ROWS, D(t))
    assert values(plan_columns(at, known), PLANS) == values(plan_columns(at, PLAN_ROWS), PLANS)
    assert plans_known_at(known, D(t)).equals(known)  # a view of a view is the view


def test_a_plan_broken_after_t_is_open_at_t_whatever_its_status_says():
    known = plans_known_at(PLAN_ROWS, D("2024-02-29"))
    assert known["status"].tolist() == ["kept", "open", "open"]
    assert known["broken_date"].isna().all()
    later = plans_known_at(PLAN_ROWS, D("2024-04-30"))
    assert later["status"].tolist() == ["kept", "broken", "broken"]
    assert later["broken_date"].tolist() == [pd.NaT, D("2024-03-31"), D("2024-04-30")]
    # what happens after t changes nothing at t: a break moved later, the status rewritten
    moved = PLAN_ROWS.assign(
        broken_date=pd.to_datetime([None, "2024-09-30", None]), status=["kept", "kept", "open"]
    )
    at = snaps(("A", "2024-02-29"), ("B", "2024-02-29"))
    assert values(plan_columns(at, moved), PLANS) == values(plan_columns(at, PLAN_ROWS), PLANS)


def test_a_payment_after_t_changes_nothing_at_t():
    at = snaps(("A", "2024-02-29"), ("B", "2024-03-31"))
    later = PAYMENTS.assign(amount=[40.0, 200.0, 1.0, 5.0])  # the March 11 and April parts
    later.loc[2, "payment_date"] = D("2024-08-01")
    before = values(payment_columns(at, payment_rows(PAYMENTS, INVOICES)), PARTS)
    after = values(payment_columns(at, payment_rows(later, INVOICES)), PARTS)
    assert before == after
    moved = values(
        payment_columns(snaps(("A", "2024-03-31")), payment_rows(later, INVOICES)), PARTS
    )
    assert moved != values(  # not vacuous: the same change moves March's features
        payment_columns(snaps(("A", "2024-03-31")), payment_rows(PAYMENTS, INVOICES)), PARTS
    )


def book(**more: pd.DataFrame) -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {"customer_id": ["A", "B"], "industry": ["retail", "retail"], "region": ["N", "S"]}
        | {"annual_revenue": [1e6, 2e6], "credit_limit": [1e3, 1e3], "payment_terms_days": [30, 30]}
        | {"relationship_start": pd.to_datetime(["2023-01-01", "2023-01-01"])}
    )
    return {"customers": customers, "invoices": INVOICES, **more}


def test_the_families_are_built_and_skipped_with_their_tables():
    as_of = D("2024-04-30")
    settings = FeatureSettings(warmup_months=0)
    whole, _, skipped = build_features(
        book(payments=PAYMENTS, payment_plans=PLAN_ROWS), as_of, settings
    )
    assert not any("payments" in line or "plans" in line for line in skipped)
    april = whole[whole["as_of_date"] == as_of].set_index("customer_id")
    assert april.loc["B", "payment_days_late_3m"] == 26.0
    assert april.loc["A", "plans_broken_12m"] == 1.0
    without, _, skipped = build_features(book(), as_of, settings)
    assert "no payments: partial_payments features skipped" in skipped
    assert "no payment_plans: payment_plans features skipped" in skipped
    assert not set(PARTS + PLANS) & set(without.columns)
    pd.testing.assert_frame_equal(
        whole[without.columns], without
    )  # the other features as they were
