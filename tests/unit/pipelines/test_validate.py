import html
import json
import re

import pandas as pd
import pytest

from pipelines import validate
from pipelines.checks.rejected import rejected_customers
from pipelines.io.files import StageError
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config, load_config

AS_OF = pd.Timestamp("2024-12-31")
D = pd.Timestamp


def write_raw(root, tables: dict[str, pd.DataFrame], mode: str = "fail", unparsed=None) -> Paths:
    """Write ingest's outputs under ``root`` and the params to ``root/params.yaml``."""
    paths = Paths(root)
    paths.raw.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(paths.raw_table(name), index=False)
    pd.DataFrame({"customer_id": ["C1"], "true_pd_12m": [0.1]}).to_parquet(paths.truth)
    if unparsed is not None:
        unparsed.to_parquet(paths.unparsed, index=False)
    manifest = {
        "source": "test",
        "as_of_date": AS_OF.date().isoformat(),
        "tables": {name: len(frame) for name, frame in tables.items()},
        "skipped": [],
        "snapshot_dates": [],
    }
    paths.manifest.write_text(json.dumps(manifest))
    # max_reject_share 1: these small tables lose most of their rows to one case on purpose
    settings = f"  sample_rows: 3\n  on_bad_rows: {mode}\n  max_reject_share: 1.0\n"
    (root / "params.yaml").write_text("validate:\n" + settings)
    return paths


def params(paths: Paths) -> Config:
    return load_config(paths.root / "params.yaml")


def on_disk(paths: Paths, name: str) -> tuple[int, int, int]:
    """Rows of a table in data/raw, data/validated and the rejects file."""
    raw = len(pd.read_parquet(paths.raw_table(name)))
    kept = paths.validated_table(name)
    rejects = pd.read_csv(paths.validation_rejects(name))
    return raw, len(pd.read_parquet(kept)) if kept.is_file() else 0, len(rejects)


def test_main_fails_with_message_and_writes_summary_and_rejects(
    tmp_path, command_at, capsys, ledger
):
    tables = ledger()
    tables["invoices"].loc[1, "invoice_id"] = "INV-1"
    paths = write_raw(tmp_path, tables)
    command_at(validate, paths)
    with pytest.raises(SystemExit) as exit_info:
        validate.main(["--config", str(tmp_path / "params.yaml")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert (
        "error: 1 validation rule(s) failed:\ninvoices.invoice_id: rule unique key (must be "
        "unique) failed for 2 of 4 rows, e.g. row 1: 'INV-1'; row 2: 'INV-1'\n" in err
    )
    assert f"every offending row is in {paths.validation_rejects('<table>')}" in err
    assert "set validate.on_bad_rows: quarantine" in err
    assert "Traceback" not in err and "Calculating Metrics" not in err
    summary = json.loads(paths.validation_summary.read_text())
    assert summary["tables"]["invoices"]["rules_failed"] == 1
    assert summary["tables"]["invoices"]["rejected_by_rule"] == {"invoice_id: unique key": 2}
    assert (paths.data_docs / "index.html").is_file()
    rejects = pd.read_csv(paths.validation_rejects("invoices"))
    assert rejects[["row", "rule", "column", "invoice_id"]].values.tolist() == [
        [1, "unique key", "invoice_id", "INV-1"],
        [2, "unique key", "invoice_id", "INV-1"],
    ]
    assert not paths.validated.exists()  # nothing goes on


def test_quarantine_keeps_the_rest_and_every_row_is_accounted_for(tmp_path, ledger):
    tables = ledger()
    tables["customers"].loc[2, "credit_limit"] = -5.0  # C3 and its invoice INV-4 go
    tables["invoices"].loc[1, "amount"] = None  # 'lots' in the file
    unparsed = pd.DataFrame(
        {
            "table": ["invoices"],
            "row": [1],
            "column": ["amount"],
            "value": ["lots"],
            "expected": ["a number"],
        }
    )
    paths = write_raw(tmp_path, tables, "quarantine", unparsed)
    report = validate.run(params(paths), paths)
    assert report.tables["invoices"].rejected_by_rule() == {
        "amount: type": 1,
        "customer_id: foreign key": 1,
    }
    for name in ("customers", "invoices"):
        raw, kept, rejected = on_disk(paths, name)
        assert raw == kept + rejected
    summary = json.loads(paths.validation_summary.read_text())
    assert (summary["rows_in"], summary["rows_kept"], summary["rows_rejected"]) == (7, 4, 3)
    assert summary["stopped"] is False and summary["success"] is False
    rejects = pd.read_csv(paths.validation_rejects("invoices"))
    assert rejects.set_index("invoice_id")["amount"].to_dict() == {"INV-2": "lots", "INV-4": "0.01"}
    kept = pd.read_parquet(paths.validated_table("invoices"))
    assert kept["invoice_id"].tolist() == ["INV-1", "INV-3"]
    manifest = json.loads(paths.validated_manifest.read_text())
    assert manifest["tables"] == {"customers": 2, "invoices": 2}
    assert manifest["validation"]["rows_rejected"] == {"customers": 1, "invoices": 2}
    assert manifest["snapshot_dates"] == []  # the rest of the raw manifest travels along


def test_payments_and_plans_are_checked_against_the_ledger(tmp_path, ledger):
    tables = ledger()
    invoice, customer = tables["invoices"].loc[0, ["invoice_id", "customer_id"]]
    tables["payments"] = pd.DataFrame(
        {"invoice_id": [invoice, "INV-9"], "customer_id": customer,
         "payment_date": [D("2024-06-30"), D("2024-07-31")], "amount": [10.0, 5.0]}
    )  # fmt: skip
    tables["payment_plans"] = pd.DataFrame(
        {"customer_id": customer, "agreed_date": [D("2024-03-31"), D("2024-06-30")],
         "amount": [100.0, 50.0], "instalments": pd.array([3, 2], "Int64"),
         "end_date": [D("2024-06-30"), D("2024-04-30")], "status": ["kept", "open"],
         "broken_date": pd.to_datetime([None, None])}
    )  # fmt: skip
    paths = write_raw(tmp_path, tables, "quarantine")
    report = validate.run(params(paths), paths)
    assert report.tables["payments"].rejected_by_rule() == {"invoice_id: foreign key": 1}
    assert list(report.tables["payment_plans"].rejected_by_rule()) == [
        "agreed_date,end_date: date order"
    ]
    assert pd.read_parquet(paths.validated_table("payments"))["invoice_id"].tolist() == [invoice]


def test_rejected_customers_for_the_score_stage(tmp_path, ledger):
    tables = ledger()
    tables["customers"].loc[2, "credit_limit"] = -5.0
    paths = write_raw(tmp_path, tables, "quarantine")
    rejects = paths.validation_rejects("customers")
    assert rejected_customers(rejects).empty  # not run yet
    validate.run(params(paths), paths)
    assert rejected_customers(rejects).to_dict("records") == [
        {
            "customer_id": "C3",
            "reason": "rejected by validation: credit_limit range (must be >= 0; row 3 of the "
            "customers file)",
        }
    ]


def test_validated_tables_equal_the_raw_ones_when_nothing_is_rejected(tmp_path, ledger):
    paths = write_raw(tmp_path, ledger())
    validate.run(params(paths), paths)
    for name in ("customers", "invoices"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(paths.validated_table(name)),
            pd.read_parquet(paths.raw_table(name)),
        )
        assert on_disk(paths, name)[2] == 0
    assert not paths.validated_table("truth").exists()


def test_run_replaces_outputs_and_keeps_them_on_crash(tmp_path, monkeypatch, ledger) -> None:
    paths = write_raw(tmp_path, ledger())
    out = paths.validation
    out.mkdir(parents=True)
    (out / "stale.txt").write_text("old")
    validate.run(params(paths), paths)
    assert json.loads(paths.validation_summary.read_text())["success"] is True
    assert not (out / "stale.txt").exists()

    def crash(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(validate, "build_data_docs", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        validate.run(params(paths), paths)
    # each folder is swapped in whole: the summary is this run's, the docs the last good ones
    assert paths.validation_summary.is_file() and (paths.data_docs / "index.html").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["data_docs", "validation"]


def test_a_table_level_failure_stops_a_quarantine_run(tmp_path, ledger):
    tables = ledger()
    tables["invoices"] = tables["invoices"].drop(columns="disputed")
    paths = write_raw(tmp_path, tables, "quarantine")
    with pytest.raises(StageError) as stop:
        validate.run(params(paths), paths)
    err = str(stop.value)
    assert "invoices: rule columns (exactly the contract columns) failed: missing columns" in err
    assert "quarantine" not in err


def test_no_customer_left_is_an_error(tmp_path, ledger):
    tables = ledger()
    tables["customers"]["credit_limit"] = -1.0
    paths = write_raw(tmp_path, tables, "quarantine")
    rejects = re.escape(str(paths.validation_rejects("customers")))
    with pytest.raises(StageError, match=f"no customer passed validation: see {rejects}"):
        validate.run(params(paths), paths)


def test_main_fails_when_a_listed_table_is_missing(tmp_path, command_at, capsys, ledger) -> None:
    paths = write_raw(tmp_path, ledger())
    paths.raw_table("invoices").unlink()
    command_at(validate, paths)
    with pytest.raises(SystemExit):
        validate.main(["--config", str(tmp_path / "params.yaml")])
    assert f"missing input {paths.raw_table('invoices')}" in capsys.readouterr().err


def test_rejects_files_are_safe_to_open_in_a_spreadsheet(tmp_path, command_at, ledger):
    # issue 18, F6: a rejected row's cells went into rejects_*.csv as given
    tables = ledger()
    payload = "=1+cmd|' /C calc'!A0"
    tables["invoices"].loc[1, "invoice_id"] = payload
    tables["invoices"].loc[2, "invoice_id"] = payload
    paths = write_raw(tmp_path, tables)
    command_at(validate, paths)
    with pytest.raises(SystemExit):
        validate.main(["--config", str(tmp_path / "params.yaml")])
    rejects = pd.read_csv(paths.validation_rejects("invoices"))
    assert rejects["invoice_id"].tolist() == ["'" + payload] * 2


def test_data_docs_show_a_hostile_cell_as_text(tmp_path, ledger):
    payload = "<img src=x onerror=alert(3)>"
    tables = ledger()
    tables["invoices"]["currency"] = tables["invoices"]["currency"].astype(object)
    tables["invoices"].loc[1, "currency"] = payload  # breaks the allowed set: quoted in the docs
    paths = write_raw(tmp_path, tables, mode="quarantine")
    validate.run(params(paths), paths)
    pages = [p.read_text(encoding="utf-8") for p in paths.data_docs.rglob("*.html")]
    assert any(html.escape(payload) in page for page in pages)  # shown, as text
    assert not any(payload in page for page in pages)
