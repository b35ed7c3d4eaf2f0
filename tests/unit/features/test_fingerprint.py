"""Fingerprints: a changed cell changes them, what was not known at ``t`` does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from features.build import FeatureSettings
from features.fingerprint import row_hashes
from features.incremental import DATED, History, known_at
from pipelines.sources.synthetic import generate

SETTINGS = FeatureSettings()


def frame():
    return pd.DataFrame(
        {
            "id": pd.array(["a", "bb", None, "None"], dtype="str"),
            "amount": [1.0, np.nan, 0.0, -0.5],
            "day": pd.to_datetime(["2021-01-31", None, "2021-03-31", "2021-04-30"]),
            "flag": [True, False, True, False],
        }
    )


def test_row_hashes_are_the_same_however_the_text_is_chunked():
    one = frame()
    chunks = pa.chunked_array([["a", "bb"], [None, "None"]], type=pa.large_string())
    two = one.assign(id=pd.Series(pd.arrays.ArrowExtensionArray(chunks)).astype("str"))
    np.testing.assert_array_equal(row_hashes(one), row_hashes(two))


@pytest.mark.parametrize(
    ("column", "value"),
    [("id", "b"), ("id", None), ("amount", 2.0), ("day", pd.NaT), ("flag", False)],
)
def test_a_changed_cell_changes_its_row_only(column, value):
    before = frame()
    after = before.copy()
    after.loc[0, column] = value
    changed = row_hashes(before) != row_hashes(after)
    assert list(changed) == [True, False, False, False]


def test_missing_values_differ_from_their_text_and_from_zero():
    hashes = row_hashes(pd.DataFrame({"id": pd.array([None, "None"], dtype="str")}))
    assert hashes[0] != hashes[1]
    hashes = row_hashes(pd.DataFrame({"amount": [np.nan, 0.0]}))
    assert hashes[0] != hashes[1]
    moved = frame().rename(columns={"amount": "other"})  # the same values in another column
    assert (row_hashes(moved) != row_hashes(frame())).all()


@pytest.fixture(scope="module")
def world():
    tables = generate(n_customers=40, n_months=24, start="2021-01-31", seed=3)
    tables.pop("truth")
    as_of = tables["industry_index"]["month"].max()
    return tables, as_of - pd.offsets.MonthEnd(3)


def with_invoices(tables, invoices):
    return tables | {"invoices": invoices}


def test_the_fingerprint_is_of_what_was_known_at_t(world):
    tables, t = world
    expected = History(tables, SETTINGS).fingerprint(t)
    assert History(known_at(tables, t, SETTINGS), SETTINGS).fingerprint(t) == expected
    invoices = tables["invoices"].copy()
    later = invoices.index[invoices["issue_date"] > t]
    invoices.loc[later, "amount"] *= 3  # invoices issued after t: unknown at t
    open_then = invoices.index[invoices["paid_date"] > t]
    invoices.loc[open_then, "paid_date"] += pd.Timedelta(days=5)  # paid after t, later still
    assert len(later) and len(open_then)
    history = History(with_invoices(tables, invoices), SETTINGS)
    assert history.fingerprint(t) == expected
    assert history.fingerprint(t + pd.offsets.MonthEnd(1)) != expected


def test_invoice_columns_no_feature_reads_leave_the_fingerprint_as_it_was(world):
    tables, t = world
    invoices = tables["invoices"].assign(invoice_id="renumbered", currency="XXX")
    before = History(tables, SETTINGS).fingerprint(t)
    assert History(with_invoices(tables, invoices), SETTINGS).fingerprint(t) == before


@pytest.mark.parametrize(
    "change",
    ["amount", "paid_date", "customer_id", "disputed", "order"],
)
def test_a_restated_known_invoice_changes_the_fingerprint(world, change):
    tables, t = world
    invoices = tables["invoices"].copy()
    paid = invoices.index[invoices["paid_date"] < t - pd.DateOffset(months=6)]
    row = paid[0]
    if change == "amount":
        invoices.loc[row, "amount"] += 0.01
    elif change == "paid_date":
        invoices.loc[row, "paid_date"] += pd.Timedelta(days=1)
    elif change == "customer_id":
        invoices.loc[row, "customer_id"] = invoices["customer_id"].iloc[-1]
    elif change == "disputed":
        invoices.loc[row, "disputed"] = not invoices.loc[row, "disputed"]
    else:  # the same rows in another order: sums over them may round otherwise
        invoices = invoices.iloc[::-1].reset_index(drop=True)
    before = History(tables, SETTINGS).fingerprint(t)
    assert History(with_invoices(tables, invoices), SETTINGS).fingerprint(t) != before


@pytest.mark.parametrize("name", ["events", "payments"])
def test_a_dated_table_counts_up_to_t_row_by_row(world, name):
    tables, t = world
    column = DATED[name]
    table = tables[name]
    before = History(tables, SETTINGS).fingerprint(t)
    later = table.assign(**{column: table[column].where(table[column] <= t, table[column].max())})
    later = pd.concat([later, table[table[column] > t]], ignore_index=True)  # more after t
    assert (table[column] > t).any()
    assert History(tables | {name: later}, SETTINGS).fingerprint(t) == before
    known = table.index[table[column] <= t]
    assert len(known)
    moved = table.copy()
    moved.loc[known[0], column] -= pd.Timedelta(days=1)  # a known row restated
    assert History(tables | {name: moved}, SETTINGS).fingerprint(t) != before
    assert History(tables | {name: table.drop(known[0])}, SETTINGS).fingerprint(t) != before
