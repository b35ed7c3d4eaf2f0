from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from features.build import (
    FeatureSettings,
    add_cross_sectional_features,
    build_customer_features,
    build_features,
    snapshot_months,
)
from features.contract import TABLES, cast_table
from features.facts import last_fact_dates
from features.partitions import SHARED_TABLES, combine_partitions, partition_tables
from pipelines.sources.synthetic import generate

AS_OF = pd.Timestamp("2023-06-30")
SETTINGS = FeatureSettings()


def us(*dates: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(dates))).astype("datetime64[us]")


@pytest.fixture
def tiny() -> dict[str, pd.DataFrame]:
    """Three customers, not in id order; C1 defaults before the first snapshot month (90 days
    past due), C3's insolvency filing lies after the as-of date, X9 is in no table but defaults.
    """
    customers = pd.DataFrame(
        {
            "customer_id": ["C2", "C1", "C3"],
            "region": ["N", "S", "N"],
            "industry": ["A", "B", "A"],
            "annual_revenue": [1e6, 2e6, 3e6],
            "relationship_start": us("2022-01-01", "2022-01-01", "2022-01-01"),
            "credit_limit": [1000.0, 1000.0, 2000.0],
            "payment_terms_days": [30, 30, 60],
        }
    )
    invoices = pd.DataFrame(
        {
            "invoice_id": ["i1", "i2", "i3", "i4"],
            "customer_id": ["C1", "C2", "C3", "C2"],
            "issue_date": us("2022-01-15", "2022-02-01", "2022-03-01", "2022-09-01"),
            "due_date": us("2022-02-14", "2022-03-03", "2022-04-30", "2022-10-01"),
            "amount": [800.0, 300.0, 400.0, 250.0],
            "paid_date": us(None, "2022-03-01", "2022-07-15", "2022-10-20"),
            "disputed": [False, False, False, False],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C2", "C3"],
            "event_date": pd.to_datetime(["2022-08-10", "2023-09-30"]),  # ns, unlike the rest
            "event_type": ["legal_dispute", "insolvency_filing"],
        }
    )
    defaults = pd.DataFrame(
        {"customer_id": ["X9"], "default_date": us("2022-03-31"), "default_type": ["other"]}
    )
    return {"customers": customers, "invoices": invoices, "events": events, "defaults": defaults}


def partitioned_build(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, n: int) -> tuple:
    months = snapshot_months(tables, as_of, SETTINGS)
    shared = {name: tables[name] for name in SHARED_TABLES if name in tables}
    parts = partition_tables(tables, n)
    results = [build_customer_features(part | shared, as_of, SETTINGS, months) for part in parts]
    snaps, defaults = combine_partitions(results)
    return add_cross_sectional_features(snaps, defaults, tables["customers"]), defaults


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_partitioned_build_equals_whole_build(tiny, n):
    snaps, defaults, _ = build_features(tiny, AS_OF, SETTINGS)
    assert list(defaults["customer_id"]) == ["C1", "X9"]
    assert defaults["default_date"].dtype == "datetime64[ns]"
    got_snaps, got_defaults = partitioned_build(tiny, AS_OF, n)
    pd.testing.assert_frame_equal(got_snaps, snaps, check_exact=True)
    pd.testing.assert_frame_equal(got_defaults, defaults, check_exact=True)


@pytest.mark.parametrize("n", [1, 3, 20, 50])
def test_partitioned_build_equals_whole_build_on_a_synthetic_book(n):
    tables = generate(n_customers=20, n_months=24, start="2021-01-31", seed=3)
    tables.pop("truth")
    as_of = tables["industry_index"]["month"].max()
    snaps, defaults, _ = build_features(tables, as_of, SETTINGS)
    assert len(snaps) > 100
    got_snaps, got_defaults = partitioned_build(tables, as_of, n)
    pd.testing.assert_frame_equal(got_snaps, snaps, check_exact=True)
    pd.testing.assert_frame_equal(got_defaults, defaults, check_exact=True)


def test_partitions_are_consecutive_customers_of_the_book(tiny):
    parts = partition_tables(tiny, 2)
    assert [list(p["customers"]["customer_id"]) for p in parts] == [["C2", "C1"], ["C3"]]
    assert [list(p["invoices"]["invoice_id"]) for p in parts] == [["i1", "i2", "i4"], ["i3"]]
    assert list(parts[0]["defaults"]["customer_id"]) == ["X9"]  # not in the book: first one
    assert parts[1]["defaults"].empty


def test_more_partitions_than_customers_gives_one_per_customer(tiny):
    parts = partition_tables(tiny, 10)
    assert [list(p["customers"]["customer_id"]) for p in parts] == [["C2"], ["C1"], ["C3"]]
    assert sum(len(p["events"]) for p in parts) == len(tiny["events"])


def test_shared_and_unknown_tables_are_left_out(tiny):
    index = pd.DataFrame({"industry": ["A"], "month": us("2022-01-31"), "value": [1.0]})
    parts = partition_tables(tiny | {"industry_index": index, "truth": tiny["customers"]}, 2)
    assert all(set(p) == {"customers", "invoices", "events", "defaults"} for p in parts)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: {k: v for k, v in t.items() if k != "customers"}, "customers table"),
        (lambda t: t | {"customers": pd.concat([t["customers"]] * 2)}, "duplicates"),
    ],
)
def test_partition_tables_rejects_bad_books(tiny, change, message):
    with pytest.raises(ValueError, match=message):
        partition_tables(change(tiny), 2)


def test_partition_tables_needs_a_positive_count(tiny):
    with pytest.raises(ValueError, match="at least 1"):
        partition_tables(tiny, 0)


def test_combine_needs_partitions():
    with pytest.raises(ValueError, match="no partitions"):
        combine_partitions([])


def test_build_features_needs_customers(tiny):
    with pytest.raises(ValueError, match="customers table"):
        build_features({"invoices": tiny["invoices"]}, AS_OF, SETTINGS)


def test_a_book_of_customers_attributes_and_defaults_is_dated_by_them(tiny):
    """No ledger, statements or events: the attributes' known dates start the snapshots."""
    tables = {"customers": tiny["customers"]}
    tables["attributes"] = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"] * 2,
            "known_date": us(*["2022-01-31"] * 3, *["2022-07-31"] * 3),
            "bureau_score": [610.0, 700.0, 540.0, 600.0, 720.0, 500.0],
        }
    )
    tables["defaults"] = pd.DataFrame(
        {"customer_id": ["C3"], "default_date": us("2022-11-30"), "default_type": ["other"]}
    )
    snaps, defaults, _ = build_features(tables, AS_OF, FeatureSettings(warmup_months=0))
    assert snaps["as_of_date"].min() == pd.Timestamp("2022-01-31")
    first = snaps[snaps["as_of_date"] == pd.Timestamp("2022-01-31")].set_index("customer_id")
    assert first.loc["C3", "attr_bureau_score"] == 540.0
    labelled = snaps.dropna(subset=["label"]).set_index(["customer_id", "as_of_date"])
    assert labelled.loc[("C3", pd.Timestamp("2022-01-31")), "label"] == 1  # defaults in 10 months
    assert labelled.loc[("C1", pd.Timestamp("2022-01-31")), "label"] == 0
    assert len(defaults) == 1


def test_no_snapshot_after_the_relationship_ends_or_once_the_data_goes_quiet():
    months = pd.date_range("2021-01-31", "2024-12-31", freq="ME")
    given = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "relationship_start": pd.to_datetime(["2021-01-01"] * 3),
            "relationship_end": pd.to_datetime([None, "2023-05-15", None]),
        }
    )
    customers = cast_table(given, TABLES["customers"])  # the other fields blank
    # A and B report every month; C stops after March 2022
    attributes = pd.DataFrame(
        {
            "customer_id": ["A"] * 48 + ["B"] * 48 + ["C"] * 15,
            "known_date": [*months, *months, *months[:15]],
            "score": 1.0,
        }
    )
    tables = {"customers": customers, "attributes": attributes}
    settings = FeatureSettings(warmup_months=0, max_fact_age_months=24)
    snaps, _, _ = build_features(tables, pd.Timestamp("2024-12-31"), settings)
    last = snaps.groupby("customer_id")["as_of_date"].max()
    assert last["A"] == pd.Timestamp("2024-12-31")
    assert last["B"] == pd.Timestamp("2023-04-30")  # ended 15 May 2023
    assert last["C"] == pd.Timestamp("2024-03-31")  # its last row is 24 months old then
    unlimited = replace(settings, max_fact_age_months=None)
    snaps, _, _ = build_features(tables, pd.Timestamp("2024-12-31"), unlimited)
    assert snaps.groupby("customer_id")["as_of_date"].max()["C"] == pd.Timestamp("2024-12-31")


def test_last_fact_dates_are_each_customers_latest_fact_on_or_before_each_row():
    tables = generate(n_customers=30, n_months=24, start="2021-01-31", seed=11)
    events = tables["events"]
    tables["events"] = pd.concat(  # a fact of a customer no row has, and one undated
        [events, events.iloc[:1].assign(customer_id="nobody"), events.iloc[:1].assign(
            event_date=pd.NaT)], ignore_index=True
    )  # fmt: skip
    ids = tables["customers"]["customer_id"]
    months = pd.date_range("2020-12-31", "2022-09-30", freq="ME")
    at = pd.DataFrame(
        {
            "customer_id": list(ids[:20]) * 3,
            "as_of_date": list(months[::7][:3].repeat(20)),
        }
    ).sample(frac=1.0, random_state=0)  # rows in no particular order
    facts = pd.concat(
        [
            tables[name][["customer_id", column]].set_axis(["customer_id", "fact"], axis=1)
            for name, column in [
                ("invoices", "issue_date"),
                ("invoices", "paid_date"),
                ("events", "event_date"),
                ("financials", "period_end"),
                ("defaults", "default_date"),
            ]
        ]
    ).astype({"fact": "datetime64[ns]"})
    expected = [
        facts.loc[(facts["customer_id"] == c) & (facts["fact"] <= t), "fact"].max()
        for c, t in zip(at["customer_id"], at["as_of_date"], strict=True)
    ]
    got = last_fact_dates(tables, at)
    assert got.index.equals(at.index)
    assert got.isna().any() and got.notna().any()  # before anyone's first fact, and after
    pd.testing.assert_series_equal(
        got, pd.Series(expected, index=at.index, dtype="datetime64[ns]"), check_names=False
    )
