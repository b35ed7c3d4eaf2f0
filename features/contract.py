"""The input data contract: every table's columns, types, keys and rules, in one place.

Ingest casts files to these types, validation builds its Great Expectations suites from
these rules, and feature code refers to these names. See ../shared/DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
DEFAULT_TYPES = ("insolvency", "write_off", "insurance_claim", "days_past_due", "other")
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "CNY", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK", "TWD")


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Attributes:
        name: Column name in the canonical table.
        kind: Logical type the column is cast to.
        nullable: Whether missing values are allowed.
        min: Smallest allowed value (inclusive), for numbers.
        max: Largest allowed value (inclusive), for numbers.
        allowed: The allowed values, for categorical text columns.
        required: Whether a file must have the column (optional columns are added empty).
    """

    name: str
    kind: Kind
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    required: bool = True


@dataclass(frozen=True)
class Table:
    """One contract table with its row-level and table-level rules.

    Attributes:
        name: Table name (also the file stem, e.g. ``invoices.csv``).
        columns: The contract columns.
        key: Columns whose combination must be unique.
        foreign_keys: Column -> ``table.column`` it must exist in.
        date_order: Pairs ``(earlier, later)`` where ``earlier <= later`` must hold when both set.
        open_columns: Whether extra numeric columns are kept (the ``attributes`` table).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    foreign_keys: dict[str, str] = field(default_factory=dict)
    date_order: tuple[tuple[str, str], ...] = ()
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
                Column("customer_id", "str"),
                Column("name", "str"),
                Column("country", "str"),
                Column("region", "str"),
                Column("industry", "str"),
                Column("annual_revenue", "float", nullable=True, min=0),
                Column("relationship_start", "date"),
                Column("credit_limit", "float", min=0),
                Column("payment_terms_days", "int", min=0, max=365),
            ),
            key=("customer_id",),
        ),
        Table(
            "invoices",
            (
                Column("invoice_id", "str"),
                Column("customer_id", "str"),
                Column("issue_date", "date"),
                Column("due_date", "date"),
                Column("amount", "float", min=0.01),
                Column("currency", "str", allowed=CURRENCIES),
                Column("paid_date", "date", nullable=True),
                Column("paid_amount", "float", nullable=True, min=0),
                Column("disputed", "bool"),
            ),
            key=("invoice_id",),
            foreign_keys=CUSTOMER_FK,
            date_order=(("issue_date", "due_date"), ("issue_date", "paid_date")),
        ),
        Table(
            "financials",
            (
                Column("customer_id", "str"),
                Column("period_end", "date"),
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
                Column("event_date", "date"),
                Column("event_type", "str", allowed=EVENT_TYPES),
                Column("description", "str", nullable=True, required=False),
            ),
            foreign_keys=CUSTOMER_FK,
        ),
        Table(
            "industry_index",
            (
                Column("industry", "str"),
                Column("month", "date"),
                Column("value", "float"),
            ),
            key=("industry", "month"),
        ),
        Table(
            "defaults",
            (
                Column("customer_id", "str"),
                Column("default_date", "date"),
                Column("default_type", "str", allowed=DEFAULT_TYPES),
            ),
            key=("customer_id", "default_date"),
            foreign_keys=CUSTOMER_FK,
        ),
        Table(
            "attributes",
            (Column("customer_id", "str"), Column("known_date", "date")),
            key=("customer_id", "known_date"),
            foreign_keys=CUSTOMER_FK,
            open_columns=True,
        ),
    )
}

REQUIRED_TABLES = ("customers",)


def cast_table(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``frame`` with the contract columns cast to their kinds, in contract order.

    Optional columns that are absent are added empty; for ``open_columns`` tables the extra
    columns are kept as numbers. Raises ``ValueError`` naming the column, the kind and a few
    values that do not convert.
    """
    missing = [c.name for c in table.columns if c.required and c.name not in frame]
    if missing:
        raise ValueError(f"{table.name}: missing required columns {missing}")
    out = pd.DataFrame(index=frame.index)
    for col in table.columns:
        values = frame[col.name] if col.name in frame else pd.Series(None, index=frame.index)
        out[col.name] = _cast(values, col, table.name)
    if table.open_columns:
        for name in frame.columns.difference(table.column_names, sort=False):
            out[name] = _cast(frame[name], Column(name, "float", nullable=True), table.name)
    return out.reset_index(drop=True)


def _cast(values: pd.Series, col: Column, table: str) -> pd.Series:
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        values = values.where(values.astype("string").str.strip() != "", None)  # blank = missing
    if col.kind == "str":
        return values.astype("string").str.strip().astype(object).where(values.notna(), None)
    if col.kind == "bool":
        text = values.astype("string").str.strip().str.lower()
        mapped = text.map(_BOOLS)
        bad = values.notna() & mapped.isna()
        _raise_if(bad, values, col, table)
        return mapped.fillna(False).astype(bool)
    if col.kind == "date":
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        _raise_if(values.notna() & parsed.isna(), values, col, table)
        return parsed.astype("datetime64[ns]")
    parsed = pd.to_numeric(values, errors="coerce")
    not_int = parsed.notna() & (parsed % 1 != 0) if col.kind == "int" else False
    _raise_if((values.notna() & parsed.isna()) | not_int, values, col, table)
    return parsed.astype("float64") if col.kind == "float" else parsed.astype("Int64")


_BOOLS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
}


def _raise_if(bad: pd.Series, values: pd.Series, col: Column, table: str) -> None:
    if bad.any():
        sample = values[bad].head(5).tolist()
        raise ValueError(
            f"{table}.{col.name}: {int(bad.sum())} values are not {col.kind}, e.g. {sample} "
            f"(rows {list(values.index[bad][:5])})"
        )
