"""Broken inputs through the real ingest and validate stages: each is named, none is lost.

One folder carries every row-level case at once (a distinct row per case, so one Great
Expectations run covers them all) and goes through ``ingest`` and ``validate`` with
``on_bad_rows: quarantine``. Each case then asserts the rule its row was rejected with, and
every table that rows in = rows kept + rows rejected, in the summary and on disk. File-level
problems each get their own folder and must fail ``ingest`` with one line naming the file.

Decisions these tests pin down: ids are stripped of stray whitespace and accepted; a second
currency without an FX table breaks ``single currency``; an industry missing from a given
``industry_index`` breaks ``foreign key``; a cell that does not parse breaks ``type`` (a whole
column that does not parse is a file error); rows of a rejected customer are rejected too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest
import yaml

from pipelines import ingest, validate
from pipelines.io.files import StageError
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config

AS_OF = "2024-12-31"
CUSTOMER = [
    "customer_id",
    "name",
    "country",
    "region",
    "industry",
    "annual_revenue",
    "relationship_start",
    "credit_limit",
    "payment_terms_days",
]
INVOICE = [
    "invoice_id",
    "customer_id",
    "issue_date",
    "due_date",
    "amount",
    "currency",
    "paid_date",
    "paid_amount",
    "disputed",
]
FINANCIAL = [
    "customer_id",
    "period_end",
    "available_date",
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "cash",
    "revenue",
    "ebit",
    "net_income",
    "operating_cash_flow",
    "interest_expense",
]


def customer(cid: str, **change: str) -> dict[str, str]:
    row = dict(
        zip(
            CUSTOMER,
            [
                cid,
                f"Firm {cid.strip()}",
                "DE",
                "DACH",
                "retail",
                "1000000",
                "2020-01-31",
                "10000",
                "30",
            ],
            strict=True,
        )
    )
    return row | change


def invoice(iid: str, cid: str = "C1", **change: str) -> dict[str, str]:
    row = dict(
        zip(
            INVOICE,
            [iid, cid, "2024-03-01", "2024-03-31", "100", "EUR", "2024-03-20", "100", "no"],
            strict=True,
        )
    )
    return row | change


def financial(cid: str, period: str, **change: str) -> dict[str, str]:
    row = dict(zip(FINANCIAL, [cid, period, ""] + ["100"] * 10, strict=True))
    return row | change


class Case(NamedTuple):
    """A broken row: where it is, how to find it, and the rule it must be rejected with."""

    table: str
    id_column: str
    id_value: str
    rule: str  # ``columns: rule`` as in the summary; "" = accepted, not rejected
    rows: int = 1


# case -> (row(s) added to the folder, expected outcome)
ROWS: dict[str, tuple[list[dict[str, str]], Case]] = {
    "duplicate customer id": (
        [customer("CDUP"), customer("CDUP", name="Other")],
        Case("customers", "customer_id", "CDUP", "customer_id: unique key", 2),
    ),
    "negative credit limit": (
        [customer("CBAD", credit_limit="-1")],
        Case("customers", "customer_id", "CBAD", "credit_limit: range"),
    ),
    "text in a numeric column": (
        [customer("CTEXT", credit_limit="lots")],
        Case("customers", "customer_id", "CTEXT", "credit_limit: type"),
    ),
    "payment terms of 400 days": (
        [customer("CTERMS", payment_terms_days="400")],
        Case("customers", "customer_id", "CTERMS", "payment_terms_days: range"),
    ),
    "fraction in a whole-number column": (
        [customer("CFRAC", payment_terms_days="30.5")],
        Case("customers", "customer_id", "CFRAC", "payment_terms_days: type"),
    ),
    "industry not in industry_index": (
        [customer("CIND", industry="space mining")],
        Case("customers", "customer_id", "CIND", "industry: foreign key"),
    ),
    "customer without an id": (
        [customer("", name="Firm NOID")],
        Case("customers", "name", "Firm NOID", "customer_id: not null"),
    ),
    "relationship ending before it starts": (
        [customer("CEND", relationship_end="2019-06-30")],
        Case("customers", "customer_id", "CEND", "relationship_start,relationship_end: date order"),
    ),
    "spreadsheet zero date": (
        [customer("CSTART", relationship_start="1899-12-30")],
        Case("customers", "customer_id", "CSTART", "relationship_start: date range"),
    ),
    "stray whitespace in ids (accepted)": (  # the customer is " C7 " (clean_folder)
        [invoice("I7", "C7 ")],
        Case("invoices", "invoice_id", "I7", ""),
    ),
    "orphan invoice": (
        [invoice("I-ORPHAN", "C404")],
        Case("invoices", "invoice_id", "I-ORPHAN", "customer_id: foreign key"),
    ),
    "invoice of a rejected customer": (
        [invoice("I-CASCADE", "CBAD")],
        Case("invoices", "invoice_id", "I-CASCADE", "customer_id: foreign key"),
    ),
    "missing customer id": (
        [invoice("I-NOCUST", "")],
        Case("invoices", "invoice_id", "I-NOCUST", "customer_id: not null"),
    ),
    "duplicate invoice id": (
        [invoice("I-DUP"), invoice("I-DUP", amount="5", paid_amount="5")],
        Case("invoices", "invoice_id", "I-DUP", "invoice_id: unique key", 2),
    ),
    "negative amount": (
        [invoice("I-NEG", amount="-10", paid_date="", paid_amount="")],
        Case("invoices", "invoice_id", "I-NEG", "amount: range"),
    ),
    "NaN amount": (
        [invoice("I-NAN", amount="NaN", paid_date="", paid_amount="")],
        Case("invoices", "invoice_id", "I-NAN", "amount: not null"),
    ),
    "infinite amount": (
        [invoice("I-INF", amount="inf", paid_date="", paid_amount="")],
        Case("invoices", "invoice_id", "I-INF", "amount: type"),
    ),
    "text amount": (
        [invoice("I-TEXT", amount="twelve", paid_date="", paid_amount="")],
        Case("invoices", "invoice_id", "I-TEXT", "amount: type"),
    ),
    "impossible date": (
        [invoice("I-FEB30", issue_date="2024-02-30")],
        Case("invoices", "invoice_id", "I-FEB30", "issue_date: type"),
    ),
    "a date that does not parse": (
        [invoice("I-SOON", due_date="soon")],
        Case("invoices", "invoice_id", "I-SOON", "due_date: type"),
    ),
    "due before issue": (
        [invoice("I-DUE", due_date="2024-02-01")],
        Case("invoices", "invoice_id", "I-DUE", "issue_date,due_date: date order"),
    ),
    "paid before issue": (
        [invoice("I-PAIDEARLY", paid_date="2024-02-01")],
        Case("invoices", "invoice_id", "I-PAIDEARLY", "issue_date,paid_date: date order"),
    ),
    "issued after the as-of date": (
        [
            invoice(
                "I-FUTURE",
                issue_date="2025-03-01",
                due_date="2025-03-31",
                paid_date="",
                paid_amount="",
            )
        ],
        Case("invoices", "invoice_id", "I-FUTURE", "issue_date: date range"),
    ),
    "paid more than invoiced": (
        [invoice("I-OVERPAID", paid_amount="150")],
        Case("invoices", "invoice_id", "I-OVERPAID", "paid_amount,amount: plausibility"),
    ),
    "invoice terms of 400 days": (
        [
            invoice(
                "I-TERMS",
                issue_date="2024-01-10",
                due_date="2025-02-13",
                paid_date="",
                paid_amount="",
            )
        ],
        Case("invoices", "invoice_id", "I-TERMS", "issue_date,due_date: range"),
    ),
    "unknown currency": (
        [invoice("I-XXX", currency="EURO")],
        Case("invoices", "invoice_id", "I-XXX", "currency: allowed set"),
    ),
    "second currency without FX rates": (
        [invoice("I-USD", currency="USD")],
        Case("invoices", "invoice_id", "I-USD", "currency: single currency"),
    ),
    "not a yes/no": (
        [invoice("I-BOOL", disputed="maybe")],
        Case("invoices", "invoice_id", "I-BOOL", "disputed: type"),
    ),
    "duplicate statement": (
        [financial("C1", "2022-12-31"), financial("C1", "2022-12-31", cash="5")],
        Case("financials", "period_end", "2022-12-31", "customer_id,period_end: unique key", 2),
    ),
    "statement available before its period ends": (
        [financial("C2", "2021-12-31", available_date="2021-06-30")],
        Case("financials", "period_end", "2021-12-31", "period_end,available_date: date order"),
    ),
    "negative total assets": (
        [financial("C3", "2020-12-31", total_assets="-5")],
        Case("financials", "period_end", "2020-12-31", "total_assets: range"),
    ),
    "unknown event type": (
        [
            {
                "customer_id": "C1",
                "event_date": "2024-05-01",
                "event_type": "alien_invasion",
                "description": "case-type",
            }
        ],
        Case("events", "description", "case-type", "event_type: allowed set"),
    ),
    "event after the as-of date": (
        [
            {
                "customer_id": "C1",
                "event_date": "2025-06-01",
                "event_type": "legal_dispute",
                "description": "case-future",
            }
        ],
        Case("events", "description", "case-future", "event_date: date range"),
    ),
    "duplicate index month": (
        [
            {"industry": "retail", "month": "2024-09-30", "value": "100"},
            {"industry": "retail", "month": "2024-09-30", "value": "101"},
        ],
        Case("industry_index", "month", "2024-09-30", "industry,month: unique key", 2),
    ),
    "unknown default type": (
        [{"customer_id": "C1", "default_date": "2024-05-31", "default_type": "bankrupt"}],
        Case("defaults", "default_date", "2024-05-31", "default_type: allowed set"),
    ),
    "default of an unknown customer": (
        [{"customer_id": "C404", "default_date": "2024-06-30", "default_type": "insolvency"}],
        Case("defaults", "default_date", "2024-06-30", "customer_id: foreign key"),
    ),
    "text in an attribute": (
        [{"customer_id": "C3", "known_date": "2024-03-31", "bureau_score": "high"}],
        Case("attributes", "known_date", "2024-03-31", "bureau_score: type"),
    ),
    "lower-case currency with blanks (accepted)": (
        [invoice("I-LOWER", currency=" eur ")],
        Case("invoices", "invoice_id", "I-LOWER", ""),
    ),
    "zero-width space: a look-alike id": (
        [customer("CZW"), customer("CZ\u200bW", name="Look-alike")],
        Case("customers", "customer_id", "CZW", "customer_id: unique key", 2),
    ),
    "NUL byte in a name (removed, accepted)": (
        [customer("CNUL", name="Firm\x00 NUL")],
        Case("customers", "customer_id", "CNUL", ""),
    ),
    "a 1 MB name": (
        [customer("CLONG", name="x" * 1_000_000)],
        Case("customers", "customer_id", "CLONG", "name: length"),
    ),
    "attribute of an unknown customer": (
        [{"customer_id": "C404", "known_date": "2024-04-30", "bureau_score": "500"}],
        Case("attributes", "known_date", "2024-04-30", "customer_id: foreign key"),
    ),
}


def clean_folder() -> dict[str, list[dict[str, str]]]:
    """Rows that break nothing, table by table."""
    return {
        "customers": [
            customer("C1"),
            customer("C2", industry="steel"),
            customer("C3"),
            customer("C4", industry="steel"),
            customer(" C7 "),
        ],
        "invoices": [invoice(f"I{i}", f"C{1 + i % 4}") for i in range(1, 7)],
        "financials": [financial("C1", "2023-12-31"), financial("C2", "2023-12-31")],
        "events": [
            {
                "customer_id": "C1",
                "event_date": "2024-02-01",
                "event_type": "legal_dispute",
                "description": "court",
            }
        ],
        "industry_index": [
            {"industry": i, "month": m, "value": "100"}
            for i in ("retail", "steel")
            for m in ("2024-10-31", "2024-11-30")
        ],
        "defaults": [
            {"customer_id": "C2", "default_date": "2024-09-30", "default_type": "write_off"}
        ],
        "attributes": [{"customer_id": "C1", "known_date": "2024-01-31", "bureau_score": "610"}],
    }


def write_folder(folder: Path, rows: dict[str, list[dict[str, str]]]) -> None:
    """One CSV per table; customers with a UTF-8 byte-order mark, as Excel writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in rows.items():
        encoding = "utf-8-sig" if name == "customers" else "utf-8"
        pd.DataFrame(table).to_csv(folder / f"{name}.csv", index=False, encoding=encoding)


def config(
    root: Path, folder: Path, mode: str = "quarantine", max_reject_share: float = 1.0,
    **ingest_keys,
) -> Config:  # fmt: skip
    """The config, also written to ``root/params.yaml`` for the command-line runs.

    ``max_reject_share`` is 1 unless a test sets it: the row cases' folder rejects most of some
    tables on purpose.
    """
    raw = {
        "ingest": {"source": "folder", "path": str(folder), "as_of_date": AS_OF} | ingest_keys,
        "validate": {"on_bad_rows": mode, "sample_rows": 3, "max_reject_share": max_reject_share},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(raw))
    return Config.model_validate(raw)


@pytest.fixture
def commands(tmp_path, command_at) -> Paths:
    """The command lines of ingest and validate, working on ``tmp_path``; its paths."""
    paths = Paths(tmp_path)
    command_at(ingest, paths)
    command_at(validate, paths)
    return paths


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory) -> Paths:
    """Every row-level case in one folder, through ingest and a quarantine validate."""
    paths = Paths(tmp_path_factory.mktemp("book"))
    rows = clean_folder()
    for added, case in ROWS.values():
        rows[case.table] = rows[case.table] + added
    write_folder(paths.root / "in", rows)
    cfg = config(paths.root, paths.root / "in")
    ingest.run(cfg, paths)
    validate.run(cfg, paths)
    return paths


def _read(paths: Paths, kind: str, table: str) -> pd.DataFrame:
    path = {
        "raw": paths.raw_table(table),
        "kept": paths.validated_table(table),
        "rejects": paths.validation_rejects(table),
    }[kind]
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.read_parquet(path)
    for name in frame.columns[[pd.api.types.is_datetime64_any_dtype(t) for t in frame.dtypes]]:
        frame[name] = frame[name].dt.strftime("%Y-%m-%d")  # as in the rejects files
    return frame.astype(str)


@pytest.mark.parametrize("case", list(ROWS))
def test_each_broken_row_is_rejected_with_its_rule(quarantined: Paths, case: str) -> None:
    _, expected = ROWS[case]
    table, column, value = expected.table, expected.id_column, expected.id_value

    def hits(kind: str) -> pd.DataFrame:
        frame = _read(quarantined, kind, table)
        return frame[frame[column] == value]

    assert len(hits("raw")) == expected.rows  # ingest keeps every row it read
    rejected, kept = hits("rejects"), hits("kept")
    if not expected.rule:
        assert (len(rejected), len(kept)) == (0, expected.rows)
        return
    assert len(kept) == 0 and len(rejected) == expected.rows
    assert set(rejected["column"] + ": " + rejected["rule"]) == {expected.rule}


def test_no_row_disappears(quarantined: Paths) -> None:
    summary = json.loads(quarantined.validation_summary.read_text())
    want = {}
    for _, case in ROWS.values():
        if case.rule:
            by_rule = want.setdefault(case.table, {})
            by_rule[case.rule] = by_rule.get(case.rule, 0) + case.rows
    for name, result in summary["tables"].items():
        raw, kept, rejects = (len(_read(quarantined, k, name)) for k in ("raw", "kept", "rejects"))
        assert result["rows_in"] == raw == kept + rejects, name
        assert (result["rows_kept"], result["rows_rejected"]) == (kept, rejects), name
        assert sum(result["rejected_by_rule"].values()) == rejects, name
        assert result["rejected_by_rule"] == want.get(name, {}), name
    assert summary["rows_in"] == summary["rows_kept"] + summary["rows_rejected"]
    manifest = json.loads(quarantined.validated_manifest.read_text())
    assert manifest["tables"] == {n: r["rows_kept"] for n, r in summary["tables"].items()}


def test_accepted_quirks(quarantined: Paths) -> None:
    customers = _read(quarantined, "kept", "customers")
    assert list(customers.columns)[0] == "customer_id"  # the byte-order mark is gone
    # " C7 " stripped; CNUL's name lost its NUL byte
    assert sorted(customers["customer_id"]) == ["C1", "C2", "C3", "C4", "C7", "CNUL"]
    assert customers.set_index("customer_id").loc["CNUL", "name"] == "Firm NUL"
    invoices = _read(quarantined, "kept", "invoices")
    assert sorted(invoices["invoice_id"]) == ["I-LOWER", *[f"I{i}" for i in range(1, 8)]]
    assert set(invoices["currency"]) == {"EUR"}  # " eur " read as the contract's EUR
    rejects = _read(quarantined, "rejects", "invoices").set_index("invoice_id")
    assert rejects.loc["I-TEXT", "amount"] == "twelve"  # the value as given, not a blank
    assert (quarantined.data_docs / "index.html").is_file()


def _ledger(root: Path) -> Path:
    rows = clean_folder()
    write_folder(root / "in", {k: rows[k] for k in ("customers", "invoices")})
    return root / "in"


def test_fail_mode_names_table_column_rule_count_and_rows(tmp_path, commands, capsys) -> None:
    folder = _ledger(tmp_path)
    rows = pd.read_csv(folder / "invoices.csv", dtype=str)
    rows.loc[2, "invoice_id"] = "I1"
    rows.to_csv(folder / "invoices.csv", index=False)
    config(tmp_path, folder, "fail")  # writes params.yaml
    params = str(tmp_path / "params.yaml")
    ingest.main(["--config", params])
    with pytest.raises(SystemExit):
        validate.main(["--config", params])
    err = capsys.readouterr().err
    assert (
        "error: 1 validation rule(s) failed:\ninvoices.invoice_id: rule unique key (must be "
        "unique) failed for 2 of 6 rows, e.g. row 1: 'I1'; row 3: 'I1'\n"
    ) in err
    assert not commands.validated.exists()
    summary = json.loads(commands.validation_summary.read_text())
    assert summary["tables"]["invoices"]["rows_rejected"] == 2 and summary["stopped"]


def test_fail_mode_without_bad_rows_passes_the_raw_tables_on(tmp_path, commands) -> None:
    folder = _ledger(tmp_path)
    config(tmp_path, folder, "fail")  # writes params.yaml
    ingest.main(["--config", str(tmp_path / "params.yaml")])
    validate.main(["--config", str(tmp_path / "params.yaml")])
    for name in ("customers", "invoices"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(commands.validated_table(name)),
            pd.read_parquet(commands.raw_table(name)),
        )


def _rewrite(table: str, **to_csv):
    def change(folder: Path) -> None:
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.to_csv(folder / f"{table}.csv", index=False, **to_csv)

    return change


def _replace(table: str, data: bytes):
    def change(folder: Path) -> None:
        (folder / f"{table}.csv").write_bytes(data)

    return change


def _edit(table: str, column: str, value: str | None):
    def change(folder: Path) -> None:
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        frame = frame.drop(columns=column) if value is None else frame.assign(**{column: value})
        frame.to_csv(folder / f"{table}.csv", index=False)

    return change


FILE_ERRORS = {
    "0-byte file": (_replace("customers", b""), r"customers.csv: the file is empty \(0 bytes\)"),
    "blank lines only": (_replace("invoices", b"\n\n"), r"invoices.csv: no header line"),
    "header only (required table)": (
        _replace("customers", (",".join(CUSTOMER) + "\n").encode()),
        r"customers.csv: no rows, only a header: the customers table is required",
    ),
    "wrong delimiter": (
        _rewrite("invoices", sep=";"),
        r"invoices.csv: one column 'invoice_id;customer_id;.*looks ';'-separated; set "
        r"ingest.delimiter \(or ingest.tables.invoices.delimiter\) to ';'",
    ),
    "decimal comma in a comma-separated file": (
        _replace(
            "invoices",
            (",".join(INVOICE) + "\nI1,C1,2024-03-01,2024-03-31,100,50,EUR,,,no\n").encode(),
        ),
        r"invoices.csv: the rows have more fields than the header; a decimal comma",
    ),
    "undecodable bytes": (
        _rewrite("customers", encoding="gbk"),  # after the name is made Chinese below
        r"customers.csv: not utf-8 text \(byte b'\\xc9' at offset \d+\); set ingest.encoding or "
        r"ingest.tables.customers.encoding, e.g. gbk",
    ),
    "missing required column": (
        _edit("invoices", "amount", None),
        r"invoices.csv: missing required column\(s\) \['amount'\] \(found \[.*\]\); name yours "
        r"with ingest.tables.invoices.columns",
    ),
    "a date column that does not parse": (
        _edit("invoices", "issue_date", "05.01.2024"),
        r"invoices.csv: column 'issue_date': none of its 6 values is a date, ISO 8601 "
        r"\(2024-01-31\) \(e.g. \['05.01.2024', .*\]\); set ingest.date_format",
    ),
    "numbers written 1.234,56": (
        _edit("invoices", "amount", "1.234,56"),
        r"invoices.csv: column 'amount': none of its 6 values is .*\(e.g. \['1.234,56', .*\]\); "
        r"for numbers written 1.234,56 set ingest.decimal: ',' and ingest.thousands: '.'",
    ),
    "corrupt Parquet": (
        lambda f: [(f / "invoices.csv").unlink(), (f / "invoices.parquet").write_bytes(b"PAR1x")],
        r"invoices.parquet: not a readable Parquet file",
    ),
    "no invoices nor defaults": (
        lambda f: (f / "invoices.csv").unlink(),
        r"needs invoices or defaults \(payment history or known defaults to learn from\)",
    ),
}


@pytest.mark.parametrize("case", list(FILE_ERRORS))
def test_malformed_files_fail_ingest_with_one_line(tmp_path, commands, capsys, case) -> None:
    folder = _ledger(tmp_path)
    if case == "undecodable bytes":
        _edit("customers", "name", "深圳华强电子")(folder)
    change, message = FILE_ERRORS[case]
    change(folder)
    config(tmp_path, folder)  # writes params.yaml
    with pytest.raises(SystemExit):
        ingest.main(["--config", str(tmp_path / "params.yaml")])
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {folder}") or case == "no invoices nor defaults"
    assert re.search(message, err[-1]), err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not commands.raw.exists()  # nothing half-written


def test_files_that_need_a_setting_are_read_with_it(tmp_path) -> None:
    folder = _ledger(tmp_path)
    _edit("customers", "name", "深圳华强电子")(folder)
    _rewrite("customers", encoding="gbk")(folder)
    _edit("invoices", "currency", None)(folder)
    header_only = pd.DataFrame(columns=["customer_id", "event_date", "event_type"])
    header_only.to_csv(folder / "events.csv", index=False)
    cfg = config(
        tmp_path, folder, encoding="gbk", currency="EUR", tables={"invoices": {"encoding": "utf-8"}}
    )
    paths = Paths(tmp_path)
    ingest.run(cfg, paths)
    assert set(pd.read_parquet(paths.raw_table("customers"))["name"]) == {"深圳华强电子"}
    assert set(pd.read_parquet(paths.raw_table("invoices"))["currency"]) == {"EUR"}
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["tables"]["events"] == 0 and manifest["currency"] == "EUR"


def test_a_file_outside_the_ingest_folder_is_not_opened(tmp_path, commands, capsys) -> None:
    folder = _ledger(tmp_path)
    (tmp_path / "secret.csv").write_text("customer_id\nCX\n")
    config(tmp_path, folder, tables={"customers": {"file": "../secret.csv"}})
    with pytest.raises(SystemExit):
        ingest.main(["--config", str(tmp_path / "params.yaml")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"error: ingest.tables.customers.file: ../secret.csv is outside the ingest folder "
        f"{folder}; name a file in it"
    )


def test_quarantine_that_would_set_most_of_a_table_aside_stops(tmp_path, commands, capsys):
    folder = _ledger(tmp_path)
    _edit("invoices", "currency", "EURO")(folder)  # every invoice breaks the allowed set
    config(tmp_path, folder, max_reject_share=0.05)
    ingest.main(["--config", str(tmp_path / "params.yaml")])
    with pytest.raises(SystemExit):
        validate.main(["--config", str(tmp_path / "params.yaml")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "error: validate: invoices: 6 of 6 rows (100%) would be set aside, more than "
        "validate.max_reject_share 5%; most by currency: allowed set (6 rows): fix the data or "
        "its ingest settings, or raise validate.max_reject_share"
    )
    assert not commands.validated.exists()  # nothing goes on without the invoices


def test_a_date_after_today_does_not_set_the_as_of_date(tmp_path, commands) -> None:
    folder = _ledger(tmp_path)
    invoices = pd.read_csv(folder / "invoices.csv", dtype=str, keep_default_na=False)
    invoices.loc[0, "paid_date"] = "2205-03-01"  # a typo for 2025
    invoices.to_csv(folder / "invoices.csv", index=False)
    dates = pd.concat([invoices["issue_date"], invoices["paid_date"]])
    latest = dates[(dates != "") & (dates < "2200")].max()
    config(tmp_path, folder, as_of_date=None)
    ingest.main(["--config", str(tmp_path / "params.yaml")])
    assert json.loads(commands.manifest.read_text())["as_of_date"] == latest


def test_invisible_characters_are_named_where_they_are_removed(tmp_path, caplog) -> None:
    folder = _ledger(tmp_path)
    _edit("customers", "name", "Firm\u200b One")(folder)
    cfg = config(tmp_path, folder)
    with caplog.at_level("WARNING"):
        ingest.run(cfg, Paths(tmp_path))
    assert any(
        "customers.csv: column 'name': invisible or control characters removed from" in m
        for m in caplog.messages
    ), caplog.messages
    names = pd.read_parquet(Paths(tmp_path).raw_table("customers"))["name"]
    assert (names == "Firm One").all()


def test_attribute_names_a_model_cannot_take_are_made_safe_and_named(tmp_path, caplog):
    folder = _ledger(tmp_path)
    attributes = {"customer_id": ["C1"], "known_date": ["2024-01-31"], 'risk: "A" [1-5]': ["3"]}
    pd.DataFrame(attributes).to_csv(folder / "attributes.csv", index=False)
    cfg = config(tmp_path, folder)
    with caplog.at_level("WARNING"):
        ingest.run(cfg, Paths(tmp_path))
    assert any("column 'risk: \"A\" [1-5]' is named 'risk_A_1-5'" in m for m in caplog.messages)
    assert "risk_A_1-5" in pd.read_parquet(Paths(tmp_path).raw_table("attributes"))
    attributes["risk A [1-5]"] = ["4"]  # the same name once made safe
    pd.DataFrame(attributes).to_csv(folder / "attributes.csv", index=False)
    with pytest.raises(StageError, match=r"columns \['risk_A_1-5'\] would appear twice"):
        ingest.run(cfg, Paths(tmp_path / "again"))


def test_an_invoice_before_the_relationship_start_is_flagged_and_kept(tmp_path, caplog) -> None:
    folder = _ledger(tmp_path)
    rows = pd.read_csv(folder / "invoices.csv", dtype=str)
    rows.loc[2, ["issue_date", "due_date"]] = ["2019-06-01", "2019-07-01"]  # C4 starts 2020-01-31
    rows.to_csv(folder / "invoices.csv", index=False)
    cfg, paths = config(tmp_path, folder), Paths(tmp_path)
    ingest.run(cfg, paths)
    with caplog.at_level("WARNING"):
        validate.run(cfg, paths)
    message = (
        "invoices: 1 invoice(s) of 1 customer(s) have issue_date before the customer's "
        "relationship_start (customers), e.g. row 3 (invoice I3, customer C4, issued 2019-06-01, "
        "relationship_start 2020-01-31); kept: the tenure features count from "
        "relationship_start, so correct it where the relationship began earlier"
    )
    assert f"validate: {message}" in caplog.messages
    summary = json.loads(paths.validation_summary.read_text())
    (flag,) = summary["flags"]
    assert flag["rows"] == 1 and flag["sample"][0]["row"] == 3 and flag["message"] == message
    assert summary["tables"]["invoices"]["rows_rejected"] == 0
    assert len(pd.read_parquet(paths.validated_table("invoices"))) == 6
