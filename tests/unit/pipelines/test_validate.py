import json
from collections.abc import Callable

import pandas as pd
import pytest

from features.contract import TABLES
from pipelines import validate
from pipelines.validate import contract_rules, validate_tables

AS_OF = pd.Timestamp("2024-12-31")
D = pd.Timestamp


def clean_tables() -> dict[str, pd.DataFrame]:
    """A small, contract-conforming set of all seven tables (fresh frames on each call)."""
    ids = ["C1", "C2", "C3"]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "name": ["Alpha", "Beta", "Gamma"],
            "country": ["DE", "FR", "IT"],
            "region": ["EU"] * 3,
            "industry": ["retail", "steel", "retail"],
            "annual_revenue": [1e6, None, 5e5],
            "relationship_start": [D("2019-01-01"), D("2020-06-30"), D("2021-03-31")],
            "credit_limit": [1e4, 5e4, 0.0],
            "payment_terms_days": [30, 60, 90],
        }
    )
    invoices = pd.DataFrame(
        {
            "invoice_id": ["INV-1", "INV-2", "INV-3", "INV-4"],
            "customer_id": ["C1", "C1", "C2", "C3"],
            "issue_date": [D("2024-01-05"), D("2024-02-05"), D("2024-03-01"), D("2024-12-31")],
            "due_date": [D("2024-02-04"), D("2024-03-06"), D("2024-04-30"), D("2025-03-31")],
            "amount": [100.0, 250.5, 1000.0, 0.01],
            "currency": ["EUR", "EUR", "USD", "GBP"],
            "paid_date": [D("2024-02-01"), D("2024-02-05"), pd.NaT, pd.NaT],
            "paid_amount": [100.0, 250.5, None, None],
            "disputed": [False, False, True, False],
        }
    )
    financials = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2"],
            "period_end": [D("2022-12-31"), D("2023-12-31"), D("2023-12-31")],
            "available_date": [D("2023-04-30"), D("2024-04-30"), pd.NaT],
            **{
                c.name: [10.0, 20.0, None]
                for c in TABLES["financials"].columns
                if c.kind == "float"
            },
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C2", "C3"],
            "event_date": [D("2023-05-01"), D("2024-07-15")],
            "event_type": ["legal_dispute", "rating_downgrade"],
            "description": ["court case", None],
        }
    )
    industry_index = pd.DataFrame(
        {
            "industry": ["retail", "retail", "steel"],
            "month": [D("2024-10-31"), D("2024-11-30"), D("2024-11-30")],
            "value": [101.0, -3.5, 98.0],
        }
    )
    defaults = pd.DataFrame(
        {"customer_id": ["C2"], "default_date": [D("2024-09-30")], "default_type": ["write_off"]}
    )
    attributes = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C3"],
            "known_date": [D("2024-01-31"), D("2024-06-30"), D("2024-06-30")],
            "bureau_score": [610.0, 630.0, 480.0],
        }
    )
    return {
        "customers": customers,
        "invoices": invoices,
        "financials": financials,
        "events": events,
        "industry_index": industry_index,
        "defaults": defaults,
        "attributes": attributes,
    }


def _ledger() -> dict[str, pd.DataFrame]:
    """Only customers and invoices: fewer suites, faster tests."""
    return {k: v for k, v in clean_tables().items() if k in ("customers", "invoices")}


def _set(table: str, column: str, row: int, value: object) -> Callable[[dict], None]:
    def mutate(tables: dict[str, pd.DataFrame]) -> None:
        tables[table].loc[row, column] = value

    return mutate


def _duplicate_row(table: str, source: int, target: int) -> Callable[[dict], None]:
    def mutate(tables: dict[str, pd.DataFrame]) -> None:
        frame = tables[table]
        frame.loc[target] = frame.loc[source]

    return mutate


BROKEN = {
    "duplicated invoice_id": (
        _set("invoices", "invoice_id", 1, "INV-1"),
        ("invoices", ("invoice_id",), "expect_column_values_to_be_unique", "'INV-1'"),
    ),
    "due_date before issue_date": (
        _set("invoices", "due_date", 2, D("2024-02-01")),
        (
            "invoices",
            ("issue_date", "due_date"),
            "expect_column_pair_values_a_to_be_greater_than_b",
            "'due_date': '2024-02-01'",
        ),
    ),
    "paid_date before issue_date": (
        _set("invoices", "paid_date", 0, D("2023-12-24")),
        (
            "invoices",
            ("issue_date", "paid_date"),
            "expect_column_pair_values_a_to_be_greater_than_b",
            "'paid_date': '2023-12-24'",
        ),
    ),
    "orphan invoice customer_id": (
        _set("invoices", "customer_id", 3, "C404"),
        ("invoices", ("customer_id",), "expect_column_values_to_be_in_set", "'C404'"),
    ),
    "negative amount": (
        _set("invoices", "amount", 0, -5.0),
        ("invoices", ("amount",), "expect_column_values_to_be_between", "-5.0"),
    ),
    "null customer_id": (
        _set("invoices", "customer_id", 2, None),
        ("invoices", ("customer_id",), "expect_column_values_to_not_be_null", "rows [2]"),
    ),
    "unknown event_type": (
        _set("events", "event_type", 1, "alien_invasion"),
        ("events", ("event_type",), "expect_column_values_to_be_in_set", "'alien_invasion'"),
    ),
    "payment_terms_days 400": (
        _set("customers", "payment_terms_days", 0, 400),
        ("customers", ("payment_terms_days",), "expect_column_values_to_be_between", "400"),
    ),
    "event dated after as_of_date": (
        _set("events", "event_date", 0, D("2025-01-01")),
        ("events", ("event_date",), "expect_column_values_to_be_between", "'2025-01-01'"),
    ),
    "duplicate (customer_id, period_end)": (
        _duplicate_row("financials", 1, 0),
        (
            "financials",
            ("customer_id", "period_end"),
            "expect_compound_columns_to_be_unique",
            "'period_end': '2023-12-31'",
        ),
    ),
}


@pytest.fixture(scope="module")
def clean_report() -> validate.ValidationReport:
    return validate_tables(clean_tables(), AS_OF, sample_rows=5)


def test_clean_tables_pass(clean_report: validate.ValidationReport) -> None:
    assert clean_report.success, [f.message() for f in clean_report.failures]
    assert set(clean_report.tables) == set(TABLES)
    assert clean_report.tables["invoices"].rows == 4
    assert all(r.rules_evaluated > 1 for r in clean_report.tables.values())


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_input_names_table_column_and_rule(case: str) -> None:
    mutate, (table, columns, expectation, sample) = BROKEN[case]
    tables = clean_tables()
    mutate(tables)
    tables = {name: tables[name] for name in ("customers", table)}  # fewer suites: faster
    report = validate_tables(tables, AS_OF, sample_rows=5)
    assert len(report.failures) == 1, [f.message() for f in report.failures]
    failure = report.failures[0]
    assert (failure.table, failure.columns, failure.expectation) == (table, columns, expectation)
    message = failure.message()
    assert message.startswith(f"{table}.{','.join(columns)}: rule {expectation} (")
    assert sample in message
    assert report.tables[table].rules_evaluated > 0


def test_message_format_for_duplicate_key() -> None:
    tables = _ledger()
    tables["invoices"].loc[1, "invoice_id"] = "INV-1"
    (failure,) = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert failure.message() == (
        "invoices.invoice_id: rule expect_column_values_to_be_unique (key must be unique) "
        "failed for 2 rows, e.g. ['INV-1', 'INV-1']"
    )
    assert [row["_row"] for row in failure.sample_rows] == [0, 1]


def test_samples_are_capped_at_sample_rows() -> None:
    tables = {"customers": clean_tables()["customers"]}
    tables["customers"]["credit_limit"] = -1.0
    (failure,) = validate_tables(tables, AS_OF, sample_rows=2).failures
    assert failure.unexpected_count == 3
    assert failure.sample_values == [-1.0, -1.0]
    assert len(failure.sample_rows) == 2


def test_missing_contract_column_fails_column_set_rule() -> None:
    tables = _ledger()
    tables["invoices"] = tables["invoices"].drop(columns=["amount"])
    (failure,) = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert failure.expectation == "expect_table_columns_to_match_set"
    assert failure.sample_values == {"missing": ["amount"]}
    assert "failed: missing columns ['amount']" in failure.message()


def test_extra_column_fails_closed_table_only() -> None:
    tables = _ledger()
    tables["invoices"]["note"] = "x"
    tables["attributes"] = clean_tables()["attributes"].assign(another_score=1.0)
    (failure,) = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert (failure.table, failure.sample_values) == ("invoices", {"unexpected": ["note"]})
    assert "exactly the contract columns" in failure.message()


def test_rule_that_cannot_run_is_reported_as_failure() -> None:
    tables = {"customers": clean_tables()["customers"]}
    tables["customers"]["payment_terms_days"] = ["30", "x", "60"]
    (failure,) = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert failure.columns == ("payment_terms_days",)
    assert "could not be evaluated: Column values, min_value" in failure.message()


def test_failures_follow_contract_order() -> None:
    tables = _ledger()
    tables["invoices"].loc[0, ["amount", "invoice_id"]] = [-1.0, "INV-2"]
    failures = validate_tables(tables, AS_OF, sample_rows=5).failures
    assert [f.columns for f in failures] == [("invoice_id",), ("amount",)]


def test_summary_is_json_ready() -> None:
    tables = _ledger()
    tables["invoices"].loc[0, "paid_date"] = D("2023-01-01")
    summary = validate_tables(tables, AS_OF, sample_rows=5).to_dict()
    json.dumps(summary, allow_nan=False)
    invoices = summary["tables"]["invoices"]
    assert (invoices["rows"], invoices["rules_failed"]) == (4, 1)
    assert invoices["failures"][0]["sample_rows"][0]["paid_date"] == "2023-01-01"
    assert summary["success"] is False and summary["as_of_date"] == "2024-12-31"


def test_contract_rules_only_cap_event_dates() -> None:
    rules = contract_rules(TABLES["invoices"], set(TABLES["invoices"].column_names), {}, AS_OF)
    capped = [r.columns for r in rules if r.kwargs.get("max_value") is AS_OF]
    assert capped == [("issue_date",)]
    assert not any(r.name.startswith("must exist") for r in rules)  # no reference values given


@pytest.mark.parametrize(
    ("tables", "sample_rows"),
    [({}, 5), ({"invoices": pd.DataFrame()}, 5), ({"customers": pd.DataFrame(), "x": None}, 5)],
)
def test_bad_arguments_are_rejected(tables: dict, sample_rows: int) -> None:
    with pytest.raises(ValueError, match="customers"):
        validate_tables(tables, AS_OF, sample_rows)


def test_bad_sample_rows_is_rejected() -> None:
    with pytest.raises(ValueError, match="sample_rows"):
        validate_tables(clean_tables(), AS_OF, 0)


def _write_raw(root, tables: dict[str, pd.DataFrame]) -> None:
    raw = root / "data" / "raw"
    raw.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(raw / f"{name}.parquet", index=False)
    pd.DataFrame({"customer_id": ["C1"], "true_pd_12m": [0.1]}).to_parquet(raw / "truth.parquet")
    manifest = {
        "source": "test",
        "as_of_date": AS_OF.date().isoformat(),
        "tables": {name: len(frame) for name, frame in tables.items()},
        "skipped": [],
    }
    (raw / "manifest.json").write_text(json.dumps(manifest))
    (root / "params.yaml").write_text("validate:\n  sample_rows: 3\n")


def test_main_fails_with_message_and_writes_summary(tmp_path, monkeypatch, capsys) -> None:
    tables = _ledger()
    tables["invoices"].loc[1, "invoice_id"] = "INV-1"
    _write_raw(tmp_path, tables)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        validate.main(["--config", "params.yaml"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "invoices.invoice_id: rule expect_column_values_to_be_unique" in err
    assert "e.g. ['INV-1', 'INV-1']" in err
    assert "Traceback" not in err and "Calculating Metrics" not in err
    out = tmp_path / "data" / "reports" / "validation"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tables"]["invoices"]["rules_failed"] == 1
    assert (out / "docs" / "index.html").is_file()


def test_run_replaces_outputs_and_keeps_them_on_crash(tmp_path, monkeypatch) -> None:
    _write_raw(tmp_path, _ledger())
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "data" / "reports" / "validation"
    out.mkdir(parents=True)
    (out / "stale.txt").write_text("old")
    validate.main(["--config", "params.yaml"])
    assert json.loads((out / "summary.json").read_text())["success"] is True
    assert not (out / "stale.txt").exists()

    def crash(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(validate, "build_data_docs", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        validate.main(["--config", "params.yaml"])
    assert (out / "summary.json").is_file() and (out / "docs" / "index.html").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["validation"]


def test_main_fails_when_a_listed_table_is_missing(tmp_path, monkeypatch, capsys) -> None:
    _write_raw(tmp_path, clean_tables())
    (tmp_path / "data" / "raw" / "events.parquet").unlink()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        validate.main(["--config", "params.yaml"])
    assert "missing input data/raw/events.parquet" in capsys.readouterr().err
