import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.contract import (
    CURRENCIES,
    OUTCOME_TABLES,
    REQUIRED_TABLES,
    TABLES,
    UNPARSED_COLUMNS,
    Column,
    Table,
    TextFormat,
    cast_table,
    expected_text,
    parse_table,
)

CUSTOMERS = TABLES["customers"]
D = pd.Timestamp


def raw_customers() -> pd.DataFrame:
    """As read from a CSV: everything text, padded, in another column order, extra column."""
    return pd.DataFrame(
        {
            "name": ["Alpha", None, "Gamma"],
            "customer_id": [" C1 ", "C2", "C3"],
            "country": ["DE", "FR", "IT"],
            "region": ["north", "south", "south"],
            "industry": ["retail", "energy", "retail"],
            "annual_revenue": ["1500.5", None, "0"],
            "relationship_start": ["2020-01-31", "2021-02-01", "2019-12-01"],
            "credit_limit": ["100", 200, "3e3"],
            "payment_terms_days": ["30", 60, "90"],
            "notes": ["x", "y", "z"],
        },
        index=[7, 8, 9],
    )


def test_cast_customers_types_order_and_values():
    got = cast_table(raw_customers(), CUSTOMERS)
    assert list(got.columns) == CUSTOMERS.column_names  # contract order, extra column dropped
    assert list(got.index) == [0, 1, 2]
    assert got["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert got["name"].tolist() == ["Alpha", None, "Gamma"]
    assert got["annual_revenue"].dtype == "float64"
    np.testing.assert_array_equal(got["annual_revenue"], [1500.5, np.nan, 0.0])
    assert got["relationship_start"].dtype == "datetime64[ns]"
    assert got["relationship_start"].iloc[1] == pd.Timestamp("2021-02-01")
    assert got["credit_limit"].tolist() == [100.0, 200.0, 3000.0]
    assert str(got["payment_terms_days"].dtype) == "Int64"
    assert got["payment_terms_days"].tolist() == [30, 60, 90]


def test_a_missing_required_column_is_an_error():
    with pytest.raises(ValueError, match=r"customers: missing required columns \['customer_id'\]"):
        cast_table(raw_customers().drop(columns="customer_id"), CUSTOMERS)


def test_only_the_customer_id_is_required():
    assert [c.name for c in CUSTOMERS.columns if c.required] == ["customer_id"]
    got = cast_table(raw_customers()[["customer_id"]], CUSTOMERS)
    assert got.columns.tolist() == CUSTOMERS.column_names  # the others added empty
    assert got.drop(columns="customer_id").isna().all().all()


@pytest.mark.parametrize(
    ("name", "bad", "kind"),
    [
        ("annual_revenue", "lots", "float"),
        ("credit_limit", "1,000", "float"),
        ("payment_terms_days", "thirty", "int"),
        ("relationship_start", "2020-13-45", "date"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_column_and_value(name, bad, kind):
    frame = raw_customers()
    frame.loc[8, name] = bad
    with pytest.raises(ValueError) as err:
        cast_table(frame, CUSTOMERS)
    message = str(err.value)
    assert f"customers.{name}: 1 values are not {kind}" in message
    assert repr(bad) in message and "rows [8]" in message


def test_blank_cells_are_missing():
    frame = raw_customers()
    frame.loc[7, "name"] = "   "
    frame.loc[9, "annual_revenue"] = ""
    got = cast_table(frame, CUSTOMERS)
    assert got["name"].tolist() == [None, None, "Gamma"]
    assert np.isnan(got["annual_revenue"].iloc[2])


def test_a_fraction_in_an_int_column_is_an_error_naming_the_column():
    frame = raw_customers()
    frame.loc[8, "payment_terms_days"] = "30.5"
    with pytest.raises(ValueError, match=r"customers\.payment_terms_days.*'30\.5'"):
        cast_table(frame, CUSTOMERS)


def invoices(disputed: list) -> pd.DataFrame:
    n = len(disputed)
    return pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(n)],
            "customer_id": "C1",
            "issue_date": "2024-01-01",
            "due_date": "2024-01-31",
            "amount": "10.5",
            "currency": "EUR",
            "paid_date": ["2024-02-01", "", None, "2024-03-01", None, None, None, None][:n],
            "paid_amount": None,
            "disputed": disputed,
        }
    )


def test_bools_and_empty_dates():
    got = cast_table(invoices(["Yes", "0", True, " n ", "TRUE", None, "f"]), TABLES["invoices"])
    assert got["disputed"].dtype == bool
    assert got["disputed"].tolist() == [True, False, True, False, True, False, False]
    assert got["paid_date"].isna().tolist() == [False, True, True, False, True, True, True]
    assert got["paid_amount"].isna().all() and got["paid_amount"].dtype == "float64"


def test_a_bad_bool_is_an_error():
    with pytest.raises(ValueError, match=r"invoices\.disputed: 1 values are not bool.*'maybe'"):
        cast_table(invoices(["yes", "maybe"]), TABLES["invoices"])


@pytest.mark.parametrize(
    ("table", "name", "frame"),
    [
        (
            "financials",
            "available_date",
            pd.DataFrame(
                {
                    "customer_id": ["C1"],
                    "period_end": ["2023-12-31"],
                    **{c: ["1"] for c in TABLES["financials"].column_names[3:]},
                }
            ),
        ),
        (
            "events",
            "description",
            pd.DataFrame(
                {
                    "customer_id": ["C1"],
                    "event_date": ["2024-01-01"],
                    "event_type": ["legal_dispute"],
                }
            ),
        ),
    ],
)
def test_an_optional_column_is_added_empty(table, name, frame):
    got = cast_table(frame, TABLES[table])
    assert list(got.columns) == TABLES[table].column_names
    assert got[name].isna().all()


def test_financials_optional_date_is_a_date():
    frame = pd.DataFrame(
        {"customer_id": ["C1"], "period_end": ["2023-12-31"]}
        | {c: ["1"] for c in TABLES["financials"].column_names[3:]}
    )
    assert cast_table(frame, TABLES["financials"])["available_date"].dtype == "datetime64[ns]"


def test_open_columns_are_kept_as_numbers():
    frame = pd.DataFrame(
        {
            "known_date": ["2024-01-31", "2024-02-29"],
            "customer_id": ["C1", "C2"],
            "bureau_score": ["1.5", None],
            "paydex": [80, 75],
        }
    )
    got = cast_table(frame, TABLES["attributes"])
    assert list(got.columns) == ["customer_id", "known_date", "bureau_score", "paydex"]
    np.testing.assert_array_equal(got["bureau_score"], [1.5, np.nan])
    assert got["paydex"].dtype == "float64"


def test_a_text_open_column_is_categorical_and_a_mostly_numeric_one_numeric():
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(10)], "known_date": "2024-01-31",
            "tier": ["gold", "silver", "3"] + ["gold"] * 7,  # text: categories, "3" included
            "score": ["1.5"] * 9 + ["n/a"],  # 9 of 10 numbers: numeric, "n/a" a bad cell
        }
    )  # fmt: skip
    typed, unparsed = parse_table(frame, TABLES["attributes"])
    assert typed["tier"].tolist()[:3] == ["gold", "silver", "3"]
    assert typed["score"].dtype == "float64" and typed["score"].isna().sum() == 1
    assert unparsed[["column", "value"]].values.tolist() == [["score", "n/a"]]
    with pytest.raises(ValueError, match=r"attributes\.score: 1 values are not float.*'n/a'"):
        cast_table(frame, TABLES["attributes"])


def test_a_declared_kind_overrides_the_inference():
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "known_date": "2024-01-31",
                          "zip": ["01067", "80331"], "tier": ["gold", "1"]})  # fmt: skip
    typed, unparsed = parse_table(
        frame, TABLES["attributes"], kinds={"zip": "str", "tier": "float"}
    )
    assert typed["zip"].tolist() == ["01067", "80331"]  # codes, not numbers: leading 0 kept
    assert typed["tier"].tolist()[1] == 1.0 and unparsed["value"].tolist() == ["gold"]


def test_a_closed_table_drops_extra_columns():
    frame = pd.DataFrame(
        {"industry": ["retail"], "month": ["2024-01-31"], "value": ["101.5"], "source": ["x"]}
    )
    got = cast_table(frame, TABLES["industry_index"])
    assert list(got.columns) == ["industry", "month", "value"]
    assert got["value"].tolist() == [101.5]


def test_table_column_lookup():
    assert CUSTOMERS.column("credit_limit") == Column(
        "credit_limit", "float", nullable=True, required=False, min=0
    )
    with pytest.raises(KeyError, match="table 'customers' has no contract column 'colour'"):
        CUSTOMERS.column("colour")


def test_contract_is_consistent():
    assert REQUIRED_TABLES == ("customers",)
    for name, table in TABLES.items():
        assert table.name == name
        names = table.column_names
        assert len(set(names)) == len(names), name
        assert set(table.key) <= set(names), name
        assert {c for pair in table.date_order for c in pair} <= set(names), name
        for col, target in table.foreign_keys.items():
            other, other_col = target.split(".")
            assert col in names and other_col in TABLES[other].column_names


def test_cast_table_of_an_empty_table():
    table = Table("t", (Column("a", "str"), Column("b", "float"), Column("c", "date")))
    got = cast_table(pd.DataFrame({"a": [], "b": [], "c": []}), table)
    assert got.empty and list(got.columns) == ["a", "b", "c"]
    assert got["b"].dtype == "float64" and got["c"].dtype == "datetime64[ns]"


def test_outcome_tables_and_currencies():
    assert OUTCOME_TABLES == ("invoices", "defaults")
    assert {"EUR", "USD", "AUD", "INR", "TWD"} <= set(CURRENCIES) and len(CURRENCIES) > 150
    assert all(len(c) == 3 and c.isupper() for c in CURRENCIES)


def test_parse_table_keeps_every_row_and_lists_unparsed_cells():
    frame = raw_customers()
    frame.loc[8, ["credit_limit", "relationship_start"]] = ["lots", "2021-02-30"]
    frame.loc[9, "payment_terms_days"] = "30.5"
    typed, unparsed = parse_table(frame, CUSTOMERS)
    assert len(typed) == 3 and list(typed.index) == [0, 1, 2]
    assert typed["credit_limit"].isna().tolist() == [False, True, False]
    assert typed["relationship_start"].isna().tolist() == [False, True, False]
    assert typed["payment_terms_days"].isna().tolist() == [False, False, True]
    assert unparsed.to_dict("records") == [
        {
            "row": 8,
            "column": "relationship_start",
            "value": "2021-02-30",
            "expected": "a date, ISO 8601 (2024-01-31)",
        },
        {"row": 8, "column": "credit_limit", "value": "lots", "expected": "a number"},
        {"row": 9, "column": "payment_terms_days", "value": "30.5", "expected": "a whole number"},
    ]


def test_parse_table_of_clean_frame_has_no_unparsed_cells():
    typed, unparsed = parse_table(raw_customers(), CUSTOMERS)
    assert unparsed.empty and list(unparsed.columns) == list(UNPARSED_COLUMNS[1:])
    pd.testing.assert_frame_equal(typed, cast_table(raw_customers(), CUSTOMERS))


@pytest.mark.parametrize("bad", ["inf", "-inf", "1e400"])
def test_infinite_numbers_do_not_parse(bad):
    frame = raw_customers()
    frame.loc[7, "credit_limit"] = bad
    typed, unparsed = parse_table(frame, CUSTOMERS)
    assert unparsed["value"].tolist() == [bad] and np.isnan(typed["credit_limit"].iloc[0])


@pytest.mark.parametrize(
    ("fmt", "given", "want"),
    [
        (TextFormat(decimal=","), "1234,5", 1234.5),
        (TextFormat(decimal=",", thousands="."), "1.234,5", 1234.5),
        (TextFormat(thousands=","), "1,234.5", 1234.5),
        (TextFormat(decimal=",", thousands=" "), "1 234,5", 1234.5),
    ],
)
def test_decimal_and_thousands_separators(fmt, given, want):
    frame = raw_customers().assign(credit_limit=given, annual_revenue=None)
    typed, unparsed = parse_table(frame, CUSTOMERS, fmt)
    assert unparsed.empty and typed["credit_limit"].tolist() == [want] * 3


def test_a_decimal_comma_without_the_setting_does_not_parse():
    frame = raw_customers().assign(annual_revenue=None)
    frame.loc[7, "credit_limit"] = "1.234,5"  # European spelling, default format
    _, unparsed = parse_table(frame, CUSTOMERS, TextFormat(decimal=","))
    assert unparsed["value"].tolist() == ["1.234,5"]  # a thousands dot needs `thousands`
    _, unparsed = parse_table(frame, CUSTOMERS)
    assert unparsed["expected"].tolist() == ["a number"]


def test_date_format_is_applied_to_text_only():
    frame = raw_customers()
    frame["relationship_start"] = ["31.01.2020", "01.02.2021", None]
    typed, unparsed = parse_table(frame, CUSTOMERS, TextFormat(date_format="%d.%m.%Y"))
    assert unparsed.empty
    assert typed["relationship_start"].tolist()[:2] == [D("2020-01-31"), D("2021-02-01")]
    frame["relationship_start"] = [dt.date(2020, 1, 31), D("2021-02-01"), None]  # from Parquet
    typed, unparsed = parse_table(frame, CUSTOMERS, TextFormat(date_format="%d.%m.%Y"))
    assert unparsed.empty and typed["relationship_start"].iloc[0] == D("2020-01-31")


def test_dates_are_iso_by_default_not_guessed():
    frame = raw_customers()
    frame["relationship_start"] = ["2020-01-31", "05.01.2024", "2024-01-05T00:00:00"]
    typed, unparsed = parse_table(frame, CUSTOMERS)
    assert unparsed["value"].tolist() == ["05.01.2024"]  # never read as May 1st or January 5th
    assert typed["relationship_start"].iloc[2] == D("2024-01-05")


def test_typed_columns_pass_through():
    frame = cast_table(raw_customers(), CUSTOMERS)
    frame["relationship_start"] = frame["relationship_start"].dt.tz_localize("Europe/Berlin")
    typed, unparsed = parse_table(frame, CUSTOMERS, TextFormat(decimal=",", date_format="%d"))
    # numbers and dates typed already ignore the text format
    assert unparsed.empty and typed["relationship_start"].dt.tz is None
    assert typed["credit_limit"].tolist() == [100.0, 200.0, 3000.0]


@pytest.mark.parametrize(
    ("kind", "fmt", "text"),
    [
        ("date", TextFormat(), "a date, ISO 8601 (2024-01-31)"),
        ("date", TextFormat(date_format="%d.%m.%Y"), "a date, in the format %d.%m.%Y"),
        ("float", TextFormat(decimal=","), "a number with decimal ','"),
        ("int", TextFormat(), "a whole number"),
        ("bool", TextFormat(), "yes/no, true/false or 1/0"),
        ("str", TextFormat(), "text"),
    ],
)
def test_expected_text(kind, fmt, text):
    assert expected_text(kind, fmt) == text
