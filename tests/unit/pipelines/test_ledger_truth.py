"""The synthetic ledger's truth: the days-late distribution, and the oracle at a month end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.payment_distribution import daily_outputs
from models.payment_timing import customer_habits, timing_outputs
from models.receivables import open_at
from pipelines.sources.ledger_behaviours import REST_DAYS, RUN_TYPES, pay_dates
from pipelines.sources.ledger_truth import (
    DELAY_SD,
    DISPUTE_DAYS,
    TRUTH_COLUMNS,
    delay_pmf,
    invoice_truth,
    oracle_cumulative,
    oracle_days,
)
from pipelines.sources.synthetic import generate

T = pd.Timestamp("2025-01-31")
D = pd.Timedelta(1, "D")


def truth_of(
    center: list[float], disputed: list[bool], terms: list[int], run: str = "any_day",
    weekday: int = -1, p_partial: float = 0.0, issue: pd.Timestamp = T - 40 * D,
) -> pd.DataFrame:  # fmt: skip
    n = len(center)
    frame = pd.DataFrame(
        {"invoice_id": [f"I{i}" for i in range(n)], "customer_id": "A", "issue_date": issue,
         "due_date": issue + pd.to_timedelta(terms, "D")}
    )  # fmt: skip
    habits = pd.DataFrame({"run_type": [RUN_TYPES.index(run)] * n, "run_weekday": weekday})
    return invoice_truth(frame, np.array(center), np.array(disputed), habits, np.full(n, p_partial))


def drawn(center: float, disputed: bool, terms: int, n: int = 400_000) -> np.ndarray:
    """Days late drawn as the generator draws them."""
    rng = np.random.default_rng(0)
    late = center + rng.normal(0, DELAY_SD, n) + disputed * rng.uniform(*DISPUTE_DAYS, n)
    return np.clip(np.round(late), -(terms - 1), 85)


@pytest.mark.parametrize(
    ("center", "disputed", "terms"),
    [(6.0, False, 30), (12.3, True, 45), (-27.0, False, 30), (80.0, False, 60), (50.0, True, 90)],
)
def test_the_distribution_is_the_generators(center, disputed, terms):
    truth = truth_of([center], [disputed], [terms])
    late = np.arange(-(terms - 1), 86)[None, :]
    pmf = delay_pmf(truth, late)[0]
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    seen = np.bincount((drawn(center, disputed, terms) + terms - 1).astype(int), minlength=len(pmf))
    assert np.abs(seen / seen.sum() - pmf).max() < 0.004  # sampling error of 400,000 draws
    row = truth.iloc[0]
    assert row["true_expected_delay_days"] == pytest.approx(drawn(center, disputed, terms).mean(),
                                                            abs=0.05)  # fmt: skip
    assert row["true_p_paid_by_due"] == pytest.approx(pmf[late[0] <= 0].sum(), abs=1e-9)


def test_the_truth_has_its_columns_and_the_dispute_window():
    truth = truth_of([3.0, 3.0], [False, True], [30, 60])
    assert list(truth.columns) == ["invoice_id", "customer_id", "issue_date", "due_date",
                                   *TRUTH_COLUMNS]  # fmt: skip
    assert truth["true_dispute_days_low"].tolist() == [0.0, 15.0]
    assert truth["true_delay_min"].tolist() == [-29, -59]
    # a dispute adds its mean, 27.5 days
    gap = truth["true_expected_delay_days"].diff().iloc[1]
    assert gap == pytest.approx(27.5, abs=0.1)


def distress(curve: list[float], customer: str = "A", as_of: pd.Timestamp = T) -> pd.DataFrame:
    columns = {f"true_distress_{k}m": [p] for k, p in enumerate(curve, start=1)}
    return pd.DataFrame({"customer_id": [customer], "as_of_date": [as_of], **columns})


def open_rows(due: list[pd.Timestamp], as_of: pd.Timestamp = T) -> pd.DataFrame:
    return pd.DataFrame(
        {"invoice_id": [f"I{i}" for i in range(len(due))], "customer_id": "A",
         "as_of_date": as_of, "due_date": due}
    )  # fmt: skip


def test_an_invoice_open_at_t_is_paid_after_t_given_it_was_not_before():
    # days late ~ N(0, 4): mostly paid near the due date, two days before t; still open at t
    truth = truth_of([0.0], [False], [30], issue=T - 32 * D)
    rows = open_rows([T - 2 * D])
    daily = oracle_days(rows, truth, distress([0.0] * 12), 182)
    assert daily.sum() == pytest.approx(1.0)
    late = np.arange(1, 183) + 2  # days late of each day after t
    pmf = delay_pmf(truth, late[None, :])[0]
    assert daily[0] == pytest.approx(pmf / pmf.sum())


def test_distress_stops_payments_from_its_month_on():
    truth = truth_of([20.0], [False], [30], issue=T - 20 * D)
    rows = open_rows([T + 10 * D])  # paid around day 30 after t: February or March
    free = oracle_days(rows, truth, distress([0.0] * 12), 182)[0]
    half = oracle_days(rows, truth, distress([0.0, 0.5] + [0.5] * 10), 182)[0]
    feb = np.arange(1, 183) <= 28  # 2025-02-01 .. 2025-02-28
    assert half[feb] == pytest.approx(free[feb])
    assert half[~feb] == pytest.approx(0.5 * free[~feb])
    gone = oracle_days(rows, truth, distress([1.0] * 12), 182)[0]
    assert gone.sum() == 0.0
    out = daily_outputs(rows, gone[None, :])
    assert out["p_never_paid"].iloc[0] == 1.0 and np.isnan(out["expected_days_to_pay"].iloc[0])


YEAR_END = pd.Timestamp(
    "2024-11-30"
)  # a month-end payer pays by 31 December (what it meant by 15 January)


@pytest.mark.parametrize(
    ("run", "weekday", "t", "part_paid"),
    [("month_end", -1, T, None), ("weekly", 2, T, None), ("any_day", -1, T, 0),
     ("month_end", -1, YEAR_END, None), ("weekly", 4, T, 1), ("any_day", -1, YEAR_END, 1)],
)  # fmt: skip
def test_runs_and_partial_payments_are_the_generators(run, weekday, t, part_paid):
    """The oracle's settlement days against the generator's, drawn and kept when open at t."""
    # issued 5 days before t, due 25 days after, meant about 20 days later (at a year end,
    # partly by 15 January: paid on 31 December); with a part paid by t: issued 60 days before
    issue = t - (60 if part_paid else 5) * D
    truth = truth_of([20.0], [False], [30], run, weekday, p_partial=0.4, issue=issue)
    due = truth["due_date"].to_numpy("datetime64[D]")
    meant = due + drawn(20.0, False, 30).astype("timedelta64[D]")
    partial = np.random.default_rng(1).random(len(meant)) < 0.4

    def paid(days_later: int) -> np.ndarray:
        later = meant + np.timedelta64(days_later, "D")
        return pay_dates(later, due, issue.to_datetime64(), RUN_TYPES.index(run), weekday)

    first, settle = paid(0), np.where(partial, paid(REST_DAYS), paid(0))
    at = np.datetime64(t, "D")
    keep = settle > at
    payments = None
    if part_paid is not None:  # what the payments say at t: a first part paid by then, or not
        keep &= (partial & (first <= at)) == bool(part_paid)
        payments = pd.DataFrame({"invoice_id": ["I0"], "payment_date": [t - 3 * D]})[:part_paid]
    seen = np.bincount((settle[keep] - at).astype(int), minlength=183)[1:183] / keep.sum()
    rows = open_rows(list(truth["due_date"]), as_of=t)
    daily = oracle_days(rows, truth, distress([0.0] * 12, as_of=t), 182, payments)[0]
    assert daily.sum() == pytest.approx(1.0, abs=1e-6)
    assert np.abs(np.cumsum(seen) - np.cumsum(daily)).max() < 0.01


def test_outputs_are_read_off_the_days():
    rows = open_rows([T + 3 * D])
    daily = np.zeros((1, 182))
    daily[0, [1, 4, 9, 40]] = [0.2, 0.3, 0.3, 0.1]  # days 2, 5, 10, 41; 0.1 never
    frame = daily_outputs(rows, daily)
    out = frame.iloc[0]
    assert out["p_paid_by_due"] == pytest.approx(0.2)  # by day 3
    assert out["p_paid_within_30dpd"] == pytest.approx(0.8)  # by day 33
    assert out["p_paid_within_60dpd"] == pytest.approx(0.9)
    assert out["p_never_paid"] == pytest.approx(0.1)
    assert out["expected_days_to_pay"] == pytest.approx((0.4 + 1.5 + 3.0 + 4.1) / 0.9)
    assert (out["days_to_pay_low"], out["days_to_pay_high"]) == (2, 41)
    assert out["expected_days_late"] == pytest.approx(out["expected_days_to_pay"] - 3)
    assert out["late_pay_date"] == T + 41 * D
    model = timing_outputs(rows.assign(days_to_due=3.0), oracle_cumulative(daily, 26))
    assert list(frame.index) == list(model.index) and list(frame.columns) == list(model.columns)


def test_weekly_cumulative_and_a_short_horizon():
    daily = np.full((2, 14), 1 / 14)
    assert oracle_cumulative(daily, 2) == pytest.approx(np.array([[0.5, 1.0]] * 2))
    with pytest.raises(ValueError, match="14 days < 3 weeks"):
        oracle_cumulative(daily, 3)


def test_missing_truth_is_named():
    truth = truth_of([0.0], [False], [30])
    with pytest.raises(KeyError, match="lacks 1 invoices"):
        oracle_days(open_rows([T, T]), truth, distress([0.0] * 12), 14)
    with pytest.raises(KeyError, match="distress curve"):
        oracle_days(open_rows([T]), truth, distress([0.0] * 12, customer="B"), 14)


@pytest.fixture(scope="module")
def book() -> dict[str, pd.DataFrame]:
    return generate(300, 36, "2021-01-31", 42)


def test_the_oracle_agrees_with_what_the_book_did(book):
    """At month ends whose 26 weeks are in the data: calibrated, and better than the habit.

    The ledger pays on runs and in parts: the oracle's pay dates are the generator's.
    """
    invoices = book["invoices"]
    alive = book["truth"][["customer_id", "as_of_date"]]
    frames = []
    for t in pd.date_range("2022-06-30", periods=6, freq="ME"):
        rows = open_at(invoices, t).drop(columns="paid_date").assign(as_of_date=t)
        rows = rows.merge(alive, on=["customer_id", "as_of_date"])  # not in default at t
        frames.append(rows.join(customer_habits(invoices, t), on="customer_id"))
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.join(invoices.set_index("invoice_id")["paid_date"], on="invoice_id")
    daily = oracle_days(rows, book["invoice_truth"], book["truth"], 182, book["payments"])
    out = daily_outputs(rows, daily)
    paid_day = (rows["paid_date"] - rows["as_of_date"]).dt.days
    never = paid_day.isna().to_numpy()
    assert out["p_never_paid"].mean() == pytest.approx(never.mean(), abs=0.02)
    not_due = (rows["due_date"] > rows["as_of_date"]).to_numpy()
    by_due = (rows["paid_date"] <= rows["due_date"]).to_numpy()
    assert out["p_paid_by_due"][not_due].mean() == pytest.approx(by_due[not_due].mean(), abs=0.02)
    error = (out["expected_pay_date"] - rows["paid_date"]).dt.days.abs()[~never]
    habit = rows["due_date"] + pd.to_timedelta(rows["habit_days_late"].fillna(0).round(), "D")
    habit = habit.where(habit > rows["as_of_date"], rows["as_of_date"] + D)
    habit_error = (habit - rows["paid_date"]).dt.days.abs()[~never]
    assert error.mean() < 0.85 * habit_error.mean()


def test_the_truth_covers_every_invoice_of_the_book(book):
    truth, invoices = book["invoice_truth"], book["invoices"]
    assert truth["invoice_id"].tolist() == invoices["invoice_id"].tolist()
    paid = invoices["paid_date"].notna()
    late = (invoices["paid_date"] - invoices["due_date"]).dt.days[paid]
    # the realised days late scatter around the truth (distress only removes payments)
    assert late.mean() == pytest.approx(truth["true_expected_delay_days"][paid].mean(), abs=1.0)
