"""The input data contract: every table's columns, types, keys and rules, in one place.

Ingest parses files to these types, validation builds its Great Expectations suites from
these rules, and feature code refers to these names. README.md's "Data contract" section
documents it, rendered by :mod:`features.contract_doc`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["str", "float", "int", "date", "bool"]

EVENT_TYPES = (
    "ownership_change",
    "management_change",
    "legal_dispute",
    "rating_downgrade",
    "payment_incident",
    "insolvency_filing",
)
PLAN_STATUSES = ("kept", "broken", "open")
DEFAULT_TYPES = ("insolvency", "write_off", "insurance_claim", "days_past_due", "other")
# Active ISO 4217 codes (2025); one book uses one of them (see ``Column.single``).
CURRENCIES = tuple(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
    VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWL""".split()
)
# Spreadsheet "zero dates" (1899-12-30, 1900-01-00) and typos land before this.
MIN_DATE = pd.Timestamp("1900-01-01")
# characters a text cell never means: zero-width and byte-order marks (an id with one looks like
# another id), and control characters other than tab and line breaks (a NUL byte). Parsing
# removes them; ingest says where (``strip_invisible``).
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE}\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 1000  # characters of a text cell (a name, an id); longer: the row is rejected
NUMBER_SHARE = 0.5  # an extra column most of whose cells parse as numbers is a numeric one


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Attributes:
        name: Column name in the canonical table.
        kind: Logical type the column is parsed to.
        nullable: Whether missing values are allowed.
        min: Smallest allowed value (inclusive), for numbers.
        max: Largest allowed value (inclusive), for numbers.
        allowed: The allowed values, for categorical text columns.
        required: Whether a file must have the column (optional columns are added empty).
        past: For dates of things that happened: never after the data's as-of date.
        single: All rows must share one value (currencies: there is no FX table to convert).
        max_length: Most characters, for text (longer: a corrupt or hostile cell).
    """

    name: str
    kind: Kind
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    required: bool = True
    past: bool = False
    single: bool = False
    max_length: int = MAX_TEXT


@dataclass(frozen=True)
class Table:
    """One contract table with its row-level and table-level rules.

    Attributes:
        name: Table name (also the file stem, e.g. ``invoices.csv``).
        columns: The contract columns.
        key: Columns whose combination must be unique.
        foreign_keys: Column -> ``table.column`` it must exist in (when that table is given).
        date_order: Pairs ``(earlier, later)`` where ``earlier <= later`` must hold when both set.
        max_days: ``(earlier, later, days)``: ``later`` at most ``days`` after ``earlier``.
        not_above: Pairs ``(part, whole)`` where ``part <= whole`` must hold when both set.
        open_columns: Whether extra columns are kept, as numbers or text (``attributes``).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    foreign_keys: dict[str, str] = field(default_factory=dict)
    date_order: tuple[tuple[str, str], ...] = ()
    max_days: tuple[tuple[str, str, int], ...] = ()
    not_above: tuple[tuple[str, str], ...] = ()
    open_columns: bool = False

    @property
    def column_names(self) -> list[str]:
        """Names of the contract columns, in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the contract column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no contract column {name!r}")


CUSTOMER_FK = {"customer_id": "customers.customer_id"}

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            (
                # only the id is required: what a book lacks, the features and policy parts
                # that need it leave out (features.contract_doc.CUSTOMER_FIELD_USE)
                Column("customer_id", "str"),
                *(
                    Column(name, kind, nullable=True, required=False, **limits)
                    for name, kind, limits in (
                        ("name", "str", {}),
                        ("country", "str", {}),
                        ("region", "str", {}),
                        ("industry", "str", {}),
                        ("annual_revenue", "float", {"min": 0}),
                        ("relationship_start", "date", {}),
                        ("relationship_end", "date", {}),
                        ("credit_limit", "float", {"min": 0}),
                        ("payment_terms_days", "int", {"min": 0, "max": 365}),
                    )
                ),
            ),
            key=("customer_id",),
            foreign_keys={"industry": "industry_index.industry"},
            date_order=(("relationship_start", "relationship_end"),),
        ),
        Table(
            "invoices",
            (
                Column("invoice_id", "str"),
                Column("customer_id", "str"),
                Column("issue_date", "date", past=True),
                Column("due_date", "date"),
                Column("amount", "float", min=0.01),
                Column("currency", "str", allowed=CURRENCIES, single=True),
                Column("paid_date", "date", nullable=True, past=True),
                Column("paid_amount", "float", nullable=True, min=0),
                Column("disputed", "bool"),
            ),
            key=("invoice_id",),
            foreign_keys=CUSTOMER_FK,
            date_order=(("issue_date", "due_date"), ("issue_date", "paid_date")),
            max_days=(("issue_date", "due_date", 365),),
            not_above=(("paid_amount", "amount"),),
        ),
        Table(
            "payments",
            (
                Column("invoice_id", "str"),
                Column("customer_id", "str"),
                Column("payment_date", "date", past=True),
                Column("amount", "float", min=0.01),
            ),
            foreign_keys={"invoice_id": "invoices.invoice_id", **CUSTOMER_FK},
        ),
        Table(
            "payment_plans",
            (
                Column("customer_id", "str"),
                Column("agreed_date", "date", past=True),
                Column("amount", "float", nullable=True, required=False, min=0),
                Column("instalments", "int", nullable=True, required=False, min=1, max=120),
                Column("end_date", "date", nullable=True, required=False),
                Column("status", "str", allowed=PLAN_STATUSES),
                Column("broken_date", "date", nullable=True, required=False, past=True),
            ),
            key=("customer_id", "agreed_date"),
            foreign_keys=CUSTOMER_FK,
            date_order=(("agreed_date", "end_date"), ("agreed_date", "broken_date")),
        ),
        Table(
            "financials",
            (
                Column("customer_id", "str"),
                Column("period_end", "date", past=True),
                Column("available_date", "date", nullable=True, required=False),
                Column("total_assets", "float", nullable=True, min=0),
                Column("total_liabilities", "float", nullable=True, min=0),
                Column("current_assets", "float", nullable=True, min=0),
                Column("current_liabilities", "float", nullable=True, min=0),
                Column("cash", "float", nullable=True, min=0),
                Column("revenue", "float", nullable=True, min=0),
                Column("ebit", "float", nullable=True),
                Column("net_income", "float", nullable=True),
                Column("operating_cash_flow", "float", nullable=True),
                Column("interest_expense", "float", nullable=True, min=0),
            ),
            key=("customer_id", "period_end"),
            foreign_keys=CUSTOMER_FK,
            date_order=(("period_end", "available_date"),),
        ),
        Table(
            "events",
            (
                Column("customer_id", "str"),
                Column("event_date", "date", past=True),
                Column("event_type", "str", allowed=EVENT_TYPES),
                Column("description", "str", nullable=True, required=False),
            ),
            foreign_keys=CUSTOMER_FK,
        ),
        Table(
            "industry_index",
            (
                Column("industry", "str"),
                Column("month", "date", past=True),
                Column("value", "float"),
            ),
            key=("industry", "month"),
        ),
        Table(
            "defaults",
            (
                Column("customer_id", "str"),
                Column("default_date", "date", past=True),
                Column("default_type", "str", allowed=DEFAULT_TYPES),
            ),
            key=("customer_id", "default_date"),
            foreign_keys=CUSTOMER_FK,
        ),
        Table(
            "attributes",
            (Column("customer_id", "str"), Column("known_date", "date", past=True)),
            key=("customer_id", "known_date"),
            foreign_keys=CUSTOMER_FK,
            open_columns=True,
        ),
    )
}

REQUIRED_TABLES = ("customers",)
# Something to learn defaults from: payment history or known defaults (at least one of them).
OUTCOME_TABLES = ("invoices", "defaults")


# The record of cells that did not parse: parse_table's columns, with the table ingest adds.
UNPARSED_COLUMNS = ("table", "row", "column", "value", "expected")


@dataclass(frozen=True)
class TextFormat:
    """How text cells spell numbers and dates (Parquet columns that are typed already ignore it).

    Attributes:
        date_format: ``strptime`` format such as ``"%d.%m.%Y"``; ``None`` means ISO 8601.
        decimal: Decimal separator (``","`` for most European exports).
        thousands: Thousands separator to drop, if the file uses one.
    """

    date_format: str | None = None
    decimal: str = "."
    thousands: str | None = None


def parse_table(
    frame: pd.DataFrame,
    table: Table,
    fmt: TextFormat = TextFormat(),
    kinds: Mapping[str, Kind] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse ``frame`` into the contract types, keeping every row.

    A cell that does not parse becomes missing and is listed in the second frame, so that
    validation can reject its row under the ``type`` rule instead of losing it.

    Args:
        frame: The table as read (text for CSV).
        table: Its contract table.
        fmt: How text cells spell numbers and dates.
        kinds: Kind of each extra column of an ``open_columns`` table (``float`` or ``str``);
            one not named is text when :func:`open_column_kind` says so, else a number.

    Returns:
        ``(typed, unparsed)``: the contract columns in contract order (optional columns that
        are absent added empty, extra columns of an ``open_columns`` table kept as numbers
        or text; index reset), and one row per unparsed cell: ``row`` (the input frame's
        index label), ``column``, ``value`` (as given, text) and ``expected``.

    Raises:
        ValueError: A required column is missing.
    """
    missing = [c.name for c in table.columns if c.required and c.name not in frame]
    if missing:
        raise ValueError(f"{table.name}: missing required columns {missing}")
    columns = list(table.columns)
    if table.open_columns:
        extra = frame.columns.difference(table.column_names, sort=False)
        kinds = kinds or {}
        columns += [
            Column(name, kinds.get(name) or open_column_kind(frame[name], fmt), nullable=True)
            for name in extra
        ]
    typed, unparsed = {}, []
    for col in columns:
        given = frame[col.name] if col.name in frame else pd.Series(None, frame.index, object)
        values, bad = _parse(_blank_to_missing(given), col, fmt)
        typed[col.name] = values
        if bad.any():
            unparsed.append(
                pd.DataFrame(
                    {
                        "row": given.index[bad],
                        "column": col.name,
                        "value": given[bad].astype(str).to_numpy(),
                        "expected": expected_text(col.kind, fmt),
                    }
                )
            )
    out = pd.DataFrame(typed, index=frame.index).reset_index(drop=True)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in UNPARSED_COLUMNS[1:]})
    return out, pd.concat(unparsed, ignore_index=True) if unparsed else empty


def cast_table(frame: pd.DataFrame, table: Table, fmt: TextFormat = TextFormat()) -> pd.DataFrame:
    """Return ``frame`` parsed to the contract types (see :func:`parse_table`), strictly.

    Raises ``ValueError`` naming the column, the kind and a few values that do not convert.
    """
    typed, unparsed = parse_table(frame, table, fmt)
    if len(unparsed):
        name = unparsed["column"].iloc[0]
        bad = unparsed[unparsed["column"] == name]
        kind = table.column(name).kind if name in table.column_names else "float"
        raise ValueError(
            f"{table.name}.{name}: {len(bad)} values are not {kind}, e.g. "
            f"{bad['value'].head(5).tolist()} (rows {bad['row'].head(5).tolist()})"
        )
    return typed


def open_column_kind(values: pd.Series, fmt: TextFormat = TextFormat()) -> Kind:
    """``float`` for a column of numbers, ``str`` for text (a categorical attribute).

    A column is numbers when its type is numeric or when at least :data:`NUMBER_SHARE` of
    its given cells parse as numbers (the rest are then bad cells, rejected by validation,
    not a reason to read the whole column as categories).
    """
    types = pd.api.types
    if types.is_bool_dtype(values) or (
        types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)
    ):
        return "float"
    given = _blank_to_missing(values).dropna()
    if given.empty:
        return "float"
    parsed = _parse_numbers(given, fmt)
    return "float" if parsed.notna().mean() >= NUMBER_SHARE else "str"


def expected_text(kind: Kind, fmt: TextFormat = TextFormat()) -> str:
    """What a cell of ``kind`` must look like, in words (for messages)."""
    if kind == "date":
        spelled = f"in the format {fmt.date_format}" if fmt.date_format else "ISO 8601 (2024-01-31)"
        return f"a date, {spelled}"
    if kind in ("float", "int"):
        what = "a whole number" if kind == "int" else "a number"
        return what + (f" with decimal {fmt.decimal!r}" if fmt.decimal != "." else "")
    return "yes/no, true/false or 1/0" if kind == "bool" else "text"


def strip_invisible(values: pd.Series) -> pd.Series:
    """Text cells without :data:`INVISIBLE` characters and control characters (others as given)."""
    if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
        return values
    return values.map(lambda v: _INVISIBLE.sub("", v) if isinstance(v, str) else v)


def has_invisible(values: pd.Series) -> pd.Series:
    """Whether each cell holds a character :func:`strip_invisible` removes."""
    return values.map(lambda v: isinstance(v, str) and _INVISIBLE.search(v) is not None)


def _blank_to_missing(values: pd.Series) -> pd.Series:
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        return values.where(values.astype("string").str.strip() != "", None)
    return values


def _parse(values: pd.Series, col: Column, fmt: TextFormat) -> tuple[pd.Series, pd.Series]:
    """The typed column and the mask of given values that did not parse."""
    given = values.notna()
    if col.kind == "str":
        text = strip_invisible(values).astype("string").str.strip()
        if col.allowed:  # "eur", " EUR": the contract's spelling where only case differs
            canonical = {a.casefold(): a for a in col.allowed}
            text = text.map(lambda v: canonical.get(v.casefold(), v), na_action="ignore")
        return text.astype(object).where(given, None), given & False
    if col.kind == "bool":
        if pd.api.types.is_bool_dtype(values):
            return values.fillna(False).astype(bool), given & False
        mapped = values.astype("string").str.strip().str.lower().astype(object).map(_BOOLS)
        return mapped.fillna(False).astype(bool), given & mapped.isna()
    if col.kind == "date":
        parsed = _parse_dates(values, fmt.date_format)
        return parsed, given & parsed.isna()
    parsed = _parse_numbers(values, fmt)
    bad = given & (parsed.isna() | np.isinf(parsed))
    if col.kind == "int":
        bad |= parsed.notna() & (parsed % 1 != 0)
    parsed = parsed.where(~bad)
    return (parsed if col.kind == "float" else parsed.astype("Int64")), bad


def _parse_dates(values: pd.Series, date_format: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[ns]")
    text = values.astype("string").str.strip().astype(object)
    parsed = pd.to_datetime(text, errors="coerce", format=date_format or "ISO8601")
    if values.dtype == object:  # date objects (Parquet date32) are dates whatever the format
        is_date = values.map(lambda v: isinstance(v, dt.date), na_action="ignore")
        is_date = is_date.fillna(False).astype(bool)
        if is_date.any():
            parsed = parsed.where(~is_date, pd.to_datetime(values.where(is_date)))
    return parsed.astype("datetime64[ns]")


def _parse_numbers(values: pd.Series, fmt: TextFormat) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):  # a yes/no column counts 1/0
        return values.astype("float64")
    text = values.astype("string").str.strip()
    if fmt.thousands:
        text = text.str.replace(fmt.thousands, "", regex=False)
    if fmt.decimal != ".":
        text = text.str.replace(".", "\0", regex=False).str.replace(fmt.decimal, ".", regex=False)
    return pd.to_numeric(text.astype(object), errors="coerce").astype("float64")


_BOOLS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "t": True,
    "f": False,
}
