from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines import ingest
from pipelines.io.files import StageError
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config, IngestConfig, SyntheticConfig
from pipelines.sources.folder import data_as_of, read_folder

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


def test_folder_takes_the_optional_payments_and_plans(tmp_path):
    folder = tmp_path / "in"
    write(folder)
    pd.DataFrame(
        {"invoice_id": ["I1", "I1"], "customer_id": ["C1", "C1"],
         "payment_date": ["2024-02-01", "2024-02-10"], "amount": ["40", "60.5"]}
    ).to_csv(folder / "payments.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"customer_id": ["C2"], "agreed_date": ["2024-01-31"], "status": ["Broken"],
         "broken_date": ["2024-02-29"]}
    ).to_csv(folder / "payment_plans.csv", index=False)  # fmt: skip
    tables = read_folder(folder)
    assert tables["payments"]["amount"].tolist() == [40.0, 60.5]
    assert tables["payments"]["payment_date"].dtype == "datetime64[ns]"
    plans = tables["payment_plans"]
    assert plans["status"].tolist() == ["broken"]  # the contract's spelling
    assert plans["instalments"].isna().all() and plans["end_date"].isna().all()  # optional


def options(folder, **kwargs) -> IngestConfig:
    return IngestConfig(source="folder", path=str(folder), **kwargs)


def write(folder, customers=CUSTOMERS, invoices=INVOICES, **to_csv) -> None:
    folder.mkdir(exist_ok=True)
    customers.to_csv(folder / "customers.csv", index=False, **to_csv)
    if invoices is not None:
        invoices.to_csv(folder / "invoices.csv", index=False, **to_csv)


def test_folder_source_types_tables_and_reports_skipped_ones(tmp_path, caplog):
    folder = tmp_path / "in"
    folder.mkdir()
    CUSTOMERS.to_csv(folder / "customers.csv", index=False)
    INVOICES.to_parquet(folder / "invoices.parquet", index=False)
    paths = Paths(tmp_path)
    with caplog.at_level(logging.INFO, logger="pipelines"):
        ingest.run(Config(ingest=IngestConfig(source="folder", path=str(folder))), paths)
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["tables"] == {"customers": 2, "invoices": 2}
    assert "financials" in manifest["skipped"]
    assert manifest["as_of_date"] == "2024-02-10"
    inv = pd.read_parquet(paths.raw_table("invoices"))
    assert inv["paid_date"].isna().tolist() == [False, True]
    assert inv["disputed"].tolist() == [False, True]
    assert pd.read_parquet(paths.raw_table("customers"))["credit_limit"].dtype == float
    assert pd.read_parquet(paths.unparsed).empty
    assert caplog.text.count("no financials: financials features skipped") == 1


def test_columns_formats_and_currency_from_the_config(tmp_path):
    german = CUSTOMERS.rename(columns={"customer_id": "Kundennr", "credit_limit": "Limit"})
    german = german.assign(
        relationship_start=["01.01.2020", "30.06.2021"], annual_revenue=["1.000.000", "2,5"]
    )
    invoices = INVOICES.drop(columns="currency").assign(amount=["100,5", "200"])
    invoices = invoices.assign(issue_date=["05.01.2024", "10.02.2024"])
    invoices = invoices.assign(due_date=["04.02.2024", "10.04.2024"])
    invoices = invoices.assign(paid_date=["10.02.2024", ""], paid_amount=["100,5", ""])
    write(tmp_path, german, invoices, sep=";")
    (tmp_path / "customers.csv").rename(tmp_path / "Kunden.csv")
    config = options(
        tmp_path,
        delimiter=";",
        decimal=",",
        date_format="%d.%m.%Y",
        currency="EUR",
        tables={
            "customers": {
                "file": "Kunden.csv",
                "columns": {"Kundennr": "customer_id", "Limit": "credit_limit"},
                "thousands": ".",
            }
        },
    )
    tables = read_folder(tmp_path, config)
    customers, invoices = tables["customers"], tables["invoices"]
    assert customers["customer_id"].tolist() == ["C1", "C2"]
    assert customers["annual_revenue"].tolist() == [1_000_000.0, 2.5]
    assert customers["relationship_start"].tolist() == [
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2021-06-30"),
    ]
    assert invoices["amount"].tolist() == [100.5, 200.0]
    assert invoices["currency"].tolist() == ["EUR", "EUR"]
    assert tables["unparsed"].empty


def test_bad_cells_are_kept_for_validation_not_raised(tmp_path):
    write(tmp_path, CUSTOMERS.assign(credit_limit=["10000", "lots"]))
    tables = read_folder(tmp_path)
    assert tables["customers"]["credit_limit"].isna().tolist() == [False, True]
    assert tables["unparsed"].to_dict("records") == [
        {
            "table": "customers",
            "row": 1,
            "column": "credit_limit",
            "value": "lots",
            "expected": "a number",
        }
    ]


def test_utf8_bom_and_gbk(tmp_path):
    write(tmp_path, CUSTOMERS.assign(name=["深圳华强", "北京"]), encoding="utf-8-sig")
    assert read_folder(tmp_path)["customers"]["name"].tolist() == ["深圳华强", "北京"]
    write(tmp_path, CUSTOMERS.assign(name=["深圳华强", "北京"]), encoding="gbk")
    tables = read_folder(tmp_path, options(tmp_path, encoding="gbk"))
    assert tables["customers"]["name"].tolist() == ["深圳华强", "北京"]
    with pytest.raises(StageError, match=r"customers.csv: not utf-8 text .*ingest.encoding"):
        read_folder(tmp_path)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda f: (f / "customers.csv").write_bytes(b""), r"customers.csv: the file is empty"),
        (lambda f: (f / "customers.csv").write_text("\n\n"), r"customers.csv: no header line"),
        (
            lambda f: CUSTOMERS.head(0).to_csv(f / "customers.csv", index=False),
            r"customers.csv: no rows, only a header",
        ),
        (
            lambda f: CUSTOMERS.to_csv(f / "customers.csv", index=False, sep=";"),
            r"customers.csv: one column 'customer_id;name;.*looks ';'-separated",
        ),
        (
            lambda f: (f / "customers.csv").write_text("a,b\n1,2,3\n"),
            r"customers.csv: the rows have more fields than the header",
        ),
        (
            lambda f: (f / "customers.csv").write_text("a,b\n1,2\n1,2,3\n"),
            r"customers.csv: not a ','-separated table: .*Expected 2 fields in line 3, saw 3",
        ),
        (
            lambda f: CUSTOMERS.drop(columns="customer_id").to_csv(f / "customers.csv"),
            r"customers.csv: missing required column\(s\) \['customer_id'\] \(found \[",
        ),
        (
            lambda f: CUSTOMERS.assign(relationship_start=["01.01.2020", "30.06.2021"]).to_csv(
                f / "customers.csv", index=False
            ),
            r"column 'relationship_start': none of its 2 values is a date.*ingest.date_format",
        ),
        (
            lambda f: CUSTOMERS.assign(credit_limit=["1,5", "2,5"]).to_csv(
                f / "customers.csv", index=False, sep=";"
            ),
            r"more fields than the header; a decimal comma",  # a ';' file read as ','
        ),
        (
            lambda f: [
                (f / "customers.csv").unlink(),
                (f / "customers.parquet").write_bytes(b"PAR1"),
            ],
            r"customers.parquet: not a readable Parquet file",
        ),
        (lambda f: (f / "invoices.csv").unlink(), r"needs invoices or defaults"),
        (lambda f: (f / "customers.csv").unlink(), r"required tables missing: \['customers'\]"),
        (
            lambda f: CUSTOMERS.to_parquet(f / "customers.parquet"),
            r"both customers.parquet and customers.csv",
        ),
    ],
)
def test_malformed_files_are_one_line_errors_naming_the_file(tmp_path, setup, message):
    write(tmp_path)
    setup(tmp_path)
    with pytest.raises(StageError, match=message) as err:
        read_folder(tmp_path)
    assert "\n" not in str(err.value)


def test_a_column_of_decimal_commas_hints_at_the_setting(tmp_path):
    write(tmp_path, CUSTOMERS.assign(credit_limit=["1,5", "2,5"]), sep=";")
    with pytest.raises(StageError, match=r"credit_limit'.*set ingest.decimal.*: ','"):
        read_folder(tmp_path, options(tmp_path, delimiter=";"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tables": {"receipts": {}}}, r"ingest.tables: \['receipts'\] are not contract tables"),
        ({"tables": {"customers": {"columns": {"Nr": "customer_id"}}}}, r"no column \['Nr'\]"),
        (
            {"tables": {"customers": {"columns": {"name": "nom"}}}},
            r"\['nom'\] are not contract names",
        ),
        (
            {"tables": {"customers": {"columns": {"name": "customer_id"}}}},
            r"columns \['customer_id'\] appear twice",
        ),
        ({"tables": {"customers": {"file": "book.csv"}}}, r"customers.file: .* does not exist"),
        ({"encoding": "klingon"}, r"unknown encoding 'klingon'"),
    ],
)
def test_config_mistakes_are_named(tmp_path, kwargs, message):
    write(tmp_path)
    with pytest.raises(StageError, match=message):
        read_folder(tmp_path, options(tmp_path, **kwargs))


def test_missing_currency_column_hints_at_the_default_currency(tmp_path):
    write(tmp_path, invoices=INVOICES.drop(columns="currency"))
    with pytest.raises(StageError, match=r"\['currency'\].* or set ingest.currency"):
        read_folder(tmp_path)


def test_defaults_instead_of_invoices_and_ignored_files(tmp_path, caplog):
    write(tmp_path, invoices=None)
    defaults = pd.DataFrame(
        {"customer_id": ["C1"], "default_date": ["2024-03-31"], "default_type": ["insolvency"]}
    )
    defaults.to_csv(tmp_path / "defaults.csv", index=False)
    (tmp_path / "receipts.csv").write_text("x\n1\n")
    tables = read_folder(tmp_path)
    assert set(tables) == {"customers", "defaults", "unparsed"}
    assert "ignored" in caplog.text and "receipts.csv" in caplog.text
    assert data_as_of(tables, None) == pd.Timestamp("2024-03-31")


def test_extra_columns_of_a_closed_table_are_dropped_and_open_ones_kept(tmp_path):
    write(tmp_path, CUSTOMERS.assign(notes=["x", "y"]))
    attributes = pd.DataFrame(
        {"customer_id": ["C1"], "known_date": ["2024-01-31"], "score": ["610"]}
    )
    attributes.to_csv(tmp_path / "attributes.csv", index=False)
    tables = read_folder(tmp_path)
    assert "notes" not in tables["customers"]
    assert tables["attributes"]["score"].tolist() == [610.0]


def test_as_of_date_is_configured_or_latest_but_not_after_today():
    tables = {
        "invoices": pd.DataFrame(
            {"issue_date": [pd.Timestamp("2024-01-05")], "paid_date": [pd.Timestamp("2024-02-10")]}
        )
    }
    assert data_as_of(tables, None) == pd.Timestamp("2024-02-10")
    assert data_as_of(tables, "2024-01-31") == pd.Timestamp("2024-01-31")
    tables["invoices"].loc[0, "paid_date"] = pd.Timestamp("2205-03-01")  # a typo
    # validation rejects its row: the date moves the as-of neither to 2205 nor to today
    assert data_as_of(tables, None) == pd.Timestamp("2024-01-05")
    with pytest.raises(StageError, match="set ingest.as_of_date"):
        data_as_of({"customers": pd.DataFrame()}, None)


def test_skipped_line_names_the_feature_family():
    assert ingest.skipped_line("financials") == "no financials: financials features skipped"
    assert ingest.skipped_line("defaults") == "no defaults table in the source"


def test_synthetic_source_writes_every_table_and_the_truth(tmp_path):
    paths = Paths(tmp_path)
    ingest.run(Config(synthetic=SyntheticConfig(n_customers=30, n_months=24)), paths)
    names = {p.stem for p in paths.raw.glob("*.parquet")}
    assert names == {
        "customers",
        "invoices",
        "financials",
        "events",
        "industry_index",
        "defaults",
        "truth",
        "invoice_truth",
        "payments",
        "payment_plans",
    }
    assert paths.truth.is_file() and paths.invoice_truth.is_file()
    manifest = json.loads(paths.manifest.read_text())
    assert "truth" not in manifest["tables"] and "invoice_truth" not in manifest["tables"]
    assert manifest["as_of_date"] == "2022-12-31"


POLISH = Path(__file__).resolve().parents[3] / "../shared/data/polish_bankruptcy/5year.arff"


@pytest.mark.skipif(not POLISH.is_file(), reason="../shared/data/polish_bankruptcy is absent")
def test_a_public_data_set_is_read_from_the_file_named_and_the_manifest_records_it(tmp_path):
    folder = tmp_path / "polish"
    folder.mkdir()
    shutil.copyfile(POLISH, folder / "3year.arff")  # another year's file, its own name
    cfg = Config(
        ingest=IngestConfig(source="polish_bankruptcy", path=str(folder), file="3year.arff")
    )
    ingest.run(cfg, Paths(tmp_path))
    manifest = json.loads(Paths(tmp_path).manifest.read_text())
    assert manifest["source_file"] == "3year.arff"
    assert manifest["source_md5"] == hashlib.md5(POLISH.read_bytes()).hexdigest()
    outside = Config(ingest=IngestConfig(source="polish_bankruptcy", path=str(folder),
                                         file="../polish/../../x.arff"))  # fmt: skip
    with pytest.raises(StageError, match="is outside the folder"):
        ingest.run(outside, Paths(tmp_path / "again"))
    absent = IngestConfig(source="polish_bankruptcy", path=str(folder), file="4year.arff")
    with pytest.raises(StageError, match="4year.arff not found: set ingest.path"):
        ingest.run(Config(ingest=absent), Paths(tmp_path / "b"))
