import json

import numpy as np
import pandas as pd
import pytest

from features.contract import UNPARSED_COLUMNS
from pipelines.checks.results import (
    REJECT_COLUMNS,
    Failure,
    TableResult,
    ValidationReport,
    jsonable,
    no_cells,
    rejected_rows,
)


def failure(columns: tuple[str, ...], rule: str, positions: tuple[int, ...], **kw) -> Failure:
    """A row-level failure of the invoices with one sample per position."""
    values = kw.pop("values", [f"v{p}" for p in positions])
    rows = [{"row": p + 1} for p in positions]
    return Failure(
        "invoices", columns, rule, f"{rule} rule", "expect_x", len(positions), values, rows,
        positions=positions, **kw,
    )  # fmt: skip


UNIQUE = failure(("invoice_id",), "unique key", (0, 3))
RANGE = failure(("amount",), "range", (3, 1))
MISSING = {"missing": ["amount"]}
COLUMNS = Failure("invoices", (), "columns", "exactly the contract columns", "x", 1, MISSING, [])


def test_rejected_rows_of_no_failures_is_empty() -> None:
    rejected = rejected_rows([])
    assert rejected.empty and list(rejected.columns) == ["row", "rule", "column", "detail", "rules"]


def test_a_rejected_row_is_attributed_to_the_first_rule_it_broke() -> None:
    rejected = rejected_rows([UNIQUE, RANGE])
    assert list(rejected.columns) == REJECT_COLUMNS
    assert list(rejected.index) == [0, 1, 3]
    assert list(rejected["row"]) == [1, 2, 4]
    assert list(rejected["rule"]) == ["unique key", "range", "unique key"]
    assert rejected.loc[3, "rules"] == "invoice_id: unique key; amount: range"
    assert rejected.loc[1, "detail"] == "range rule"


def test_message_shows_sample_rows_and_their_values() -> None:
    dated = failure(("issue_date", "paid_date"), "date order", (2,), values=[{"a": 1, "b": None}])
    assert dated.message(10) == (
        "invoices.issue_date,paid_date: rule date order (date order rule) failed for 1 of 10 "
        "rows, e.g. row 3: a=1, b=empty"
    )
    assert dated.key == "issue_date,paid_date: date order"
    assert not dated.table_level


@pytest.mark.parametrize(
    ("f", "table_level"),
    [
        (COLUMNS, True),
        (failure(("amount",), "dtype", ()), True),
        (failure(("amount",), "range", (), error="boom"), True),
        (RANGE, False),
    ],
)
def test_table_level_failures(f: Failure, table_level: bool) -> None:
    assert f.table_level is table_level


def test_a_table_level_failure_without_columns_is_keyed_by_its_rule() -> None:
    assert COLUMNS.key == "columns"
    assert COLUMNS.message() == (
        "invoices: rule columns (exactly the contract columns) failed: missing columns ['amount']"
    )


def report(on_bad_rows: str) -> ValidationReport:
    failures = (UNIQUE, RANGE, COLUMNS)
    rejected = rejected_rows([UNIQUE, RANGE])
    result = TableResult("invoices", 5, 7, failures, rejected)
    return ValidationReport(pd.Timestamp("2024-12-31"), on_bad_rows, {"invoices": result})


def test_table_result_counts_kept_and_rejected_rows() -> None:
    result = report("fail").tables["invoices"]
    assert result.rows_kept == 2
    assert result.rejected_by_rule() == {"amount: range": 1, "invoice_id: unique key": 2}


@pytest.mark.parametrize(("mode", "blocking"), [("fail", 3), ("quarantine", 1)])
def test_quarantine_stops_only_on_table_level_failures(mode: str, blocking: int) -> None:
    assert len(report(mode).blocking) == blocking
    assert not report(mode).success


def test_report_summary_is_json_ready() -> None:
    summary = report("quarantine").to_dict()
    json.dumps(summary, allow_nan=False)
    assert (summary["rows_in"], summary["rows_kept"], summary["rows_rejected"]) == (5, 2, 3)
    assert summary["stopped"] is True and summary["as_of_date"] == "2024-12-31"
    assert "positions" not in summary["tables"]["invoices"]["failures"][0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int64(3), 3),
        (np.float64("nan"), None),
        (pd.NaT, None),
        (pd.Timestamp("2024-01-31"), "2024-01-31"),
        (pd.Timestamp("2024-01-31 12:30"), "2024-01-31T12:30:00"),
        ((1, np.bool_(True)), [1, True]),
        ({1: np.array([0.5])}, {"1": [0.5]}),
        ("x", "x"),
    ],
)
def test_jsonable(value: object, expected: object) -> None:
    assert jsonable(value) == expected


def test_no_cells_is_an_empty_unparsed_table() -> None:
    cells = no_cells()
    assert cells.empty and list(cells.columns) == list(UNPARSED_COLUMNS)
