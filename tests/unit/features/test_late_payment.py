import numpy as np
import pandas as pd
import pytest

from features.late_payment import add_late_payment_features
from features.timeline import month_index

T = pd.Timestamp


def month(date: str) -> int:
    return int(month_index(pd.DatetimeIndex([date]))[0])


def ledger(*rows: tuple) -> pd.DataFrame:
    """Rows of (customer_id, issue_date, due_date, amount, paid_date or None, disputed)."""
    columns = ["customer_id", "issue_date", "due_date", "amount", "paid_date", "disputed"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("issue_date", "due_date", "paid_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame.insert(0, "invoice_id", [f"I{i}" for i in range(len(frame))])
    return frame


def snapshots_at(*keys: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [c for c, _ in keys], "month": [month(d) for _, d in keys]},
        index=[f"row{i}" for i in range(len(keys))],  # a non-default index must be kept
    )


def book(**limits: float) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(limits), "credit_limit": list(limits.values())})


# Customer A, limit 10,000 (2024 is a leap year):
#   I0 issued 01-01, due 01-31,  1,000, paid 01-31 (on time)
#   I1 issued 01-15, due 02-14,  2,000, paid 03-05 (20 days late; disputed)
#   I2 issued 02-01, due 02-15,  1,000, paid 05-10, after every snapshot: open at t
#   I3 issued 03-10, due 04-09,  3,000, open (not yet due at 03-31)
INVOICES = ledger(
    ("A", "2024-01-01", "2024-01-31", 1000.0, "2024-01-31", False),
    ("A", "2024-01-15", "2024-02-14", 2000.0, "2024-03-05", True),
    ("A", "2024-02-01", "2024-02-15", 1000.0, "2024-05-10", False),
    ("A", "2024-03-10", "2024-04-09", 3000.0, None, False),
)


@pytest.fixture
def features() -> pd.DataFrame:
    snaps = snapshots_at(("A", "2024-01-31"), ("A", "2024-02-29"), ("A", "2024-03-31"))
    return add_late_payment_features(snaps, INVOICES, book(A=10_000.0))


def column(features: pd.DataFrame, name: str) -> list[float]:
    return features[name].round(6).tolist()


def test_on_time_rates(features):
    # Jan: I0 on time; Feb: I0 on time, I1 and I2 open and late; Mar: I1 paid late, I2 late
    for window in (3, 6, 12):
        assert column(features, f"on_time_rate_{window}m") == [
            1.0,
            round(1 / 3, 6),
            round(1 / 3, 6),
        ]


def test_days_late_weighted_counts_open_invoices_to_t(features):
    # Feb 29: I1 open 15 days late, I2 open 14 days -> (0*1000 + 15*2000 + 14*1000) / 4000 = 11
    # Mar 31: I1 paid 20 days late, I2 still open: 45 days -> (0 + 40000 + 45000) / 4000
    assert column(features, "days_late_wavg_12m") == [0.0, 11.0, 21.25]
    assert column(features, "days_late_wavg_3m") == [0.0, 11.0, 21.25]  # all due this quarter
    assert column(features, "days_late_max_12m") == [0.0, 15.0, 45.0]


def test_late_counts_use_strict_thresholds(features):
    # I2 is exactly 45 days late at 03-31: more than 30, not more than 45
    assert column(features, "n_late_30_12m") == [0.0, 0.0, 1.0]
    assert column(features, "n_late_45_12m") == [0.0, 0.0, 0.0]
    assert column(features, "n_late_60_12m") == [0.0, 0.0, 0.0]
    assert column(features, "n_late_90_12m") == [0.0, 0.0, 0.0]
    assert column(features, "consecutive_quarters_late_45") == [0.0, 0.0, 0.0]


def test_dispute_share(features):
    assert column(features, "dispute_share_12m") == [0.0, 0.5, 0.5]


def test_trend_needs_both_quarters(features):
    assert features["days_late_trend_3m"].isna().all()


def test_balance_features(features):
    # open at 01-31: I1 (2,000, not yet due); at 02-29: I1 + I2, both past due;
    # at 03-31: I2 (past due, paid later) + I3 (not due)
    assert column(features, "overdue_share") == [0.0, 1.0, 0.25]
    assert column(features, "limit_utilisation") == [0.2, 0.3, 0.4]


def test_dso_uses_three_months_of_sales(features):
    # open * 91 / invoiced in the last 3 months: 2000*91/3000, 3000*91/4000, 4000*91/7000
    assert column(features, "dso_days") == [round(2000 * 91 / 3000, 6), 68.25, 52.0]


def test_days_since_last_payment(features):
    # payments 01-31 and 03-05 (05-10 is after every snapshot)
    assert column(features, "days_since_last_payment") == [0.0, 29.0, 26.0]


def test_the_snapshot_frame_is_kept_and_not_modified():
    snaps = snapshots_at(("A", "2024-03-31"), ("A", "2024-01-31"))
    before, invoices_before = snaps.copy(), INVOICES.copy()
    out = add_late_payment_features(snaps, INVOICES, book(A=10_000.0))
    pd.testing.assert_frame_equal(snaps, before)
    pd.testing.assert_frame_equal(INVOICES, invoices_before)
    assert list(out.index) == list(snaps.index)
    assert out["days_late_max_12m"].tolist() == [45.0, 0.0]  # rows stay in their order


def test_a_payment_after_t_leaves_the_invoice_open_at_t():
    # the same invoice, paid 03-05 or never: identical at 02-29
    paid = ledger(("A", "2024-01-15", "2024-02-14", 2000.0, "2024-03-05", False))
    unpaid = ledger(("A", "2024-01-15", "2024-02-14", 2000.0, None, False))
    snaps = snapshots_at(("A", "2024-02-29"))
    got = [add_late_payment_features(snaps, inv, book(A=1000.0)).iloc[0] for inv in (paid, unpaid)]
    pd.testing.assert_series_equal(got[0], got[1])
    assert got[0]["days_late_wavg_12m"] == 15.0 and got[0]["limit_utilisation"] == 2.0


@pytest.mark.parametrize(
    ("late_quarters", "expected"),
    [
        ((0, 1, 3), 2.0),  # the streak stops at the first quarter without a 45+ day delay
        ((1, 2), 0.0),  # nothing late in the latest quarter
        ((0, 1, 2, 3), 4.0),
        ((), 0.0),
    ],
)
def test_consecutive_quarters_late_45(late_quarters, expected):
    # t = 2024-12-31; quarter q holds invoices due 3q..3q+2 months before; one due per quarter
    # in its oldest month, paid 50 days late (late quarters) or on the due date
    dues = ["2024-10-15", "2024-07-15", "2024-04-15", "2024-01-15"]
    rows = []
    for q, due in enumerate(dues):
        delay = 50 if q in late_quarters else 0
        paid = str((T(due) + pd.Timedelta(days=delay)).date())
        rows.append(("B", "2024-01-01", due, 100.0, paid, False))
    got = add_late_payment_features(snapshots_at(("B", "2024-12-31")), ledger(*rows), book(B=1e6))
    assert got["consecutive_quarters_late_45"].tolist() == [expected]


def test_late_counts_over_twelve_months():
    # at 2024-12-31: due 10-01 open (91 days), due 08-01 paid 10-01 (61), due 02-01 paid 05-01
    # (90), due 05-15 paid early (0); due 2023-11-15 open but outside the 12 months window
    inv = ledger(
        ("B", "2024-09-01", "2024-10-01", 100.0, None, False),
        ("B", "2024-07-01", "2024-08-01", 100.0, "2024-10-01", False),
        ("B", "2024-01-01", "2024-02-01", 100.0, "2024-05-01", False),
        ("B", "2024-05-01", "2024-05-15", 100.0, "2024-05-10", False),
        ("B", "2023-11-01", "2023-11-15", 100.0, None, False),
    )
    got = add_late_payment_features(snapshots_at(("B", "2024-12-31")), inv, book(B=1e6)).iloc[0]
    assert (got["n_late_30_12m"], got["n_late_45_12m"]) == (3.0, 3.0)
    assert (got["n_late_60_12m"], got["n_late_90_12m"]) == (3.0, 1.0)
    assert got["days_late_max_12m"] == 91.0
    assert got["on_time_rate_3m"] == 0.0 and got["on_time_rate_6m"] == 0.0
    assert got["on_time_rate_12m"] == 0.25
    assert got["consecutive_quarters_late_45"] == 2.0  # Oct-Dec and Jul-Sep; Apr-Jun on time
    # equal amounts: the 12 months average (91 + 61 + 90 + 0) / 4; the last 3 months only
    # the invoice due 10-01; the 3 months before only the one due 08-01
    assert got["days_late_wavg_12m"] == 60.5
    assert got["days_late_wavg_3m"] == 91.0
    assert got["days_late_trend_3m"] == 91.0 - 61.0


def test_a_customer_without_invoices():
    snaps = snapshots_at(("A", "2024-03-31"), ("C", "2024-03-31"))
    got = add_late_payment_features(snaps, INVOICES, book(A=10_000.0, C=500.0)).iloc[1]
    for name in ("on_time_rate_12m", "days_late_wavg_12m", "dso_days", "days_since_last_payment"):
        assert np.isnan(got[name]), name
    assert got["n_late_30_12m"] == 0.0 and got["consecutive_quarters_late_45"] == 0.0
    assert got["overdue_share"] == 0.0 and got["limit_utilisation"] == 0.0


@pytest.mark.parametrize("limit", [0.0, np.nan])
def test_utilisation_without_a_limit_is_missing(limit):
    got = add_late_payment_features(snapshots_at(("A", "2024-03-31")), INVOICES, book(A=limit))
    assert np.isnan(got["limit_utilisation"].iloc[0])


def test_invoices_of_other_customers_do_not_leak():
    other = ledger(("Z", "2024-01-01", "2024-01-10", 5000.0, None, True))
    inv = pd.concat([INVOICES, other], ignore_index=True)
    snaps = snapshots_at(("A", "2024-03-31"))
    pd.testing.assert_frame_equal(
        add_late_payment_features(snaps, inv, book(A=10_000.0, Z=1.0)),
        add_late_payment_features(snaps, INVOICES, book(A=10_000.0)),
    )


@pytest.mark.parametrize("name", ["customer_id", "month"])
def test_snapshots_require_columns(name):
    snaps = snapshots_at(("A", "2024-03-31")).drop(columns=name)
    with pytest.raises(KeyError, match=f"snapshots lack column '{name}'"):
        add_late_payment_features(snaps, INVOICES, book(A=1.0))


@pytest.mark.parametrize(
    "name", ["customer_id", "issue_date", "due_date", "amount", "paid_date", "disputed"]
)
def test_invoices_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_late_payment_features(
            snapshots_at(("A", "2024-03-31")), INVOICES.drop(columns=name), book(A=1.0)
        )


@pytest.mark.parametrize("name", ["customer_id", "credit_limit"])
def test_customers_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_late_payment_features(
            snapshots_at(("A", "2024-03-31")), INVOICES, book(A=1.0).drop(columns=name)
        )
