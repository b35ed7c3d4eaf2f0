from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines import ingest
from pipelines.config import Config, IngestConfig, SyntheticConfig
from pipelines.io import StageError

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C1", "C2"],
        "name": ["A", "B"],
        "country": ["DE", "NL"],
        "region": ["DACH", "Benelux"],
        "industry": ["retail", "energy"],
        "annual_revenue": ["1000000", "2500000.5"],
        "relationship_start": ["2020-01-01", "2021-06-30"],
        "credit_limit": ["10000", "20000"],
        "payment_terms_days": ["30", "60"],
    }
)
INVOICES = pd.DataFrame(
    {
        "invoice_id": ["I1", "I2"],
        "customer_id": ["C1", "C2"],
        "issue_date": ["2024-01-05", "2024-02-10"],
        "due_date": ["2024-02-04", "2024-04-10"],
        "amount": ["100.5", "200"],
        "currency": ["EUR", "EUR"],
        "paid_date": ["2024-02-10", ""],
        "paid_amount": ["100.5", ""],
        "disputed": ["no", "yes"],
    }
)


def test_folder_source_types_tables_and_reports_skipped_ones(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    CUSTOMERS.to_csv(folder / "customers.csv", index=False)
    INVOICES.to_parquet(folder / "invoices.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    ingest.run(Config(ingest=IngestConfig(source="folder", path=str(folder))))
    manifest = json.loads((tmp_path / "data/raw/manifest.json").read_text())
    assert manifest["tables"] == {"customers": 2, "invoices": 2}
    assert "financials" in manifest["skipped"]
    assert manifest["as_of_date"] == "2024-02-10"
    inv = pd.read_parquet(tmp_path / "data/raw/invoices.parquet")
    assert inv["paid_date"].isna().tolist() == [False, True]
    assert inv["disputed"].tolist() == [False, True]
    assert pd.read_parquet(tmp_path / "data/raw/customers.parquet")["credit_limit"].dtype == float


def test_a_bad_value_names_the_file_column_and_value(tmp_path):
    bad = CUSTOMERS.assign(credit_limit=["10000", "lots"])
    bad.to_csv(tmp_path / "customers.csv", index=False)
    with pytest.raises(
        StageError,
        match=r"customers.csv: customers.credit_limit: 1 values are not float, e.g. \['lots'\]",
    ):
        ingest.read_folder(tmp_path)


def test_missing_customers_table_is_an_error(tmp_path):
    INVOICES.to_csv(tmp_path / "invoices.csv", index=False)
    with pytest.raises(StageError, match="required tables missing: \\['customers'\\]"):
        ingest.read_folder(tmp_path)


def test_synthetic_source_writes_every_table_and_the_truth(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ingest.run(Config(synthetic=SyntheticConfig(n_customers=30, n_months=24)))
    names = {p.stem for p in (tmp_path / "data/raw").glob("*.parquet")}
    assert names == {
        "customers",
        "invoices",
        "financials",
        "events",
        "industry_index",
        "defaults",
        "truth",
    }
    manifest = json.loads((tmp_path / "data/raw/manifest.json").read_text())
    assert "truth" not in manifest["tables"]
    assert manifest["as_of_date"] == "2022-12-31"
