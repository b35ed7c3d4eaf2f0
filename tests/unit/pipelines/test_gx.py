import json
from collections.abc import Callable

import pandas as pd
import pytest

from features.contract import TABLES
from pipelines.checks.gx import validate_tables
from pipelines.checks.results import ValidationReport

AS_OF = pd.Timestamp("2024-12-31")
D = pd.Timestamp


def _set(table: str, column: str, row: int, value: object) -> Callable[[dict], None]:
    def mutate(tables: dict[str, pd.DataFrame]) -> None:
        tables[table].loc[row, column] = value

    return mutate


def _duplicate_row(table: str, source: int, target: int) -> Callable[[dict], None]:
    def mutate(tables: dict[str, pd.DataFrame]) -> None:
        frame = tables[table]
        frame.loc[target] = frame.loc[source]

    return mutate


# case -> (mutation, (table, columns, rule, text in the message))
BROKEN = {
    "duplicated invoice_id": (
        _set("invoices", "invoice_id", 1, "INV-1"),
        ("invoices", ("invoice_id",), "unique key", "row 1: 'INV-1'; row 2: 'INV-1'"),
    ),
    "due_date before issue_date": (
        _set("invoices", "due_date", 2, D("2024-02-01")),
        ("invoices", ("issue_date", "due_date"), "date order", "due_date='2024-02-01'"),
    ),
    "paid_date before issue_date": (
        _set("invoices", "paid_date", 0, D("2023-12-24")),
        ("invoices", ("issue_date", "paid_date"), "date order", "paid_date='2023-12-24'"),
    ),
    "orphan invoice customer_id": (
        _set("invoices", "customer_id", 3, "C404"),
        ("invoices", ("customer_id",), "foreign key", "row 4: 'C404'"),
    ),
    "amount too small": (
        _set("invoices", "amount", 3, 0.0),
        ("invoices", ("amount",), "range", "row 4: 0.0"),
    ),
    "null customer_id": (
        _set("invoices", "customer_id", 2, None),
        ("invoices", ("customer_id",), "not null", "row 3: empty"),
    ),
    "paid_amount above amount": (
        _set("invoices", "paid_amount", 0, 100.5),
        ("invoices", ("paid_amount", "amount"), "plausibility", "paid_amount=100.5, amount=100.0"),
    ),
    "invoice terms of 400 days": (
        _set("invoices", "due_date", 2, D("2025-04-05")),
        ("invoices", ("issue_date", "due_date"), "range", "due_date='2025-04-05'"),
    ),
    "second currency, no FX table": (
        _set("invoices", "currency", 2, "USD"),
        ("invoices", ("currency",), "single currency", "row 3: 'USD'"),
    ),
    "paid after the as-of date": (
        _set("invoices", "paid_date", 3, D("2025-01-15")),
        ("invoices", ("paid_date",), "date range", "'2025-01-15'"),
    ),
    "unknown event_type": (
        _set("events", "event_type", 1, "alien_invasion"),
        ("events", ("event_type",), "allowed set", "'alien_invasion'"),
    ),
    "payment_terms_days 400": (
        _set("customers", "payment_terms_days", 0, 400),
        ("customers", ("payment_terms_days",), "range", "row 1: 400"),
    ),
    "relationship started in 1899": (
        _set("customers", "relationship_start", 0, D("1899-12-30")),
        ("customers", ("relationship_start",), "date range", "'1899-12-30'"),
    ),
    "event dated after as_of_date": (
        _set("events", "event_date", 0, D("2025-01-01")),
        ("events", ("event_date",), "date range", "'2025-01-01'"),
    ),
    "duplicate (customer_id, period_end)": (
        _duplicate_row("financials", 1, 0),
        ("financials", ("customer_id", "period_end"), "unique key", "period_end='2023-12-31'"),
    ),
    "industry without an index": (
        _set("customers", "industry", 1, "space mining"),
        ("customers", ("industry",), "foreign key", "'space mining'"),
    ),
}


@pytest.fixture(scope="module")
def clean_report(clean_tables) -> ValidationReport:
    return validate_tables(clean_tables(), AS_OF, sample_rows=5)


def test_clean_tables_pass(clean_report: ValidationReport) -> None:
    assert clean_report.success, [f.message() for f in clean_report.failures]
    assert set(clean_report.tables) == set(TABLES)
    assert clean_report.tables["invoices"].rows_in == 4
    assert all(r.rules_evaluated > 1 and r.rejected.empty for r in clean_report.tables.values())
    assert not clean_report.blocking


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_input_names_table_column_and_rule(case: str, clean_tables) -> None:
    mutate, (table, columns, rule, sample) = BROKEN[case]
    tables = clean_tables()
    mutate(tables)
    names = {"customers", table} | ({"industry_index"} if "industry" in columns else set())
    tables = {name: tables[name] for name in names}  # fewer suites: faster
    report = validate_tables(tables, AS_OF, sample_rows=5)
    assert len(report.failures) == 1, [f.message() for f in report.failures]
    failure = report.failures[0]
    assert (failure.table, failure.columns, failure.rule) == (table, columns, rule)
    message = failure.message()
    assert message.startswith(f"{table}.{','.join(columns)}: rule {rule} (")
    assert sample in message
    result = report.tables[table]
    assert set(result.rejected["rule"]) == {rule}
    assert result.rows_kept + len(result.rejected) == result.rows_in == len(tables[table])


def test_message_format_for_duplicate_key(ledger) -> None:
    tables = ledger()
    tables["invoices"].loc[1, "invoice_id"] = "INV-1"
    report = validate_tables(tables, AS_OF, sample_rows=5)
    (failure,) = report.failures
    assert failure.message(4) == (
        "invoices.invoice_id: rule unique key (must be unique) failed for 2 of 4 rows, "
        "e.g. row 1: 'INV-1'; row 2: 'INV-1'"
    )
    assert [row["row"] for row in failure.sample_rows] == [1, 2]
    assert failure.expectation == "expect_column_values_to_be_unique"
    assert report.tables["invoices"].rejected_by_rule() == {"invoice_id: unique key": 2}


def test_samples_are_capped_at_sample_rows(clean_tables) -> None:
    tables = {"customers": clean_tables()["customers"]}
    tables["customers"]["credit_limit"] = -1.0
    (failure,) = validate_tables(tables, AS_OF, sample_rows=2).failures
    assert failure.unexpected_count == 3 and len(failure.positions) == 3
    assert failure.sample_values == [-1.0, -1.0]
    assert len(failure.sample_rows) == 2


def test_missing_contract_column_fails_column_set_rule_at_table_level(ledger) -> None:
    tables = ledger()
    tables["invoices"] = tables["invoices"].drop(columns=["amount"])
    report = validate_tables(tables, AS_OF, sample_rows=5, on_bad_rows="quarantine")
    (failure,) = report.failures
    assert failure.rule == "columns" and failure.table_level
    assert failure.sample_values == {"missing": ["amount"]}
    assert "failed: missing columns ['amount']" in failure.message()
    assert report.blocking == [failure]  # a table-level rule stops even a quarantine run
    assert report.tables["invoices"].rejected.empty


def test_extra_column_fails_closed_table_only(clean_tables, ledger) -> None:
    tables = ledger()
    tables["invoices"]["note"] = "x"
    tables["attributes"] = clean_tables()["attributes"].assign(another_score=1.0)
    (failure,) = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert (failure.table, failure.sample_values) == ("invoices", {"unexpected": ["note"]})
    assert "exactly the contract columns" in failure.message()


def test_a_column_of_the_wrong_dtype_is_a_table_level_failure(clean_tables) -> None:
    tables = {"customers": clean_tables()["customers"]}
    tables["customers"]["payment_terms_days"] = ["30", "x", "60"]
    failures = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert failures[0].message() == (
        "customers.payment_terms_days: rule dtype (must hold int values) failed: the column "
        "holds str"
    )
    assert all(f.table_level for f in failures)  # the range rule could not run either
    assert "could not be evaluated" in failures[1].message()


def test_unparsed_cells_are_the_type_rule_not_also_not_null(ledger) -> None:
    tables = ledger()
    tables["invoices"].loc[2, "amount"] = None  # ingest could not parse 'twelve'
    tables["invoices"].loc[1, "due_date"] = pd.NaT  # nor '2024-02-30'
    unparsed = pd.DataFrame(
        {
            "table": ["invoices", "invoices"],
            "row": [2, 1],
            "column": ["amount", "due_date"],
            "value": ["twelve", "2024-02-30"],
            "expected": ["a number", "a date, ISO 8601 (2024-01-31)"],
        }
    )
    report = validate_tables(tables, AS_OF, sample_rows=5, unparsed=unparsed)
    assert [(f.columns, f.rule) for f in report.failures] == [
        (("due_date",), "type"),
        (("amount",), "type"),
    ]
    assert report.failures[1].message() == (
        "invoices.amount: rule type (must be a number) failed for 1 rows, e.g. row 3: 'twelve'"
    )
    assert report.tables["invoices"].rejected["rule"].tolist() == ["type", "type"]


def test_rows_are_attributed_to_the_first_rule_they_broke(ledger) -> None:
    tables = ledger()
    tables["invoices"].loc[0, ["amount", "invoice_id"]] = [-1.0, "INV-2"]
    report = validate_tables(tables, AS_OF, sample_rows=5)
    assert [f.columns for f in report.failures] == [
        ("invoice_id",),
        ("amount",),
        ("paid_amount", "amount"),
    ]
    rejected = report.tables["invoices"].rejected
    assert rejected.loc[0, "rule"] == "unique key"
    assert rejected.loc[0, "rules"] == (
        "invoice_id: unique key; amount: range; paid_amount,amount: plausibility"
    )
    assert report.tables["invoices"].rejected_by_rule() == {"invoice_id: unique key": 2}


@pytest.mark.parametrize(("mode", "orphans"), [("fail", 0), ("quarantine", 2)])
def test_quarantined_customers_take_their_rows_with_them(
    mode: str, orphans: int, clean_tables
) -> None:
    tables = clean_tables()
    tables["customers"].loc[0, "credit_limit"] = -1.0  # C1: 2 invoices, 2 statements, ...
    tables = {k: tables[k] for k in ("customers", "invoices", "financials", "attributes")}
    report = validate_tables(tables, AS_OF, sample_rows=5, on_bad_rows=mode)
    assert report.tables["customers"].rejected_by_rule() == {"credit_limit: range": 1}
    for name in ("invoices", "financials", "attributes"):
        rejected = report.tables[name].rejected
        assert len(rejected) == orphans and set(rejected["rule"]) <= {"foreign key"}
    # with fail the stage stops anyway: the root cause is the only failure reported
    assert len(report.blocking) == (1 if mode == "fail" else 0)


def test_summary_is_json_ready_and_adds_up(ledger) -> None:
    tables = ledger()
    tables["invoices"].loc[0, "paid_date"] = D("2023-01-01")
    summary = validate_tables(tables, AS_OF, sample_rows=5).to_dict()
    json.dumps(summary, allow_nan=False)
    invoices = summary["tables"]["invoices"]
    assert (invoices["rows_in"], invoices["rows_kept"], invoices["rules_failed"]) == (4, 3, 1)
    assert invoices["rejected_by_rule"] == {"issue_date,paid_date: date order": 1}
    assert invoices["failures"][0]["sample_rows"][0]["paid_date"] == "2023-01-01"
    assert "positions" not in invoices["failures"][0]
    assert summary["success"] is False and summary["stopped"] is True
    assert summary["as_of_date"] == "2024-12-31"
    assert summary["rows_in"] == summary["rows_kept"] + summary["rows_rejected"] == 7


@pytest.mark.parametrize(
    ("tables", "sample_rows", "mode", "match"),
    [
        ({}, 5, "fail", "customers"),
        ({"invoices": pd.DataFrame()}, 5, "fail", "customers"),
        ({"customers": pd.DataFrame(), "x": None}, 5, "fail", "customers"),
        ({"customers": pd.DataFrame()}, 0, "fail", "sample_rows"),
        ({"customers": pd.DataFrame()}, 5, "drop", "on_bad_rows"),
    ],
)
def test_bad_arguments_are_rejected(tables: dict, sample_rows: int, mode: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_tables(tables, AS_OF, sample_rows, mode)
