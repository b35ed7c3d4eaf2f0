"""The build on integer keys gives exactly what the text and date keys it replaced gave.

The text-keyed implementations (a dict per (sector, month), groupby on the sector's name and the
date, ``Series.map`` by id, pandas' year and month) are kept here only as the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import FeatureSettings, build_features, with_groups
from features.industry import add_sector_default_rate
from features.partitions import CUSTOMER_TABLES, LEDGER_COLUMNS, customer_codes, decoded
from features.peers import PEER_FEATURES, add_peer_features
from features.profile import add_profile_features
from features.timeline import month_index, positions
from pipelines.sources.synthetic import generate


def sector_default_rate_by_text(snapshots, defaults, customers):
    sector = customers.set_index("customer_id")["industry"]
    d = defaults.assign(
        industry=defaults["customer_id"].map(sector), m=month_index(defaults["default_date"])
    )
    per_month = d.groupby(["industry", "m"]).size()
    active = snapshots.groupby(["industry", "month"]).size()
    book_defaults, book_active = d["m"].to_numpy(), active.groupby(level="month").sum()
    rates, book_rates = {}, {}
    for (industry, month), n_active in active.items():
        recent = per_month.get(industry, pd.Series(dtype=float))
        n_def = recent[(recent.index > month - 12) & (recent.index <= month)].sum()
        rates[(industry, month)] = n_def / (n_active + n_def)
    for month, n_active in book_active.items():
        n_def = int(((book_defaults > month - 12) & (book_defaults <= month)).sum())
        book_rates[month] = n_def / (n_active + n_def) if n_def else np.nan
    keys = list(zip(snapshots["industry"], snapshots["month"], strict=True))
    out = snapshots.copy()
    out["sector_default_rate_12m"] = [rates[k] for k in keys]
    book = np.array([book_rates[m] for _, m in keys], dtype=float)
    out["sector_default_rate_vs_book"] = out["sector_default_rate_12m"].to_numpy() / book
    return out


def peer_features_by_text(snapshots):
    out = snapshots.copy()
    for source, name in PEER_FEATURES.items():
        if source in out:
            median = out.groupby(["industry", "as_of_date"])[source].transform("median")
            out[name] = out[source] - median
    return out


def profile_features_by_map(snapshots, customers):
    book = customers.set_index("customer_id")
    ids = snapshots["customer_id"]
    revenue = ids.map(book["annual_revenue"]).to_numpy(dtype=float)
    start = ids.map(book["relationship_start"])
    months = (snapshots["month"].to_numpy() - month_index(start)).astype(float)
    out = snapshots.copy()
    out["annual_revenue"] = np.where(revenue > 0, revenue, np.nan)
    out["relationship_months"] = np.where(start.isna(), np.nan, months)
    out["payment_terms_days"] = ids.map(book["payment_terms_days"]).to_numpy(dtype=float)
    return out


@pytest.fixture(scope="module")
def book():
    """A synthetic book with blanks: no sector, no start, no limit for some customers."""
    tables = generate(n_customers=120, n_months=36, start="2021-01-31", seed=17)
    tables.pop("truth")
    customers = tables["customers"].copy()
    customers.loc[customers.index[::9], "industry"] = None
    customers.loc[customers.index[::7], "relationship_start"] = pd.NaT
    customers.loc[customers.index[::5], "annual_revenue"] = np.nan
    tables["customers"] = customers
    as_of = tables["industry_index"]["month"].max()
    return tables, as_of, build_features(tables, as_of, FeatureSettings())


def test_sector_default_rate_equals_the_text_keyed_one(book):
    tables, _, (snaps, defaults, _) = book
    rows = snaps.drop(columns=["sector_default_rate_12m", "sector_default_rate_vs_book"])
    customers = with_groups(tables["customers"])
    expected = sector_default_rate_by_text(rows, defaults, customers)
    got = add_sector_default_rate(rows, defaults, customers)
    assert got["sector_default_rate_vs_book"].notna().any()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_peer_features_equal_the_text_keyed_ones(book):
    _, _, (snaps, _, _) = book
    rows = snaps.drop(columns=list(PEER_FEATURES.values()))
    rows.loc[rows.index[::13], "days_late_wavg_12m"] = np.nan  # missing values stay out
    pd.testing.assert_frame_equal(
        add_peer_features(rows), peer_features_by_text(rows), check_exact=True
    )


def test_profile_features_equal_the_mapped_ones(book):
    tables, _, (snaps, _, _) = book
    rows = snaps.drop(columns=["annual_revenue", "relationship_months", "payment_terms_days"])
    customers = tables["customers"]
    pd.testing.assert_frame_equal(
        add_profile_features(rows, customers),
        profile_features_by_map(rows, customers),
        check_exact=True,
    )


@pytest.mark.parametrize(
    "dates",
    [
        ["2021-01-31", None, "1969-12-31 23:59", "2400-02-29", "1900-03-01"],
        [None, None],
        [],
    ],
)
def test_month_index_equals_year_and_month(dates):
    index = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates, dtype=object), format="ISO8601"))
    expected = np.where(index.isna(), -1, index.year * 12 + index.month - 1)
    np.testing.assert_array_equal(month_index(index), expected.astype(np.int64))


@pytest.mark.parametrize(
    ("values", "keys"),
    [
        ([3, 1, 9, -1, 0, 2], [1, 2, 3, 0]),  # codes: one table of positions
        ([5, 0, 7], [7, 5, 5, 0]),  # a repeated key: its first position
        ([10**12, 4, -7], [4, 10**12]),  # far apart: hashed
        ([2, 0], []),
    ],
)
def test_positions_of_integers_equal_a_dictionary_look_up(values, keys):
    first = {}
    for at, key in enumerate(keys):
        first.setdefault(key, at)
    expected = [first.get(v, -1) for v in values]
    got = positions(pd.Series(values, dtype="int64"), pd.Series(keys, dtype="int64"))
    assert list(got) == expected
    nullable = positions(pd.Series([*values, None], dtype="Int64"), pd.Series(keys, dtype="int64"))
    assert list(nullable) == [*expected, -1]


def test_positions_of_integer_codes_and_of_text():
    assert list(positions(np.array([3, 1, 9]), pd.Series([1, 2, 3]))) == [2, 0, -1]
    assert list(positions(["b", "c"], ["c", "a", "b"])) == [2, 0]
    assert list(positions(pd.Series([1, 2]), ["1", "x"])) == [0, -1]  # mixed: as text


def test_customer_codes_number_the_book_then_the_ids_only_other_tables_have():
    tables = {
        "customers": pd.DataFrame({"customer_id": ["C2", "C1"]}),
        "invoices": pd.DataFrame(
            {"customer_id": ["C1", "X9", "C2"], "invoice_id": ["i1", "i2", "i3"], "amount": 1.0}
        ),
        "defaults": pd.DataFrame({"customer_id": ["Y1", "X9"]}),
        "industry_index": pd.DataFrame({"industry": ["A"]}),
    }
    coded, ids = customer_codes(tables)
    assert list(ids) == ["C2", "C1", "X9", "Y1"]
    assert list(coded["customers"]["customer_id"]) == [0, 1]
    assert list(coded["invoices"]["customer_id"]) == [1, 2, 0]
    assert list(coded["defaults"]["customer_id"]) == [3, 2]
    assert list(coded["invoices"].columns) == ["customer_id", "amount"]  # no invoice ids
    assert set(LEDGER_COLUMNS) >= set(coded["invoices"].columns)
    assert coded["industry_index"] is tables["industry_index"]
    assert "customers" in CUSTOMER_TABLES
    frames = (coded["invoices"], coded["defaults"])
    snaps, defaults = decoded(frames, ids)
    assert list(snaps["customer_id"]) == ["C1", "X9", "C2"]
    assert list(defaults["customer_id"]) == ["X9", "Y1"]  # sorted by id, as the build sorts
