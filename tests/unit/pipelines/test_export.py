import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.book.export import (
    ALERTS_SCHEMA,
    SCORES_SCHEMA,
    csv_bytes,
    for_people,
    neutralise_formulas,
    schema_columns,
    write_people_csv,
)

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
    [("### scores.csv", SCORES_SCHEMA), ("### alerts.csv", ALERTS_SCHEMA)],
)
def test_the_readme_documents_every_column_in_order(heading, schema):
    text = README.read_text(encoding="utf-8")
    assert heading in text, f"README lacks the section {heading!r}"
    section = text[text.index(heading) :].split("\n### ")[0]
    documented = re.findall(r"^\| `([a-z_0-9]+)` \|", section, flags=re.M)
    assert documented == list(schema)
