"""Lifetime ECL and the provision matrix on hand-made invoices, answers computed by hand."""

import numpy as np
import pandas as pd
import pytest

from models import ecl
from models.hazard import DAYS_PER_MONTH

AS_OF = pd.Timestamp("2025-06-30")
LGD = 0.45
H = 0.01  # a flat monthly hazard: PD within k months = 1 - (1 - H) ** k


def flat_terms(ids: list[str], hazard: float = H) -> pd.DataFrame:
    k = np.arange(1, 13)
    return pd.DataFrame(
        [1 - (1 - hazard) ** k] * len(ids), index=pd.Index(ids, name="customer_id"),
        columns=[f"pd_{m}m" for m in k],
    )  # fmt: skip


def invoice(customer, issue, due, amount, paid=None):
    return {
        "customer_id": customer, "issue_date": pd.Timestamp(issue), "due_date": pd.Timestamp(due),
        "amount": float(amount), "paid_date": pd.Timestamp(paid) if paid else pd.NaT,
    }  # fmt: skip


@pytest.fixture
def ledger() -> pd.DataFrame:
    return pd.DataFrame(
        [
            invoice("A", "2025-06-10", AS_OF + pd.Timedelta(days=15), 1000),  # due in 15 days
            invoice("B", "2025-04-01", AS_OF - pd.Timedelta(days=40), 2000),  # 40 days overdue
            invoice("C", "2025-06-01", AS_OF + pd.Timedelta(days=400), 500),  # beyond 12 months
            invoice("D", "2025-03-01", "2025-04-01", 700, paid="2025-04-20"),  # paid: none open
            invoice("D", "2025-07-05", "2025-08-05", 900),  # issued after the as-of date
        ]
    )


def test_lifetime_ecl_per_invoice_by_hand(ledger):
    terms = flat_terms(["A", "B", "C", "D"])
    delay = pd.Series({"A": 10.0, "B": 10.0, "C": 0.0, "D": 5.0})
    out = ecl.invoice_ecl(ledger, AS_OF, terms, delay, LGD).set_index("customer_id")
    # A: 15 days to the due date + 10 days' delay, linear within the first month
    a_life = 25 / DAYS_PER_MONTH
    assert out.loc["A", "life_months"] == pytest.approx(a_life)
    assert out.loc["A", "ecl"] == pytest.approx(1000 * LGD * a_life * H)
    # B: overdue, so only the expected delay is left
    assert out.loc["B", "ecl"] == pytest.approx(2000 * LGD * (10 / DAYS_PER_MONTH) * H)
    assert out.loc["B", "bucket"] == "31-60"
    # C: 400 days, past 12 months: the flat hazard goes on
    c_life = 400 / DAYS_PER_MONTH
    assert out.loc["C", "ecl"] == pytest.approx(500 * LGD * (1 - (1 - H) ** c_life))
    assert out.loc["C", "bucket"] == "current"
    assert "D" not in out.index
    per_customer = ecl.customer_ecl(out.reset_index(), pd.Index(["A", "B", "C", "D"]))
    assert per_customer["D"] == 0.0
    assert per_customer.sum() == pytest.approx(out["ecl"].sum())


def test_lifetime_ecl_is_deterministic_and_leaves_its_inputs(ledger):
    terms, delay = flat_terms(["A", "B", "C"]), pd.Series({"A": 3.0, "B": 8.0, "C": 1.0})
    before = ledger.copy()
    first = ecl.invoice_ecl(ledger, AS_OF, terms, delay, LGD)
    pd.testing.assert_frame_equal(first, ecl.invoice_ecl(ledger, AS_OF, terms, delay, LGD))
    pd.testing.assert_frame_equal(ledger, before)


def test_pd_over_interpolates_then_holds_the_last_hazard():
    # not flat: hazards 2% in month 1, then 1%
    hazards = np.array([0.02] + [0.01] * 11)
    cumulative = (1 - np.cumprod(1 - hazards))[None, :]
    months = np.array([0.0, 0.5, 12.0, 14.5])
    got = ecl.pd_over(np.repeat(cumulative, 4, axis=0), months)
    f12 = cumulative[0, -1]
    expected = [0.0, 0.01, f12, 1 - (1 - f12) * 0.99**2.5]
    assert got == pytest.approx(expected)
    assert np.all(np.diff(ecl.pd_over(np.repeat(cumulative, 50, 0), np.linspace(0, 30, 50))) >= 0)


def test_pd_over_one_month_curve_and_certain_default():
    assert ecl.pd_over(np.array([[0.1]]), np.array([3.0])) == pytest.approx(1 - 0.9**3)
    assert ecl.pd_over(np.array([[1.0, 1.0]]), np.array([5.0])) == pytest.approx(1.0)


def test_pd_over_rejects_a_negative_life():
    with pytest.raises(ValueError, match="negative"):
        ecl.pd_over(np.array([[0.1, 0.2]]), np.array([-1.0]))


def test_expected_delay_falls_back_to_the_sector_then_the_book():
    days = pd.Series([10.0, 30.0, np.nan, np.nan, -2.0], index=list("abcde"))
    sector = pd.Series(["x", "x", "x", "y", "z"], index=list("abcde"))
    got = ecl.expected_delay(days, sector)
    assert got.tolist() == [10.0, 30.0, 20.0, 10.0, 0.0]  # d: the book's median of 10, 30, -2
    nobody = ecl.expected_delay(pd.Series([np.nan]), pd.Series(["x"]))
    assert nobody.tolist() == [0.0]


@pytest.mark.parametrize("column", ["customer_id", "due_date", "amount", "paid_date"])
def test_invoice_ecl_needs_each_ledger_column(ledger, column):
    with pytest.raises(KeyError, match=column):
        ecl.invoice_ecl(ledger.drop(columns=column), AS_OF, flat_terms(["A"]),
                        pd.Series({"A": 0.0}), LGD)  # fmt: skip


def test_invoice_ecl_checks_terms_delay_and_lgd(ledger):
    terms, delay = flat_terms(["A"]), pd.Series({"A": 0.0})
    with pytest.raises(KeyError, match="pd_1m"):
        ecl.invoice_ecl(ledger, AS_OF, terms.drop(columns="pd_3m"), delay, LGD)
    with pytest.raises(ValueError, match="expected delay"):
        ecl.invoice_ecl(ledger, AS_OF, terms, pd.Series({"B": 1.0}), LGD)
    with pytest.raises(ValueError, match="lgd"):
        ecl.invoice_ecl(ledger, AS_OF, terms, delay, 0.0)


# the provision matrix: A's first invoice is lost (A defaults on 2023-06-15 owing it), A's
# second is paid before the default, B pays; at 2023-06-30 A is in default and left out
HISTORY = pd.DataFrame(
    [
        invoice("A", "2023-01-05", "2023-02-04", 100),
        invoice("A", "2023-01-20", "2023-02-19", 50, paid="2023-03-10"),
        invoice("B", "2023-01-10", "2023-02-09", 300, paid="2023-02-20"),
    ]
)
DEFAULTS = pd.DataFrame({"customer_id": ["A"], "default_date": [pd.Timestamp("2023-06-15")]})
MONTHS = pd.date_range("2023-01-31", "2023-06-30", freq="ME")


def test_loss_history_by_hand():
    history = ecl.loss_history(HISTORY, DEFAULTS, MONTHS, horizon=12)
    jan = history[history["month"] == "2023-01-31"]
    rows = jan[["customer_id", "bucket", "amount", "lost"]].itertuples(index=False, name=None)
    assert sorted(rows) == [
        ("A", "current", 50.0, 0.0), ("A", "current", 100.0, 100.0), ("B", "current", 300.0, 0.0)
    ]  # fmt: skip
    feb = history[history["month"] == "2023-02-28"]  # 24 and 9 days past due; B paid
    assert sorted(feb[["bucket", "lost"]].itertuples(index=False, name=None)) == [
        ("1-30", 0.0), ("1-30", 100.0)
    ]  # fmt: skip
    a_first = history[history["amount"] == 100].set_index("month")["bucket"]
    assert a_first.tolist() == ["current", "1-30", "31-60", "61-90", "90+"]
    assert not (history["month"] == "2023-06-30").any()  # A in default, nothing else open


def test_a_default_beyond_the_horizon_is_not_a_loss():
    ledger = pd.DataFrame([invoice("C", "2023-01-25", "2023-03-31", 80)])
    defaults = pd.DataFrame({"customer_id": ["C"], "default_date": [pd.Timestamp("2024-03-15")]})
    months = pd.DatetimeIndex(["2023-01-31", "2023-03-31"])
    history = ecl.loss_history(ledger, defaults, months, horizon=12)
    assert history["lost"].tolist() == [0.0, 80.0]


def test_loss_rates_by_hand_with_an_interval():
    history = ecl.loss_history(HISTORY, DEFAULTS, MONTHS, horizon=12)
    rates = ecl.loss_rates(history, LGD, n_boot=300, seed=1)
    assert list(rates.index) == ecl.BUCKETS
    # current: 100 lost of 450; 1-30: 100 of 150; later buckets: A's lost invoice alone
    assert rates["loss_rate"].tolist() == pytest.approx(
        [LGD * 100 / 450, LGD * 100 / 150, LGD, LGD, LGD]
    )
    assert rates.loc["current", ["invoices", "customers"]].tolist() == [3, 2]
    assert (rates["low"] <= rates["loss_rate"] + 1e-12).all()
    assert (rates["high"] >= rates["loss_rate"] - 1e-12).all()
    assert rates.loc["current", "low"] == 0.0  # a resample of B alone loses nothing
    again = ecl.loss_rates(history, LGD, n_boot=300, seed=1)
    pd.testing.assert_frame_equal(rates, again)


def test_loss_rates_of_an_empty_history():
    empty = ecl.loss_history(HISTORY, DEFAULTS, pd.DatetimeIndex([]), horizon=12)
    rates = ecl.loss_rates(empty, LGD)
    assert rates["amount"].tolist() == [0.0] * 5
    assert rates["loss_rate"].isna().all() and rates["low"].isna().all()


def test_provision_matrix_applies_the_rates_by_bucket():
    rates = pd.DataFrame(
        {"loss_rate": [0.01, 0.05, 0.1, 0.2, 0.4], "low": [0.0] * 5, "high": [0.5] * 5},
        index=ecl.BUCKETS,
    )
    current = pd.DataFrame(
        {"bucket": ["current", "current", "90+"], "amount": [100.0, 300.0, 50.0],
         "ecl": [1.0, 2.0, 9.0]}
    )  # fmt: skip
    matrix = ecl.provision_matrix(rates, current)
    assert matrix["amount"].tolist() == [400.0, 0.0, 0.0, 0.0, 50.0]
    assert matrix["invoices"].tolist() == [2, 0, 0, 0, 1]
    assert matrix["provision"].tolist() == pytest.approx([4.0, 0.0, 0.0, 0.0, 20.0])
    assert matrix["provision_high"].tolist() == pytest.approx([200.0, 0, 0, 0, 25.0])
    assert matrix["model_ecl"].tolist() == [3.0, 0.0, 0.0, 0.0, 9.0]
    without = ecl.provision_matrix(rates, current.drop(columns="ecl"))
    assert without["model_ecl"].isna().all()


def test_outcome_months_stop_a_horizon_before_the_data_end():
    months = ecl.outcome_months(HISTORY, pd.Timestamp("2024-03-31"), horizon=12)
    assert months[0] == pd.Timestamp("2023-01-31") and months[-1] == pd.Timestamp("2023-03-31")
    with pytest.raises(ValueError, match="horizon"):
        ecl.outcome_months(HISTORY, AS_OF, horizon=0)
