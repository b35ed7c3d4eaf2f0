import pandas as pd
import pytest

from features.contract import MIN_DATE, TABLES
from pipelines.checks.rules import (
    book_currency,
    contract_rules,
    dtype_mismatches,
    gx_batch,
    orphan_column,
    span_column,
    unparsed_column,
)

AS_OF = pd.Timestamp("2024-12-31")
INVOICES = TABLES["invoices"]
ALL = set(INVOICES.column_names)


def _rules(**kwargs):
    return contract_rules(INVOICES, ALL, {}, AS_OF, **kwargs)


def test_only_dates_of_things_that_happened_are_capped_at_the_as_of_date():
    capped = [r.columns for r in _rules() if r.kwargs.get("max_value") is AS_OF]
    assert capped == [("issue_date",), ("paid_date",)]
    floors = [r.columns for r in _rules() if r.kwargs.get("min_value") is MIN_DATE]
    assert floors == [("issue_date",), ("due_date",), ("paid_date",)]


def test_foreign_keys_and_currency_only_where_given():
    names = {r.rule for r in _rules()}
    assert "foreign key" not in names and "single currency" not in names
    rules = contract_rules(INVOICES, ALL, {"customers.customer_id": ["C1"]}, AS_OF, currency="EUR")
    (fk,) = [r for r in rules if r.rule == "foreign key"]
    assert (fk.columns, fk.kwargs) == (("customer_id",), {"column": orphan_column("customer_id")})
    (single,) = [r for r in rules if r.rule == "single currency"]
    assert single.kwargs["value_set"] == ["EUR"]


def test_rule_order_is_the_order_rows_are_attributed_in():
    rules = _rules(unparsed={"amount": "a number"}, currency="EUR")
    names = [r.rule for r in rules]
    assert names[:3] == ["columns", "type", "unique key"]
    assert names[-4:] == ["date order", "date order", "range", "plausibility"]


def test_helper_columns_are_part_of_the_column_set():
    (columns,) = [r for r in _rules(unparsed={"amount": "a number"}) if r.rule == "columns"]
    helpers = [unparsed_column("amount"), span_column("issue_date", "due_date")]
    assert columns.kwargs["column_set"] == INVOICES.column_names + helpers
    (type_rule,) = [r for r in _rules(unparsed={"amount": "a number"}) if r.rule == "type"]
    assert (type_rule.columns, type_rule.detail) == (("amount",), "must be a number")


def test_missing_columns_get_no_column_rules():
    rules = contract_rules(INVOICES, {"invoice_id"}, {}, AS_OF)
    assert {r.columns for r in rules} == {(), ("invoice_id",)}


def test_batch_adds_unparsed_text_and_day_spans_without_touching_the_frame():
    frame = pd.DataFrame(
        {
            "issue_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "due_date": pd.to_datetime(["2024-01-31", None]),
            "amount": [1.0, None],
            "terms": pd.array([30, None], dtype="Int64"),
        }
    )
    frame["customer_id"] = ["C1", "C404"]
    cells = pd.DataFrame({"row": [1], "column": ["amount"], "value": ["x"]})
    batch = gx_batch(frame, INVOICES, cells, {"customers.customer_id": ["C1"]})
    assert batch[orphan_column("customer_id")].isna().tolist() == [True, False]
    assert batch[unparsed_column("amount")].isna().tolist() == [True, False]
    assert batch[unparsed_column("amount")].iloc[1] == "x"
    assert batch[span_column("issue_date", "due_date")].tolist()[0] == 30
    assert batch["terms"].dtype == "float64" and frame["terms"].dtype == "Int64"
    assert list(frame.columns) == ["issue_date", "due_date", "amount", "terms", "customer_id"]


@pytest.mark.parametrize(
    ("column", "values", "ok"),
    [
        ("invoice_id", pd.Series(["a", None], dtype=object), True),
        ("invoice_id", pd.Series(["a", "b"], dtype="string"), True),
        ("invoice_id", pd.Series(["a", 1], dtype=object), False),
        ("amount", pd.Series([1, 2]), True),
        ("amount", pd.Series([True, False]), False),
        ("issue_date", pd.Series(pd.to_datetime(["2024-01-01"])).astype("datetime64[us]"), True),
        ("issue_date", pd.Series(["2024-01-01"]), False),
        ("disputed", pd.Series([True]), True),
        ("disputed", pd.Series([1]), False),
        ("paid_date", pd.Series([None, None], dtype=float), True),  # all empty
    ],
)
def test_dtype_mismatches(column, values, ok):
    assert (dtype_mismatches(INVOICES, pd.DataFrame({column: values})) == []) is ok


def test_int_columns_may_be_integral_floats_and_open_columns_numbers_or_text():
    customers = pd.DataFrame({"payment_terms_days": [30.0, None]})
    assert dtype_mismatches(TABLES["customers"], customers) == []
    customers["payment_terms_days"] = [30.5, None]
    assert dtype_mismatches(TABLES["customers"], customers)[0][:2] == ("payment_terms_days", "int")
    attributes = pd.DataFrame({"customer_id": ["C1", "C2"], "tier": ["gold", "silver"]})
    assert dtype_mismatches(TABLES["attributes"], attributes) == []  # a categorical attribute
    attributes["tier"] = pd.Series(["gold", 3], dtype=object)  # neither numbers nor text
    assert dtype_mismatches(TABLES["attributes"], attributes) == [("tier", "str", "object")]


@pytest.mark.parametrize(
    ("currencies", "configured", "want"),
    [
        (["EUR", "USD", "EUR"], None, "EUR"),
        (["USD", "EUR"], None, "EUR"),  # a tie: alphabetical
        (["USD", "USD"], "CHF", "CHF"),
        ([None], None, None),
    ],
)
def test_book_currency(currencies, configured, want):
    tables = {"invoices": pd.DataFrame({"currency": currencies})}
    assert book_currency(tables, configured) == want
    assert book_currency({}, None) is None
