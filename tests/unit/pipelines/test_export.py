import csv
import io
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines.book.export import (
    ALERTS_SCHEMA,
    DEFAULTED_SCHEMA,
    REJECTS_SCHEMA,
    SCORES_SCHEMA,
    TERM_COLUMNS,
    csv_bytes,
    for_people,
    neutralise_formulas,
    schema_columns,
    schema_meanings,
    scores_table,
    write_people_csv,
)
from pipelines.book.workbook import SHEETS, workbook_bytes

README = Path(__file__).parents[3] / "README.md"
HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("＝1+1", "'＝1+1"),
        # issue 18, F14: whitespace and invisible characters a spreadsheet skips
        ("\n=1+1", "'\n=1+1"),
        ("\u00a0=1+1", "'\u00a0=1+1"),
        (" \n \u00a0@SUM(A1)", "' \n \u00a0@SUM(A1)"),
        ("\u200b=1", "'\u200b=1"),
        ("\ufeff+1", "'\ufeff+1"),
        ("Acme = Co", "Acme = Co"),
        ("深圳华强电子有限公司", "深圳华强电子有限公司"),
        ("", ""),
    ],
)
def test_formula_like_text_is_neutralised(value, expected):
    got = neutralise_formulas(pd.DataFrame({"name": [value]}))
    assert got["name"].item() == expected


def test_numbers_and_missing_values_are_left_alone():
    frame = pd.DataFrame({"pd_change": [-0.5, np.nan], "name": [None, "-x"], "n": [-1, 2]})
    got = neutralise_formulas(frame)
    pd.testing.assert_series_equal(got["pd_change"], frame["pd_change"])
    pd.testing.assert_series_equal(got["n"], frame["n"])
    assert got["name"].isna().iloc[0] and got["name"].iloc[1] == "'-x"
    assert frame["name"].iloc[1] == "-x"  # the input is kept


def test_a_hyperlink_name_comes_out_inert_in_the_csv(tmp_path):
    path = tmp_path / "scores.csv"
    frame = pd.DataFrame({"customer_id": ["C1"], "name": [HYPERLINK], "pd_12m": [0.1234567]})
    write_people_csv(for_people(frame, list(frame.columns)), path, bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    row = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1]
    assert row == ["C1", "'" + HYPERLINK, "0.1235"]  # a spreadsheet shows it as text


@pytest.mark.parametrize("bom", [True, False])
def test_the_byte_order_mark_is_an_option(bom):
    data = csv_bytes(pd.DataFrame({"name": ["深圳华强电子有限公司"]}), bom)
    assert data.startswith(b"\xef\xbb\xbf") is bom
    assert (
        pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")["name"].item() == "深圳华强电子有限公司"
    )


def test_numbers_are_rounded_for_people():
    frame = pd.DataFrame(
        {
            "pd_12m": [0.0123456],
            "pd_change": [-0.000049],
            "exposure": [1234.5678],
            "grade": [np.nan],
            "as_of_date": [pd.Timestamp("2025-12-31")],
        }
    )
    got = for_people(frame, list(frame.columns))
    assert got["pd_12m"].item() == 0.0123 and got["pd_change"].item() == -0.0
    assert got["exposure"].item() == 1235 and str(got["exposure"].dtype) == "Int64"
    assert got["grade"].isna().item() and got["as_of_date"].item() == "2025-12-31"
    text = csv_bytes(got, bom=False).decode()
    assert text.splitlines()[1] == '0.0123,-0,1235,,"2025-12-31"'


def test_for_people_names_missing_columns():
    with pytest.raises(KeyError, match=r"lacks columns \['grade'\]"):
        for_people(pd.DataFrame({"pd_12m": [0.1]}), ["pd_12m", "grade"])


def test_reason_columns_expand():
    cols = schema_columns(SCORES_SCHEMA, 2)
    i = cols.index("reason_1_code")
    assert cols[i : i + 4] == ["reason_1_code", "reason_1", "reason_2_code", "reason_2"]
    assert "reason_k" not in cols and "reason_k_code" not in cols


@pytest.mark.parametrize(
    ("heading", "schema"),
    [
        ("### scores.csv", SCORES_SCHEMA),
        ("### defaulted.csv", DEFAULTED_SCHEMA),
        ("### alerts.csv", ALERTS_SCHEMA),
    ],
)
def test_the_readme_documents_every_column_in_order(heading, schema):
    text = README.read_text(encoding="utf-8")
    assert heading in text, f"README lacks the section {heading!r}"
    section = text[text.index(heading) :].split("\n### ")[0]
    documented = re.findall(r"^\| `([a-z_0-9]+)` \|", section, flags=re.M)
    assert documented == list(schema)


def test_the_readme_names_the_rejects_columns():
    row = next(line for line in README.read_text(encoding="utf-8").splitlines()
               if line.startswith("| `data/scored/rejects.csv` |"))  # fmt: skip
    assert f"(`{', '.join(REJECTS_SCHEMA)}`;" in row


def test_the_reason_meanings_are_numbered():
    meanings = schema_meanings(SCORES_SCHEMA, 2)
    assert list(meanings) == schema_columns(SCORES_SCHEMA, 2)
    assert meanings["reason_1_code"].startswith("1st strongest material adverse factor")
    assert meanings["reason_2"].startswith("2nd reason: an adverse fact")
    assert meanings["exposure"] == SCORES_SCHEMA["exposure"]


# --- the workbook -------------------------------------------------------------------------------
AS_OF = pd.Timestamp("2025-12-31")
CALC = "+cmd|' /C calc'!A0"
LONG = "Pays on average 45 days after the due date (last 12 months, amount-weighted), " * 3


def people_tables() -> dict[str, pd.DataFrame]:
    """Hand-made people's tables: every schema column, three scored customers, one of each else."""
    columns = schema_columns(SCORES_SCHEMA, 1)
    scores = pd.DataFrame({c: [np.nan] * 3 for c in columns})
    scores = scores.assign(
        customer_id=["C1", "C2", "C3"], name=[HYPERLINK, "深圳华强电子有限公司", CALC],
        as_of_date=AS_OF, pd_12m=[0.2345678, 0.01, 0.0003], grade=[9, 4, 1],
        pd_change=[0.0123, -0.004, np.nan], currency="EUR", exposure=[12500.4, 0.0, np.nan],
        days_past_due=[61, 0, np.nan], reason_1=[LONG, "", ""], model_version=1,
    )  # fmt: skip
    alerts = pd.DataFrame({c: ["x"] for c in ALERTS_SCHEMA}).assign(
        as_of_date=AS_OF, previous_as_of_date=pd.NaT, pd_12m=0.2, exposure=100.0, grade=9
    )
    defaulted = pd.DataFrame({c: [np.nan] for c in DEFAULTED_SCHEMA}).assign(
        customer_id="D1", name="@SUM(A1)", default_date=pd.Timestamp("2025-10-01"),
        as_of_date=AS_OF, exposure=5000.0, days_in_default=91,
    )  # fmt: skip
    rejects = pd.DataFrame({"customer_id": ["N1"], "name": ["-2+3"], "reason_code": ["rejected"],
                            "reason": ["set aside by validation"]})  # fmt: skip
    frames = {"scores": scores, "alerts": alerts, "defaulted": defaulted, "rejects": rejects}
    return {name: for_people(frame, list(frame.columns)) for name, frame in frames.items()}


def read_workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def cell(sheet, row: int, column: str):
    """The cell of ``column`` (a header) in data row ``row`` (1: the first under the header)."""
    headers = [c.value for c in sheet[1]]
    return sheet.cell(row=row + 1, column=headers.index(column) + 1)


def test_the_workbook_has_the_sheets_frozen_headers_and_filters():
    tables = people_tables()
    book = read_workbook(workbook_bytes(tables, AS_OF, "EUR"))
    assert book.sheetnames == ["scores", "alerts", "defaulted", "rejects", "dictionary"]
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref.startswith("A1:"), name
        assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
        table = tables.get(name)
        if table is not None:
            assert [c.value for c in sheet[1]] == list(table.columns)
            assert sheet.max_row == len(table) + 1
    assert (
        book["scores"].auto_filter.ref
        == f"A1:{book['scores'].cell(4, len(tables['scores'].columns)).coordinate}"
    )
    assert book.properties.created == datetime(2025, 12, 31)


def test_the_workbook_cells_are_typed_and_formatted():
    sheet = read_workbook(workbook_bytes(people_tables(), AS_OF, "EUR"))["scores"]
    pd_12m, change = cell(sheet, 1, "pd_12m"), cell(sheet, 2, "pd_change")
    assert pd_12m.value == 0.2346 and pd_12m.number_format == "0.00%"
    assert change.value == -0.004 and "%" in change.number_format
    exposure = cell(sheet, 1, "exposure")
    assert exposure.value == 12500 and exposure.data_type == "n"
    assert exposure.number_format == '#,##0 "EUR"'
    days = cell(sheet, 1, "days_past_due")
    assert days.value == 61 and days.number_format == "0"
    assert cell(sheet, 2, "days_past_due").value == 0
    assert cell(sheet, 3, "days_past_due").value is None  # no open invoice: an empty cell
    assert cell(sheet, 3, "exposure").value is None
    assert cell(sheet, 1, "grade").value == 9 and cell(sheet, 1, "grade").data_type == "n"
    assert cell(sheet, 1, "as_of_date").value == datetime(2025, 12, 31)
    assert cell(sheet, 1, "currency").value == "EUR"


def test_formula_like_text_stays_inert_text_in_the_workbook():
    book = read_workbook(workbook_bytes(people_tables(), AS_OF, "EUR"))
    names = {
        (name, book[name].cell(row=row, column=2).value): book[name].cell(row=row, column=2)
        for name in ("scores", "defaulted", "rejects")
        for row in range(2, book[name].max_row + 1)
    }
    expected = {("scores", HYPERLINK), ("scores", "深圳华强电子有限公司"), ("scores", CALC),
                ("defaulted", "@SUM(A1)"), ("rejects", "-2+3")}  # fmt: skip
    assert set(names) == expected  # literally, no apostrophe
    assert all(c.data_type == "s" for c in names.values())  # text, not formulas ("f")
    # no formula anywhere in the archive (XlsxWriter writes formulas as <f> elements)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbook_bytes(people_tables(), AS_OF, "EUR"))) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)
        assert not any(n.startswith("xl/worksheets/_rels") for n in archive.namelist())  # links


def test_the_dictionary_lists_every_column_of_every_sheet_with_its_meaning():
    tables = people_tables()
    sheet = read_workbook(workbook_bytes(tables, AS_OF, "EUR"))["dictionary"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]
    expected = [
        (name, column, schema_meanings(schema, 1)[column])
        for name, schema in SHEETS.items()
        for column in tables[name].columns
    ]
    assert rows == expected
    assert ("scores", "reason_1", schema_meanings(SCORES_SCHEMA, 1)["reason_1"]) in rows


def test_column_widths_fit_the_content_capped():
    sheet = read_workbook(workbook_bytes(people_tables(), AS_OF, "EUR"))["scores"]
    width = {c.value: sheet.column_dimensions[c.column_letter].width for c in sheet[1]}
    assert width["reason_1"] == pytest.approx(60, abs=1)  # a long sentence: capped
    assert width["name"] >= 2 * len("深圳华强电子有限公司")  # wide characters count two
    assert width["pd_12m"] < 12 and width["customer_id"] >= len("customer_id")


def test_the_same_tables_give_the_same_bytes():
    first = workbook_bytes(people_tables(), AS_OF, "EUR")
    assert workbook_bytes(people_tables(), AS_OF, "EUR") == first
    assert workbook_bytes(people_tables(), pd.Timestamp("2025-11-30"), "EUR") != first


def test_without_a_currency_amounts_are_plain_numbers():
    sheet = read_workbook(workbook_bytes(people_tables(), AS_OF, None))["scores"]
    assert cell(sheet, 1, "exposure").number_format == "#,##0"


def test_the_workbook_refuses_missing_sheets_and_undocumented_columns():
    tables = people_tables()
    with pytest.raises(ValueError, match="needs the tables"):
        workbook_bytes({k: v for k, v in tables.items() if k != "alerts"}, AS_OF, "EUR")
    tables["rejects"] = tables["rejects"].assign(mystery=1)
    with pytest.raises(
        KeyError, match=r"rejects sheet has columns its schema lacks: \['mystery'\]"
    ):
        workbook_bytes(tables, AS_OF, "EUR")


def test_the_term_structure_columns_follow_pd_change_where_the_model_has_them():
    columns = schema_columns(SCORES_SCHEMA, 1)
    book = pd.DataFrame([{c: 0.123456 for c in columns}]).assign(
        status="scored", customer_id="C1", as_of_date=pd.Timestamp("2025-12-31")
    )
    with_terms = scores_table(book)
    at = list(with_terms.columns).index("pd_change")
    assert list(with_terms.columns)[at + 1 : at + 5] == ["pd_1m", "pd_3m", "pd_6m", "pd_terms"]
    assert with_terms.loc[0, "pd_terms"] == 0.1235  # a PD: 4 decimals
    without = scores_table(book.drop(columns=list(TERM_COLUMNS)))
    assert list(without.columns) == [c for c in columns if c not in TERM_COLUMNS]
