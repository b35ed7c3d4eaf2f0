"""The month's tables in one workbook for the risk team (``data/scored/book.xlsx``).

Sheets ``scores``, ``alerts``, ``defaulted`` and ``rejects`` hold the tables of the CSV files
(``pipelines.book.export``); ``dictionary`` lists every column of every sheet with its meaning,
from the same schemas as the README's column tables. Each sheet has a frozen header row and a
filter; cells are typed (numbers, dates, text) with formats: percent for PDs, the currency code
on amounts, whole numbers for days and grades; column widths fit the content, capped. Text is
written as text cells, never as formulas or links, so that a customer name such as
``=HYPERLINK("http://x","y")`` stays inert. The same tables give the same bytes: the document's
dates are the as-of date (XlsxWriter fixes the archive's own).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable

import pandas as pd
import xlsxwriter

from pipelines.book.export import (
    ALERTS_SCHEMA,
    DECIMALS,
    DEFAULTED_SCHEMA,
    REJECTS_SCHEMA,
    SCORES_SCHEMA,
    WHOLE,
    is_date,
    reason_count,
    schema_meanings,
)

# sheet -> the schema of its columns, in the workbook's order (the dictionary comes last)
SHEETS = {
    "scores": SCORES_SCHEMA,
    "alerts": ALERTS_SCHEMA,
    "defaulted": DEFAULTED_SCHEMA,
    "rejects": REJECTS_SCHEMA,
}
DICTIONARY = "dictionary"
AMOUNTS = {
    "exposure", "overdue_amount", "disputed_open_amount", "expected_loss", "ecl_lifetime",
    "purchases_12m", "current_limit", "recommended_limit",
}  # fmt: skip
SIGNED = {"grade_change": "+0;-0;0", "pd_change": "+0.00%;-0.00%;0.00%"}
MAX_WIDTH, MIN_WIDTH = 60, 6


def workbook_bytes(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, currency: str | None
) -> bytes:
    """Return the workbook of ``tables`` (one per :data:`SHEETS` name) as XLSX bytes.

    Args:
        tables: The people's tables (``pipelines.book.export``), by sheet name.
        as_of: The book's month end: the workbook's created date.
        currency: The book's currency, shown on every amount (``None``: plain numbers).

    Raises:
        ValueError: ``tables`` are not exactly the :data:`SHEETS`.
        KeyError: A table has a column its schema does not document.
    """
    if set(tables) != set(SHEETS):
        raise ValueError(f"the workbook needs the tables {list(SHEETS)}, got {list(tables)}")
    sink = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(sink, options)
    book.set_properties(
        {"title": f"Credit book as of {as_of:%Y-%m-%d}", "created": as_of.to_pydatetime()}
    )
    formats = _formats(book, currency)
    dictionary = []
    for name, schema in SHEETS.items():
        table = tables[name]
        meanings = _meanings(table, schema, name)
        _write_sheet(book, name, table, formats)
        dictionary += [(name, column, meanings[column]) for column in table.columns]
    rows = pd.DataFrame(dictionary, columns=["sheet", "column", "meaning"])
    _write_sheet(book, DICTIONARY, rows, formats)
    book.close()
    return sink.getvalue()


def _meanings(table: pd.DataFrame, schema: dict[str, str], sheet: str) -> dict[str, str]:
    meanings = schema_meanings(schema, reason_count(table.columns))
    undocumented = [c for c in table.columns if c not in meanings]
    if undocumented:
        raise KeyError(f"the {sheet} sheet has columns its schema lacks: {undocumented}")
    return meanings


def _formats(book: xlsxwriter.Workbook, currency: str | None) -> dict[str, object]:
    """The cell formats by kind (header, percent, amount, whole, date, text) and signed kinds."""
    amount = f'#,##0 "{currency}"' if currency else "#,##0"
    spec = {
        "header": {"bold": True, "bg_color": "#DDE4EE", "bottom": 1},
        "percent": {"num_format": "0.00%"},
        "amount": {"num_format": amount},
        "whole": {"num_format": "0"},
        "date": {"num_format": "yyyy-mm-dd"},
        "number": {},
        "text": {},
    }
    spec |= {column: {"num_format": fmt} for column, fmt in SIGNED.items()}
    return {kind: book.add_format(props) for kind, props in spec.items()}


def _kind(column: str, values: pd.Series) -> str:
    if column in SIGNED:
        return column
    if column in DECIMALS:
        return "percent"
    if column in AMOUNTS:
        return "amount"
    if column in WHOLE:
        return "whole"
    if is_date(column):
        return "date"
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return "number" if numeric else "text"


def _write_sheet(
    book: xlsxwriter.Workbook, name: str, table: pd.DataFrame, formats: dict[str, object]
) -> None:
    """One sheet: header, typed cells, frozen header row, filter, fitted widths."""
    sheet = book.add_worksheet(name)
    for j, column in enumerate(table.columns):
        kind = _kind(column, table[column])
        values = pd.to_datetime(table[column]) if kind == "date" else table[column]
        sheet.write_string(0, j, column, formats["header"])
        write = _writer(sheet, kind)
        shown = []
        for i, value in enumerate(values, start=1):
            if not pd.isna(value):
                write(i, j, value, formats[kind])
                shown.append(_shown(value, kind))
        sheet.set_column(j, j, _width(column, shown))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(table), 1), max(len(table.columns) - 1, 0))
    sheet.set_landscape()  # printed: A4 across, the header on every page
    sheet.set_paper(9)
    sheet.repeat_rows(0)


def _writer(sheet: xlsxwriter.worksheet.Worksheet, kind: str) -> Callable[..., object]:
    """How a cell of ``kind`` is written: text always as a string, never parsed."""
    if kind == "text":
        return lambda i, j, v, f: sheet.write_string(i, j, str(v), f)
    if kind == "date":
        return lambda i, j, v, f: sheet.write_datetime(i, j, v.to_pydatetime(), f)
    return lambda i, j, v, f: sheet.write_number(i, j, float(v), f)


def _shown(value: object, kind: str) -> str:
    """Roughly the text a spreadsheet shows for ``value``, to size the column."""
    if kind in ("percent", "pd_change"):
        return f"+{value:.2%}"
    if kind == "amount":
        return f"{value:,.0f} XXX"
    if kind == "date":
        return "2000-01-01"
    if kind == "number":
        return f"{value:,.2f}"
    return str(value) if kind == "text" else f"{value:+.0f}"


def _width(header: str, shown: list[str]) -> float:
    """Characters wide (East Asian wide characters count two), header and filter button fit."""

    def wide(text: str) -> int:  # past the cap the exact width does not matter
        text = text[:MAX_WIDTH]
        if text.isascii():
            return len(text)
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    longest = max((wide(t) for t in shown), default=0)
    return min(MAX_WIDTH, max(MIN_WIDTH, wide(header) + 3, longest + 1))
