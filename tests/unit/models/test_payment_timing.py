"""Payment timing: invoice rows as known at t, invoice-week expansion, point in time, outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.payment_distribution import conditional_quantile, timing_outputs
from models.payment_periods import RUN_FEATURES
from models.payment_timing import (
    EVENT,
    WEEK,
    PaymentTimingModel,
    TimingSettings,
    customer_habits,
    expand_invoice_weeks,
    invoice_rows,
    open_invoices,
    period_ends,
    with_outcome,
)

T = pd.Timestamp("2024-03-31")
D = pd.Timedelta(1, "D")


def ledger() -> pd.DataFrame:
    """Five invoices of two customers around ``T``."""
    return pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
            "customer_id": ["A", "A", "B", "B", "B"],
            "issue_date": pd.to_datetime(
                ["2024-01-10", "2024-03-10", "2024-03-01", "2024-04-05", "2023-12-01"]
            ),
            "due_date": pd.to_datetime(
                ["2024-02-09", "2024-04-09", "2024-03-31", "2024-05-05", "2023-12-31"]
            ),
            "amount": [100.0, 200.0, 300.0, 400.0, 500.0],
            "paid_date": pd.to_datetime(["2024-02-20", "2024-04-20", pd.NaT, pd.NaT, "2024-01-30"]),
            "paid_amount": [100.0, 200.0, np.nan, np.nan, 500.0],
            "disputed": [False, True, False, False, False],
        }
    )


def test_open_invoices_are_those_issued_and_unpaid_at_t() -> None:
    rows = open_invoices(ledger(), T)
    assert rows["invoice_id"].tolist() == ["I2", "I3"]  # I4 not issued yet; I1, I5 paid by T
    i2 = rows.set_index("invoice_id").loc["I2"]
    assert (i2["age_days"], i2["days_to_due"], i2["terms_days"], i2["disputed"]) == (21, 9, 30, 1)
    assert rows.set_index("invoice_id").loc["I3", "days_to_due"] == 0


@pytest.mark.parametrize("column", ["invoice_id", "customer_id", "due_date", "paid_date"])
def test_open_invoices_names_a_missing_column(column: str) -> None:
    with pytest.raises(KeyError, match=column):
        open_invoices(ledger().drop(columns=column), T)


def test_habits_count_open_past_due_invoices_late_until_t() -> None:
    habits = customer_habits(ledger(), T)
    assert habits.loc["A", "habit_days_late"] == 11  # I1: due 02-09, paid 02-20
    assert habits.loc["A", "habit_paid_by_due"] == 0
    # B: I5 paid 30 days late; I3 due at T, open: 0 days late (by the due date so far)
    assert habits.loc["B", "habit_days_late"] == 15
    assert habits.loc["B", "habit_paid_by_due"] == 0.5
    assert habits.loc["B", "habit_late_30"] == 0
    assert habits.loc["B", "habit_invoices"] == 2
    # the last paid (undisputed) invoices only: B's I5, not I3 still open
    assert habits.loc["B", "habit_days_late_recent"] == 30
    assert habits.loc["B", "habit_days_late_undisputed"] == 15


def test_habits_leave_the_disputed_invoices_out_of_the_undisputed_and_recent() -> None:
    later = T + 60 * D  # I2 (disputed, 11 days late) and I1 (11 days late) paid by then
    ledger_ = ledger().assign(paid_date=ledger()["paid_date"].where(
        ledger()["invoice_id"] != "I2", T + 40 * D))  # fmt: skip
    habits = customer_habits(ledger_, later)
    assert habits.loc["A", "habit_days_late"] == (11 + 31) / 2
    assert habits.loc["A", "habit_days_late_undisputed"] == 11
    assert habits.loc["A", "habit_days_late_recent"] == 11


def rows_with(paid: list, as_of: pd.Timestamp = T, days_to_due: float = 10) -> pd.DataFrame:
    n = len(paid)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "as_of_date": as_of,
            "paid_date": pd.to_datetime(paid),
            "days_to_due": float(days_to_due),
            "x": np.arange(n, dtype=float),
        }
    )


def test_expansion_stops_at_the_payment_period_the_due_week_split_at_the_due_date() -> None:
    # due in 10 days: periods end at 7, 10 (the due date), 14, ..; paid on day 12
    periods = expand_invoice_weeks(rows_with([T + 12 * D]), ["x"], 26, T + 200 * D)
    assert periods[WEEK].tolist() == pytest.approx([1, 10 / 7, 2])
    assert periods[EVENT].tolist() == [0, 0, 1]
    assert periods["days_past_due_at_week_end"].tolist() == [-3, 0, 4]
    assert periods["period_days"].tolist() == [7, 3, 4]
    # paid on the due date: the event falls in the period that ends on it
    on_due = expand_invoice_weeks(rows_with([T + 10 * D]), ["x"], 26, T + 200 * D)
    assert on_due[EVENT].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("to_due", "first"),
    [(10, [7, 10, 14]), (14, [0, 7, 14]), (-5, [0, 7, 14]), (0, [0, 7, 14]), (400, [0, 7, 14])],
)
def test_period_ends_split_the_due_week_only(to_due: float, first: list[int]) -> None:
    ends = period_ends(np.array([to_due]), 26)
    assert ends.shape == (1, 27) and ends[0, :3].tolist() == first and ends[0, -1] == 182


def test_unpaid_invoices_are_censored_at_the_cutoff_not_dropped() -> None:
    # paid after the cutoff: unknown then, at risk for the 4 whole weeks observed, no event
    periods = expand_invoice_weeks(rows_with([T + 40 * D, pd.NaT]), ["x"], 26, T + 30 * D)
    # due in 10 days: 5 periods end by day 30 (7, 10, 14, 21, 28)
    assert periods.groupby("customer_id").size().tolist() == [5, 5]
    assert periods[EVENT].sum() == 0


def test_never_paid_stays_at_risk_to_the_horizon() -> None:
    periods = expand_invoice_weeks(rows_with([pd.NaT], days_to_due=-3), ["x"], 5, T + 400 * D)
    assert periods[WEEK].tolist() == [1, 2, 3, 4, 5]
    assert periods[EVENT].sum() == 0


def test_expansion_needs_the_outcome_and_a_horizon() -> None:
    with pytest.raises(KeyError, match="paid_date"):
        expand_invoice_weeks(rows_with([T]).drop(columns="paid_date"), ["x"], 5, T)
    with pytest.raises(ValueError, match="horizon"):
        expand_invoice_weeks(rows_with([T]), ["x"], 0, T)


def world(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ledger of 60 customers over 10 months (habit: days late) and their snapshots."""
    rng = np.random.default_rng(seed)
    ends = pd.date_range("2023-01-31", periods=10, freq="ME")
    habit = rng.normal(10, 8, 60)
    parts = []
    for c in range(60):
        issue = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 300, 12)), "D")
        due = issue + 30 * D
        delay = np.round(habit[c] + rng.normal(0, 3, 12))
        parts.append(pd.DataFrame({"customer_id": f"C{c:02d}", "issue_date": issue,
                                   "due_date": due, "paid_date": due + delay * D,
                                   "amount": rng.uniform(100, 1000, 12)}))  # fmt: skip
    inv = pd.concat(parts, ignore_index=True)
    inv["invoice_id"] = [f"I{i:04d}" for i in range(len(inv))]
    inv["disputed"] = False
    inv["paid_amount"] = inv["amount"]
    snaps = pd.DataFrame(
        [(f"C{c:02d}", e, pd.NaT, habit[c]) for c in range(60) for e in ends],
        columns=["customer_id", "as_of_date", "default_date", "days_late_wavg_12m"],
    )
    return inv, snaps


SMALL = TimingSettings(horizon_weeks=12, num_boost_round=20, min_child_samples=5,
                       negative_share=0.5, num_leaves=7)  # fmt: skip
FEATURES = ["amount", "age_days", "days_to_due", "terms_days", "disputed", "habit_days_late",
            "days_late_wavg_12m", *RUN_FEATURES]  # fmt: skip


STRONG = TimingSettings(horizon_weeks=12, num_boost_round=200, learning_rate=0.3,
                        min_child_samples=5, negative_share=1.0, num_leaves=7)  # fmt: skip


def learn_rows(
    inv: pd.DataFrame, snaps: pd.DataFrame, months: tuple[str, ...], cutoff: pd.Timestamp
) -> pd.DataFrame:
    rows = pd.concat([invoice_rows(inv, snaps, pd.Timestamp(m), ["days_late_wavg_12m"])
                      for m in months])  # fmt: skip
    return with_outcome(rows.reset_index(drop=True), inv, cutoff)


def fitted(inv: pd.DataFrame, snaps: pd.DataFrame, cutoff: pd.Timestamp) -> PaymentTimingModel:
    rows = learn_rows(inv, snaps, ("2023-04-30", "2023-05-31", "2023-06-30"), cutoff)
    return PaymentTimingModel(SMALL, FEATURES).fit(rows, cutoff)


def test_nothing_after_the_cutoff_is_used() -> None:
    """Rewrite every fact after the cutoff (payments, invoices, snapshots): same model."""
    inv, snaps = world()
    cutoff = pd.Timestamp("2023-07-31")
    later = inv["paid_date"] > cutoff
    rewritten = inv.assign(paid_date=inv["paid_date"].mask(later, inv["paid_date"] + 77 * D))
    rewritten = rewritten[rewritten["issue_date"] <= cutoff]  # no invoice issued after it
    snaps_rewritten = snaps.assign(days_late_wavg_12m=snaps["days_late_wavg_12m"].where(
        snaps["as_of_date"] <= cutoff, -99.0))  # fmt: skip
    probe = invoice_rows(inv, snaps, pd.Timestamp("2023-06-30"), ["days_late_wavg_12m"])
    a = fitted(inv, snaps, cutoff).cumulative(probe)
    b = fitted(rewritten, snaps_rewritten, cutoff).cumulative(probe)
    np.testing.assert_array_equal(a, b)
    # and a fact before the cutoff does matter (the test can fail)
    earlier = inv.assign(paid_date=inv["paid_date"].mask(~later, inv["paid_date"] + 20 * D))
    assert not np.array_equal(a, fitted(earlier, snaps, cutoff).cumulative(probe))


def test_a_late_payer_is_predicted_to_pay_later() -> None:
    inv, snaps = world()
    model = fitted(inv, snaps, pd.Timestamp("2023-10-31"))
    probe = invoice_rows(inv, snaps, pd.Timestamp("2023-06-30"), ["days_late_wavg_12m"])
    out = model.predict_frame(probe)
    late = probe["habit_days_late"] > probe["habit_days_late"].median()
    assert (
        out.loc[late, "expected_days_late"].mean() > out.loc[~late, "expected_days_late"].mean() + 5
    )
    assert (np.diff(model.cumulative(probe), axis=1) >= -1e-12).all()


def test_a_month_end_payer_is_expected_on_a_month_end() -> None:
    """Half the customers pay at the month end on or after the day they mean: so predicted."""
    inv, snaps = world()
    runner = inv["customer_id"] < "C30"
    inv = inv.assign(
        paid_date=inv["paid_date"].mask(runner, inv["paid_date"] + pd.offsets.MonthEnd(0))
    )
    cutoff = pd.Timestamp("2023-12-31")
    rows = learn_rows(inv, snaps, ("2023-06-30", "2023-07-31", "2023-08-31"), cutoff)
    model = PaymentTimingModel(STRONG, FEATURES).fit(rows, cutoff)
    probe = invoice_rows(inv, snaps, pd.Timestamp("2023-09-30"), ["days_late_wavg_12m"])
    expected = model.predict_frame(probe)["expected_pay_date"]
    after = (expected + pd.offsets.MonthEnd(0) - expected).dt.days
    before = (expected - (expected - pd.offsets.MonthEnd(1))).dt.days
    gap = np.minimum(after, before).where(expected.dt.is_month_end.eq(False), 0)
    runs = (probe["customer_id"] < "C30").to_numpy()
    assert gap[runs].mean() < 2 < gap[~runs].mean()


def test_outputs_of_a_known_distribution() -> None:
    """Paid in week 2 or 3 with 40 % each, 20 % never: read off exactly."""
    cumulative = np.array([[0.0, 0.4, 0.8, 0.8], [0.0, 0.4, 0.8, 0.8]])
    rows = pd.DataFrame({"as_of_date": [T, T], "days_to_due": [14.0, -5.0]})
    out = timing_outputs(rows, cumulative)
    assert out["p_paid_by_due"].tolist() == pytest.approx([0.4, 0.0])
    assert out["p_paid_within_30dpd"].tolist() == pytest.approx([0.8, 0.8])
    assert out["p_never_paid"].tolist() == pytest.approx([0.2, 0.2])
    # weeks 2, 3: their middle days 11, 18 (days 8..14, 15..21 after the as-of date)
    assert out["expected_days_to_pay"].iloc[0] == pytest.approx(14.5)
    assert out["expected_pay_date"].iloc[0] == T + 14 * D
    assert out["expected_days_late"].tolist() == pytest.approx([0.5, 19.5])
    # where the model puts each week's payments on a day (a run), the expectation is there
    days = np.array([[3.0, 13.0, 15.0, 28.0]] * 2)
    assert timing_outputs(rows, cumulative, None, days)["expected_days_to_pay"].iloc[0] == 14.0
    assert conditional_quantile(cumulative[:1], 0.1)[0] == pytest.approx(7 + 7 * 0.2)
    assert conditional_quantile(cumulative[:1], 0.9)[0] == pytest.approx(14 + 7 * 0.8)


def test_never_paid_within_the_horizon_has_no_pay_date() -> None:
    out = timing_outputs(pd.DataFrame({"as_of_date": [T], "days_to_due": [3.0]}), np.zeros((1, 4)))
    assert out["p_never_paid"].iloc[0] == 1
    assert out["expected_pay_date"].isna().all() and out["late_pay_date"].isna().all()


def test_p_paid_by_due_is_read_at_the_due_date_not_inside_its_week() -> None:
    """Everyone pays 2 days after the due date: P(paid by due) near 0, whatever the weekday."""
    inv, snaps = world()
    inv = inv.assign(paid_date=inv["due_date"] + 2 * D)
    cutoff = pd.Timestamp("2023-10-31")
    rows = learn_rows(inv, snaps, ("2023-04-30", "2023-05-31", "2023-06-30"), cutoff)
    model = PaymentTimingModel(STRONG, FEATURES).fit(rows, cutoff)
    probe = rows[rows["days_to_due"] % 7 != 0]  # due inside a week: a linear read gives more
    weekly, by_due = model.curves(probe)
    linear = timing_outputs(probe, weekly)["p_paid_by_due"]
    assert len(probe) > 10 and by_due.mean() < 0.02 and by_due.max() < 0.1
    assert linear.mean() > 0.2  # what reading the due date's week linearly says
