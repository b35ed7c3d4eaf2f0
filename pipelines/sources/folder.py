"""A folder of the user's CSV or Parquet files, read into typed contract tables."""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import yaml

from features.attributes import check_schema, is_text
from features.contract import (
    OUTCOME_TABLES,
    REQUIRED_TABLES,
    TABLES,
    UNPARSED_COLUMNS,
    Table,
    TextFormat,
    has_invisible,
    parse_table,
)
from pipelines.io.files import StageError
from pipelines.runtime.config import IngestConfig, TableFormat

log = logging.getLogger("pipelines")
# Dates of things that happened: the latest of them is the data's as-of date by default.
DATE_SOURCES = {
    "invoices": ("issue_date", "paid_date"),
    "events": ("event_date",),
    "financials": ("period_end",),
    "defaults": ("default_date",),
}
DELIMITERS = (",", ";", "\t", "|")
UNSAFE_NAME = re.compile(r'[:,\[\]{}"\\\s]+')  # JSON's specials and blanks
EUROPEAN_NUMBER = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d+)?")  # 1.234,56
MAX_LEVELS = 200  # a categorical attribute with more distinct values is named in a warning


def read_schema(folder: Path, options: IngestConfig | None = None) -> dict:
    """The attributes schema beside the files (``ingest.attributes_schema``), as written.

    Its keys are the attribute columns, as in the file or as made safe (:func:`_safe_names`).

    Returns:
        ``{column: entry}`` (see ``features.attributes.check_schema``); ``{}`` without a file.

    Raises:
        StageError: The file is not YAML or not a schema, naming it.
    """
    name = options.attributes_schema if options else "attributes.yaml"
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise StageError(f"ingest.attributes_schema: {name} is outside the ingest folder {folder}")
    if not path.is_file():
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            schema = yaml.safe_load(fh)
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise StageError(f"{path}: not a YAML file ({str(err).splitlines()[0]})") from None
    entries = schema.get("attributes") if isinstance(schema, dict) else None
    if (
        not isinstance(schema, dict)
        or set(schema) != {"attributes"}
        or not isinstance(entries, dict | None)
    ):
        raise StageError(f"{path}: must hold one key, 'attributes', mapping columns to entries")
    return {_safe_name(str(k)): v for k, v in (entries or {}).items()}


def read_folder(
    folder: Path, options: IngestConfig | None = None, schema: dict | None = None
) -> dict[str, pd.DataFrame]:
    """Read, rename and type every contract table found in ``folder``.

    Args:
        folder: The folder with ``<table>.csv`` or ``<table>.parquet`` files.
        options: The ingest section: column names, date format, decimal separator, delimiter,
            encoding and default currency, globally or per table (default: all defaults).
        schema: The attributes schema (:func:`read_schema`): which attributes are categorical.

    Returns:
        The contract tables found, plus ``unparsed``: one row per cell that did not parse
        (``table, row, column, value, expected``), which validation rejects under ``type``.

    Raises:
        StageError: One line naming the file, for a file that cannot be read as a table.
    """
    options = options or IngestConfig(source="folder", path=str(folder))
    if not folder.is_dir():
        raise StageError(f"ingest.path {folder} is not a folder")
    unknown = sorted(set(options.tables) - set(TABLES))
    if unknown:
        raise StageError(f"ingest.tables: {unknown} are not contract tables ({list(TABLES)})")
    tables, unparsed, used = {}, [], {options.attributes_schema}
    for name, table in TABLES.items():
        path = _table_file(folder, name, options.tables.get(name))
        if path is not None:
            used.add(path.name)
            tables[name], cells = _read_table(path, table, options, schema or {})
            unparsed.append(cells.assign(table=name))
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in used and not path.name.startswith("."):
            log.warning("ignored %s: not a contract table (map it with ingest.tables)", path)
    _check_tables(folder, tables)
    cells = pd.concat(unparsed, ignore_index=True)[list(UNPARSED_COLUMNS)]
    tables["unparsed"] = cells.astype({c: "int64" if c == "row" else str for c in cells.columns})
    return tables


def _table_file(folder: Path, name: str, fmt: TableFormat | None) -> Path | None:
    """The file of table ``name``: as configured, else ``<name>.parquet`` or ``<name>.csv``."""
    if fmt is not None and fmt.file:
        path = folder / fmt.file
        if not path.resolve().is_relative_to(folder.resolve()):
            raise StageError(
                f"ingest.tables.{name}.file: {fmt.file} is outside the ingest folder {folder}; "
                "name a file in it"
            )
        if not path.is_file():
            raise StageError(f"ingest.tables.{name}.file: {path} does not exist")
        return path
    found = [folder / f"{name}{suffix}" for suffix in (".parquet", ".csv")]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        raise StageError(f"{folder}: both {name}.parquet and {name}.csv; keep one of them")
    return found[0] if found else None


def _read_table(
    path: Path, table: Table, options: IngestConfig, schema: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One file as a typed contract table, and its unparsed cells."""
    fmt = options.tables.get(table.name) or TableFormat()
    text = TextFormat(
        date_format=fmt.date_format or options.date_format,
        decimal=fmt.decimal or options.decimal,
        thousands=fmt.thousands or options.thousands,
    )
    if path.stat().st_size == 0:
        raise StageError(f"{path}: the file is empty (0 bytes)")
    frame = _read_file(path, table.name, fmt.delimiter or options.delimiter, fmt, options)
    frame = _rename(frame, path, table, fmt.columns)
    if table.name == "invoices" and "currency" not in frame and options.currency:
        frame["currency"] = options.currency
    missing = [c.name for c in table.columns if c.required and c.name not in frame]
    if missing:
        hint = " or set ingest.currency" if "currency" in missing else ""
        raise StageError(
            f"{path}: missing required column(s) {missing} (found {list(frame.columns)}); "
            f"name yours with ingest.tables.{table.name}.columns{hint}"
        )
    if table.name in REQUIRED_TABLES and frame.empty:
        raise StageError(f"{path}: no rows, only a header: the {table.name} table is required")
    _report_invisible(path, frame)
    kinds = _declared_kinds(path, frame, table, schema, options) if table.open_columns else {}
    typed, cells = parse_table(frame, table, text, kinds)
    if table.open_columns:
        _report_kinds(path, typed, table)
    _check_columns_parse(path, table.name, frame, cells, text)
    if len(cells):
        log.warning("%s: %d cells do not parse; validation rejects their rows", path, len(cells))
    return typed, cells


def _declared_kinds(
    path: Path, frame: pd.DataFrame, table: Table, schema: dict, options: IngestConfig
) -> dict[str, str]:
    """The parse kind of each attribute the schema types (categorical: text)."""
    extra = [c for c in frame.columns if c not in table.column_names]
    try:
        entries = check_schema({"attributes": schema}, extra)
    except ValueError as err:
        raise StageError(f"{path.parent / options.attributes_schema}: {err}") from None
    return {
        name: "str" if entry.get("type") == "categorical" else "float"
        for name, entry in entries.items()
        if "type" in entry
    }


def _report_kinds(path: Path, typed: pd.DataFrame, table: Table) -> None:
    """Say which attributes are read as categories and which as numbers."""
    extra = [c for c in typed.columns if c not in table.column_names]
    text = [c for c in extra if is_text(typed[c])]
    if text:
        log.info(
            "%s: categorical (text) attributes: %s; numeric: %d (declare types in the schema)",
            path, ", ".join(text), len(extra) - len(text),
        )  # fmt: skip
    for name in text:
        levels = typed[name].nunique()
        if levels > MAX_LEVELS:
            log.warning(
                "%s: categorical attribute %r has %d distinct values: an identifier or free "
                "text? drop it or declare it numeric in the schema", path, name, levels,
            )  # fmt: skip


def _report_invisible(path: Path, frame: pd.DataFrame) -> None:
    """Name the columns whose cells carry characters parsing removes (zero-width, NUL, ...)."""
    for column in frame.columns:
        hidden = has_invisible(frame[column])
        if hidden.any():
            first = hidden.idxmax()
            log.warning(
                "%s: column %r: invisible or control characters removed from %d value(s), "
                "e.g. row %s: %r",
                path, column, int(hidden.sum()), first, frame.at[first, column],
            )  # fmt: skip


def _read_file(
    path: Path, name: str, delimiter: str, fmt: TableFormat, options: IngestConfig
) -> pd.DataFrame:
    """The file's cells, as text for CSV; column names stripped of blanks and a BOM."""
    if path.suffix.lower() == ".parquet":
        try:
            return pd.read_parquet(path)
        except (pa.ArrowException, OSError, ValueError) as err:
            raise StageError(f"{path}: not a readable Parquet file ({err})") from None
    encoding = fmt.encoding or options.encoding
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
        frame = pd.read_csv(
            path, dtype=str, sep=delimiter, encoding="utf-8-sig" if utf8 else encoding
        )
    except LookupError:
        raise StageError(f"{path}: unknown encoding {encoding!r} in the ingest config") from None
    except UnicodeDecodeError as err:
        raise StageError(
            f"{path}: not {encoding} text (byte {err.object[err.start : err.start + 1]!r} at "
            f"offset {err.start}); set ingest.encoding or ingest.tables.{name}.encoding, e.g. "
            "gbk for Chinese or cp1252 for Western European exports"
        ) from None
    except pd.errors.EmptyDataError:
        raise StageError(f"{path}: no header line (the file has only blank lines)") from None
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1]
        raise StageError(f"{path}: not a {delimiter!r}-separated table: {detail}") from None
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    _check_delimiter(path, name, frame, delimiter)
    return frame


def _check_delimiter(path: Path, name: str, frame: pd.DataFrame, delimiter: str) -> None:
    """Fail on what a wrong delimiter gives: one column, or rows longer than the header."""
    if not isinstance(frame.index, pd.RangeIndex):
        raise StageError(
            f"{path}: the rows have more fields than the header; a decimal comma in a "
            f"{delimiter!r}-separated file? set ingest.delimiter or ingest.decimal"
        )
    others = [d for d in DELIMITERS if d != delimiter and d in frame.columns[0]]
    if len(frame.columns) == 1 and others:
        raise StageError(
            f"{path}: one column {frame.columns[0][:60]!r}: the file looks {others[0]!r}-"
            f"separated; set ingest.delimiter (or ingest.tables.{name}.delimiter) to {others[0]!r}"
        )


def _rename(frame: pd.DataFrame, path: Path, table: Table, mapping: dict[str, str]) -> pd.DataFrame:
    """Apply the configured column names; extra columns of a closed table are dropped (logged)."""
    absent = sorted(set(mapping) - set(frame.columns))
    unknown = sorted(set(mapping.values()) - set(table.column_names))
    if absent or (unknown and not table.open_columns):
        what = f"no column {absent} in the file" if absent else f"{unknown} are not contract names"
        raise StageError(
            f"{path}: ingest.tables.{table.name}.columns: {what} "
            f"(file: {list(frame.columns)}; contract: {table.column_names})"
        )
    frame = frame.rename(columns=mapping)
    twice = sorted(frame.columns[frame.columns.duplicated()])
    if twice:
        raise StageError(f"{path}: columns {twice} appear twice (after renaming)")
    extra = [c for c in frame.columns if c not in table.column_names]
    if extra and not table.open_columns:
        log.info("%s: columns not in the contract, not used: %s", path, extra)
        frame = frame.drop(columns=extra)
    elif extra:
        frame = frame.rename(columns=_safe_names(path, table, extra))
    return frame


def _safe_names(path: Path, table: Table, columns: list[str]) -> dict[str, str]:
    """New names for the user's own columns that a model cannot take (``: , [ ] { } "``).

    Such a column becomes a feature; LightGBM refuses JSON's special characters in a feature
    name. Each is replaced by ``_`` (named in a warning); two columns that would then share a
    name stop ingest.
    """
    renamed = {c: _safe_name(c) for c in columns}
    renamed = {old: new for old, new in renamed.items() if old != new}
    for old, new in renamed.items():
        log.warning("%s: column %r is named %r (a model feature cannot hold %s)",
                    path, old, new, "".join(sorted(set(UNSAFE_NAME.findall(old)))))  # fmt: skip
    final = [renamed.get(c, c) for c in [*table.column_names, *columns]]
    clash = sorted({c for c in final if final.count(c) > 1})
    if clash:
        raise StageError(
            f"{path}: columns {clash} would appear twice once made safe as feature names; "
            f"rename them with ingest.tables.{table.name}.columns"
        )
    return renamed


def _safe_name(column: str) -> str:
    return UNSAFE_NAME.sub("_", column).strip("_") or "column"


def _check_columns_parse(
    path: Path, name: str, frame: pd.DataFrame, cells: pd.DataFrame, text: TextFormat
) -> None:
    """A column where no given value parses is a format problem of the file, not of rows."""
    for column, bad in cells.groupby("column", sort=False):
        given = frame[column].dropna().astype(str).str.strip().ne("").sum()
        if len(bad) < given:
            continue  # some values parse: the others are row problems for validation
        sample = bad["value"].head(3).tolist()
        if bad["expected"].iloc[0].startswith("a date"):
            hint = f"set ingest.date_format (or ingest.tables.{name}.date_format), e.g. '%d.%m.%Y'"
        elif text.decimal == "." and any(EUROPEAN_NUMBER.fullmatch(v) for v in sample):
            hint = (
                f"for numbers written 1.234,56 set ingest.decimal: ',' and ingest.thousands: '.' "
                f"(or the same under ingest.tables.{name})"
            )
        elif text.decimal == "." and any("," in v for v in sample):
            hint = f"for decimal commas set ingest.decimal (or ingest.tables.{name}.decimal): ','"
        else:
            hint = "check the column mapping in ingest.tables"
        raise StageError(
            f"{path}: column {column!r}: none of its {given} values is {bad['expected'].iloc[0]} "
            f"(e.g. {sample}); {hint}"
        )


def _check_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise StageError(f"{folder}: required tables missing: {missing} (as .csv or .parquet)")
    if not any(t in tables for t in OUTCOME_TABLES):
        raise StageError(
            f"{folder}: needs {' or '.join(OUTCOME_TABLES)} (payment history or known defaults "
            f"to learn from); found {sorted(tables)}"
        )


def data_as_of(tables: dict[str, pd.DataFrame], configured: str | None) -> pd.Timestamp:
    """The configured as-of date, or the latest date in the dated tables not after today.

    A date after today cannot have happened: validation rejects its row, and it does not
    move the as-of date (to today, or anywhere).
    """
    if configured:
        return pd.Timestamp(configured)
    today = pd.Timestamp.today().normalize()
    dates = [tables[t][c] for t, cols in DATE_SOURCES.items() if t in tables for c in cols]
    future = [d[d > today].max() for d in dates if (d > today).any()]
    latest = [d[d <= today].max() for d in dates if (d <= today).any()]
    if future:  # their rows are rejected by validation: their dates must not set the as-of
        log.warning("dates after today (latest %s) are not used for the as-of date", max(future))
    if not latest:
        raise StageError("cannot infer the as-of date: set ingest.as_of_date")
    return pd.Timestamp(max(latest)).normalize()
