import numpy as np
import pandas as pd
import pytest

from features.labels import TRIGGERS, build_snapshots, days_past_due_defaults, default_dates
from features.timeline import month_index

AS_OF = pd.Timestamp("2024-12-31")
T = pd.Timestamp


def invoices(*rows: tuple) -> pd.DataFrame:
    """Rows of (customer_id, due_date, amount, paid_date or None, disputed)."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "due_date", "amount", "paid_date", "disputed"]
    )
    frame.insert(0, "invoice_id", [f"I{i}" for i in range(len(frame))])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["paid_date"] = pd.to_datetime(frame["paid_date"])
    return frame


def dpd(frame: pd.DataFrame, as_of: pd.Timestamp = AS_OF, materiality: float = 500.0) -> dict:
    got = days_past_due_defaults(frame, as_of, days_past_due=90, materiality=materiality)
    assert list(got.columns) == ["customer_id", "default_date"]
    return dict(zip(got["customer_id"], got["default_date"], strict=True))


# 2024-01-01 + 90 days = 2024-03-31; 2024-02-01 + 90 days = 2024-05-01 (2024 is a leap year)


def test_an_unpaid_material_invoice_defaults_90_days_after_due():
    assert dpd(invoices(("A", "2024-01-01", 600.0, None, False))) == {"A": T("2024-03-31")}


def test_amounts_add_up_to_materiality_at_the_second_crossing():
    frame = invoices(
        ("A", "2024-01-01", 300.0, None, False), ("A", "2024-02-01", 300.0, None, False)
    )
    assert dpd(frame) == {"A": T("2024-05-01")}


def test_an_amount_paid_before_the_second_crossing_no_longer_counts():
    # the first invoice crossed on 03-31 but was paid on 04-10: on 05-01 only 300 is overdue
    frame = invoices(
        ("A", "2024-01-01", 300.0, "2024-04-10", False), ("A", "2024-02-01", 300.0, None, False)
    )
    assert dpd(frame) == {}


@pytest.mark.parametrize(
    ("amount", "materiality", "defaulted"),
    [(499.99, 500.0, False), (500.0, 500.0, True), (10.0, 0.0, True)],
)
def test_materiality_threshold_is_inclusive(amount, materiality, defaulted):
    frame = invoices(("A", "2024-01-01", amount, None, False))
    assert ("A" in dpd(frame, materiality=materiality)) is defaulted


@pytest.mark.parametrize(
    ("paid", "defaulted"),
    [
        ("2024-03-30", False),  # paid the day before crossing
        ("2024-03-31", False),  # paid on the crossing day: never 90 days past due
        ("2024-04-01", True),  # paid after crossing: the default stands (cured later)
        (None, True),
    ],
)
def test_paid_before_crossing_is_not_counted(paid, defaulted):
    got = dpd(invoices(("A", "2024-01-01", 1000.0, paid, False)))
    assert got == ({"A": T("2024-03-31")} if defaulted else {})


def test_disputed_invoices_are_excluded():
    frame = invoices(
        ("A", "2024-01-01", 1000.0, None, True), ("B", "2024-01-01", 1000.0, None, False)
    )
    assert dpd(frame) == {"B": T("2024-03-31")}


@pytest.mark.parametrize(("as_of", "defaulted"), [("2024-03-30", False), ("2024-03-31", True)])
def test_a_crossing_after_the_as_of_date_is_not_counted(as_of, defaulted):
    got = dpd(invoices(("A", "2024-01-01", 1000.0, None, False)), as_of=T(as_of))
    assert ("A" in got) is defaulted


@pytest.mark.parametrize(("n", "amount"), [(2, 200.0), (3, 60.0)])
def test_invoices_crossing_on_the_same_day_are_counted_once(n, amount):
    frame = invoices(*[("A", "2024-01-01", amount, None, False)] * n)
    assert dpd(frame) == {}


def test_invoices_crossing_on_the_same_day_add_up():
    frame = invoices(
        ("A", "2024-01-01", 300.0, None, False), ("A", "2024-01-01", 300.0, None, False)
    )
    assert dpd(frame) == {"A": T("2024-03-31")}


def test_customers_are_kept_apart():
    # 300 each for two customers: neither reaches 500 alone
    frame = invoices(
        ("A", "2024-01-01", 300.0, None, False), ("B", "2024-01-01", 300.0, None, False)
    )
    assert dpd(frame) == {}


def test_no_candidate_gives_an_empty_typed_frame():
    got = days_past_due_defaults(
        invoices(("A", "2024-12-01", 1000.0, None, False)), AS_OF, 90, 500.0
    )
    assert got.empty and list(got.columns) == ["customer_id", "default_date"]
    assert pd.api.types.is_datetime64_any_dtype(got["default_date"])


@pytest.mark.parametrize("column", ["customer_id", "due_date", "amount", "paid_date", "disputed"])
def test_days_past_due_defaults_requires_each_column(column):
    frame = invoices(("A", "2024-01-01", 1000.0, None, False)).drop(columns=column)
    with pytest.raises(KeyError, match=column):
        days_past_due_defaults(frame, AS_OF, 90, 500.0)


def events(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "event_date", "event_type"])
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame


def defaults_table(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "default_date", "default_type"])
    frame["default_date"] = pd.to_datetime(frame["default_date"])
    return frame


def as_records(frame: pd.DataFrame) -> dict:
    assert list(frame.columns) == ["customer_id", "default_date", "default_trigger"]
    assert frame["customer_id"].is_unique
    return {r.customer_id: (r.default_date, r.default_trigger) for r in frame.itertuples()}


def test_default_dates_earliest_trigger_wins():
    got = default_dates(
        invoices(
            ("A", "2024-01-01", 1000.0, None, False),  # dpd on 2024-03-31
            ("B", "2024-01-01", 1000.0, None, False),  # dpd on 2024-03-31
            ("C", "2024-01-01", 1000.0, None, False),  # dpd on 2024-03-31
        ),
        events(
            ("A", "2024-02-15", "insolvency_filing"),  # before A's dpd date: wins
            ("B", "2024-06-01", "insolvency_filing"),  # after B's dpd date: loses
            ("C", "2024-01-15", "legal_dispute"),  # not a default trigger
        ),
        defaults_table(("C", "2024-05-01", "write_off"), ("D", "2024-07-01", "insurance_claim")),
        AS_OF,
    )
    assert as_records(got) == {
        "A": (T("2024-02-15"), "insolvency_filing"),
        "B": (T("2024-03-31"), "days_past_due"),
        "C": (T("2024-03-31"), "days_past_due"),
        "D": (T("2024-07-01"), "defaults_table"),
    }
    assert set(got["default_trigger"]) <= set(TRIGGERS)


def test_default_dates_ignores_triggers_after_the_as_of_date():
    got = default_dates(
        None,
        events(("A", "2025-01-01", "insolvency_filing"), ("B", "2024-12-31", "insolvency_filing")),
        defaults_table(("C", "2025-02-01", "write_off")),
        AS_OF,
    )
    assert as_records(got) == {"B": (T("2024-12-31"), "insolvency_filing")}


def test_default_dates_uses_the_dpd_parameters():
    frame = invoices(("A", "2024-01-01", 100.0, None, False))
    assert default_dates(frame, None, None, AS_OF).empty  # 100 < the default 500
    got = default_dates(frame, None, None, AS_OF, days_past_due=30, materiality=100.0)
    assert as_records(got) == {"A": (T("2024-01-31"), "days_past_due")}


def test_default_dates_without_any_table_is_empty():
    got = default_dates(None, None, None, AS_OF)
    assert got.empty
    assert list(got.columns) == ["customer_id", "default_date", "default_trigger"]


def test_default_dates_requires_the_event_columns():
    with pytest.raises(KeyError, match="event_type"):
        default_dates(
            None, events(("A", "2024-01-01", "x")).drop(columns="event_type"), None, AS_OF
        )


def test_default_dates_requires_the_defaults_date():
    table = defaults_table(("A", "2024-01-01", "write_off")).drop(columns="default_date")
    with pytest.raises(KeyError, match="default_date"):
        default_dates(None, None, table, AS_OF)


def book(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "relationship_start"])
    frame["relationship_start"] = pd.to_datetime(frame["relationship_start"])
    return frame


def known_defaults(**dates: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(dates),
            "default_date": pd.to_datetime(list(dates.values())),
            "default_trigger": "defaults_table",
        }
    )


JAN = int(month_index(pd.DatetimeIndex(["2024-01-31"]))[0])
JUNE_END = T("2024-06-30")
FROM_JAN = list(range(JAN, JAN + 24))  # months after the as-of date are dropped
NAN = None  # a missing label, as written by labels()


def labels(snapshots: pd.DataFrame, customer: str) -> dict:
    """As-of date -> label of one customer, with None for a missing label (NaN != NaN)."""
    rows = snapshots[snapshots["customer_id"] == customer]
    return {
        str(d.date()): None if np.isnan(lab) else lab
        for d, lab in zip(rows["as_of_date"], rows["label"], strict=True)
    }


@pytest.fixture
def snapshots() -> pd.DataFrame:
    # six month ends (Jan..Jun 2024), horizon 3: Jan, Feb, Mar end at or before 06-30 -> labelled
    return build_snapshots(
        book(
            ("A", "2020-01-01"),
            ("B", "2024-03-15"),  # joins mid-March: first snapshot 03-31
            ("C", "2020-01-01"),  # defaults 04-15
            ("D", "2020-01-01"),  # defaults 05-31, the end of Feb's horizon
            ("E", "2020-01-01"),  # defaults on the snapshot date 02-29
        ),
        known_defaults(C="2024-04-15", D="2024-05-31", E="2024-02-29"),
        months=FROM_JAN,
        as_of_date=JUNE_END,
        horizon_months=3,
    )


def test_snapshot_columns_and_dates(snapshots):
    assert list(snapshots.columns) == [
        "customer_id",
        "month",
        "as_of_date",
        "default_date",
        "label",
    ]
    a = snapshots[snapshots["customer_id"] == "A"]
    assert a["month"].tolist() == list(range(JAN, JAN + 6))
    assert a["as_of_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
        "2024-05-31",
        "2024-06-30",
    ]


def test_labels_at_the_horizon_edges(snapshots):
    # Mar: horizon ends 06-30 = as-of date, still observed; Apr: ends 07-31, unlabelled
    assert labels(snapshots, "A") == {
        "2024-01-31": 0.0,
        "2024-02-29": 0.0,
        "2024-03-31": 0.0,
        "2024-04-30": NAN,
        "2024-05-31": NAN,
        "2024-06-30": NAN,
    }


def test_relationship_start_gates_the_first_snapshot(snapshots):
    assert list(labels(snapshots, "B")) == ["2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"]


def test_customers_in_default_are_excluded_and_earlier_rows_labelled(snapshots):
    assert labels(snapshots, "C") == {"2024-01-31": 1.0, "2024-02-29": 1.0, "2024-03-31": 1.0}
    # Jan's window (01-31, 04-30] misses 05-31; Feb's (02-29, 05-31] includes it
    assert labels(snapshots, "D") == {
        "2024-01-31": 0.0,
        "2024-02-29": 1.0,
        "2024-03-31": 1.0,
        "2024-04-30": NAN,
    }
    assert labels(snapshots, "E") == {"2024-01-31": 1.0}


def test_a_mid_month_as_of_date_ends_at_the_last_complete_month():
    got = build_snapshots(
        book(("A", "2020-01-01")), known_defaults(Z="2024-01-10"), FROM_JAN, T("2024-06-15"), 3
    )
    # May is the last snapshot; Mar's horizon ends 06-30 > 06-15: unlabelled
    assert labels(got, "A") == {
        "2024-01-31": 0.0,
        "2024-02-29": 0.0,
        "2024-03-31": NAN,
        "2024-04-30": NAN,
        "2024-05-31": NAN,
    }


def test_build_snapshots_takes_the_output_of_default_dates():
    none = default_dates(None, None, None, JUNE_END)
    got = build_snapshots(book(("A", "2020-01-01")), none, FROM_JAN, JUNE_END, horizon_months=1)
    assert got["label"].tolist()[:5] == [0.0] * 5 and np.isnan(got["label"].iloc[5])
    assert got["default_date"].isna().all()


def test_an_as_of_date_before_the_first_month_is_an_error():
    with pytest.raises(ValueError, match="no snapshot months"):
        build_snapshots(
            book(("A", "2020-01-01")), known_defaults(A="2023-01-01"), FROM_JAN, T("2023-12-31"), 3
        )


@pytest.mark.parametrize("column", ["customer_id", "relationship_start"])
def test_build_snapshots_requires_customer_columns(column):
    customers = book(("A", "2020-01-01")).drop(columns=column)
    with pytest.raises(KeyError, match=column):
        build_snapshots(customers, known_defaults(A="2024-03-01"), FROM_JAN, JUNE_END, 3)


@pytest.mark.parametrize("column", ["customer_id", "default_date"])
def test_build_snapshots_requires_default_columns(column):
    defaults = known_defaults(A="2024-03-01").drop(columns=column)
    with pytest.raises(KeyError, match=column):
        build_snapshots(book(("A", "2020-01-01")), defaults, FROM_JAN, JUNE_END, 3)
