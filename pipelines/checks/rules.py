"""The data contract as Great Expectations rules: one suite per table, generated.

Pure functions from the contract (``features/contract.py``) to rule lists, plus the frame GX
checks (helper columns for unparsed cells and day spans) and the dtype checks GX cannot do on
pandas extension dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pandas as pd

from features.attributes import is_text
from features.contract import MIN_DATE, Table

HELPER = "__"  # prefix of the columns added to the GX batch only (unparsed text, day spans)


class Rule(NamedTuple):
    """One contract rule as a GX expectation.

    Attributes:
        expectation: GX expectation class name.
        rule: Short rule name.
        detail: The rule in plain English.
        columns: The contract columns it is about.
        kwargs: The expectation's arguments.
    """

    expectation: str
    rule: str
    detail: str
    columns: tuple[str, ...]
    kwargs: dict[str, Any]


def contract_rules(
    table: Table,
    present: set[str],
    references: dict[str, list[Any]],
    as_of_date: pd.Timestamp,
    *,
    unparsed: dict[str, str] | None = None,
    currency: str | None = None,
) -> list[Rule]:
    """The rules the contract implies for ``table``, in the order rows are attributed to them.

    Args:
        table: The contract table.
        present: Columns the frame has; column rules are only made for these (a missing
            column fails the column-set rule instead).
        references: ``"table.column"`` -> the values a foreign key may take.
        as_of_date: No date of something that happened may lie after it.
        unparsed: Column -> what its values must look like, for the columns with cells ingest
            could not parse (checked on the helper column ``__unparsed__<column>``).
        currency: The book's currency (``single`` columns must hold only it).

    Returns:
        The rules, table-level first.
    """
    rules: list[Rule] = []
    add = _adder(rules)
    unparsed = unparsed or {}
    helpers = [unparsed_column(c) for c in unparsed]
    helpers += [orphan_column(c) for c, _ in checked_foreign_keys(table, present, references)]
    helpers += [span_column(a, b) for a, b, _ in table.max_days if {a, b} <= present]
    add(
        "TableColumnsToMatchSet",
        "columns",
        "contract columns present" if table.open_columns else "exactly the contract columns",
        (),
        # an optional column may be absent (ingest adds it empty; a table written otherwise
        # need not): the required ones and those present make the set
        column_set=[c.name for c in table.columns if c.required or c.name in present] + helpers,
        exact_match=not table.open_columns,  # only attributes may carry extra columns
    )
    for col, expected in unparsed.items():
        add(
            "ColumnValuesToBeNull",
            "type",
            f"must be {expected}",
            (col,),
            column=unparsed_column(col),
        )
    key = tuple(table.key)
    if len(key) == 1 and key[0] in present:
        add("ColumnValuesToBeUnique", "unique key", "must be unique", key, column=key[0])
    elif key and set(key) <= present:
        add("CompoundColumnsToBeUnique", "unique key", "must be unique", key, column_list=list(key))
    for col, ref in checked_foreign_keys(table, present, references):
        # on a helper column of the orphans: a value set of every customer id would be
        # serialized on each GX metric lookup and printed in the Data Docs
        add("ColumnValuesToBeNull", "foreign key", f"must exist in {ref}", (col,),
            column=orphan_column(col))  # fmt: skip
    rules += _column_rules(table, present, as_of_date, currency)
    return rules + _pair_rules(table, present)


def checked_foreign_keys(
    table: Table, present: set[str], references: dict[str, Any]
) -> list[tuple[str, str]]:
    """``(column, "table.column")`` of the foreign keys that can be checked."""
    return [(c, ref) for c, ref in table.foreign_keys.items() if c in present and ref in references]


def _adder(rules: list[Rule]) -> Callable[..., None]:
    """A function ``add(expectation, rule, detail, columns, **kwargs)`` appending to ``rules``."""

    def add(expectation: str, rule: str, detail: str, columns: tuple, **kwargs: Any) -> None:
        rules.append(Rule(f"Expect{expectation}", rule, detail, columns, kwargs))

    return add


def _column_rules(
    table: Table, present: set[str], as_of_date: pd.Timestamp, currency: str | None
) -> list[Rule]:
    """Not-null, range, length, allowed-set, date-range and single-value rules of columns."""
    rules: list[Rule] = []
    add = _adder(rules)
    for col in (c for c in table.columns if c.name in present):
        one, name = (col.name,), col.name
        if not col.nullable:
            add("ColumnValuesToNotBeNull", "not null", "a value is required", one, column=name)
        if col.min is not None or col.max is not None:
            add(
                "ColumnValuesToBeBetween",
                "range",
                _range_name(col.min, col.max),
                one,
                column=name,
                min_value=col.min,
                max_value=col.max,
            )
        if col.kind == "str":
            add(
                "ColumnValueLengthsToBeBetween",
                "length",
                f"at most {col.max_length} characters",
                one,
                column=name,
                max_value=col.max_length,
            )
        if col.allowed:
            add(
                "ColumnValuesToBeInSet",
                "allowed set",
                "must be one of the contract's values",
                one,
                column=name,
                value_set=list(col.allowed),
            )
        if col.kind == "date":
            high = as_of_date if col.past else None
            detail = f"must be between {MIN_DATE.date()} and the as-of date {as_of_date.date()}"
            detail = detail if col.past else f"must not be before {MIN_DATE.date()}"
            add(
                "ColumnValuesToBeBetween",
                "date range",
                detail,
                one,
                column=name,
                min_value=MIN_DATE,
                max_value=high,
            )
        if col.single and currency:
            detail = f"one currency per book, {currency}: there is no FX table to convert others"
            add(
                "ColumnValuesToBeInSet",
                "single currency",
                detail,
                one,
                column=name,
                value_set=[currency],
            )
    return rules


def _pair_rules(table: Table, present: set[str]) -> list[Rule]:
    """Date order, maximal day spans and plausibility (part not above whole) rules."""
    rules: list[Rule] = []
    add = _adder(rules)
    for first, then in table.date_order:
        if {first, then} <= present:
            add(
                "ColumnPairValuesAToBeGreaterThanB",
                "date order",
                f"{first} must not be after {then}",
                (first, then),
                column_A=then,
                column_B=first,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
    for first, then, days in table.max_days:
        if {first, then} <= present:
            add(
                "ColumnValuesToBeBetween",
                "range",
                f"{then} at most {days} days after {first}",
                (first, then),
                column=span_column(first, then),
                max_value=days,
            )
    for part, whole in table.not_above:
        if {part, whole} <= present:
            add(
                "ColumnPairValuesAToBeGreaterThanB",
                "plausibility",
                f"{part} must not exceed {whole}",
                (part, whole),
                column_A=whole,
                column_B=part,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
    return rules


def span_column(first: str, then: str) -> str:
    """The helper column with the days from ``first`` to ``then``."""
    return f"{HELPER}days{HELPER}{first}{HELPER}{then}"


def orphan_column(column: str) -> str:
    """The helper column with the values of ``column`` its foreign key does not know."""
    return f"{HELPER}orphan{HELPER}{column}"


def unparsed_column(column: str) -> str:
    """The helper column with the text of ``column``'s cells that did not parse."""
    return f"{HELPER}unparsed{HELPER}{column}"


def _range_name(low: float | None, high: float | None) -> str:
    """Plain English for an inclusive range with optional ends."""
    if high is None:
        return f"must be >= {low}"
    return f"must be <= {high}" if low is None else f"must be in [{low}, {high}]"


def gx_expectation(rule: Rule, order: int) -> Any:
    """The GX expectation of ``rule``, carrying its names, columns and order in ``meta``."""
    import great_expectations.expectations as gxe

    meta = {"rule": rule.rule, "detail": rule.detail, "columns": list(rule.columns)}
    return getattr(gxe, rule.expectation)(**rule.kwargs, meta=meta | {"order": order})


def dtype_mismatches(table: Table, frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(column, kind, dtype)`` of each present column whose dtype does not hold its kind."""
    kinds = {c.name: c.kind for c in table.columns if c.name in frame}
    if table.open_columns:
        # the user's own columns: numbers, or text for a categorical attribute
        extra = [c for c in frame.columns if c not in table.column_names]
        kinds |= {c: "str" if is_text(frame[c]) else "float" for c in extra}
    return [
        (name, kind, str(frame[name].dtype))
        for name, kind in kinds.items()
        if not _holds(frame[name], kind)
    ]


def _holds(values: pd.Series, kind: str) -> bool:
    types = pd.api.types
    if values.isna().all():
        return True  # no value to be of the wrong kind (an empty optional column, say)
    if kind == "str":
        return types.infer_dtype(values, skipna=True) in ("string", "empty")
    if kind == "date":
        return types.is_datetime64_dtype(values)
    if kind == "bool":
        return types.is_bool_dtype(values)
    numeric = types.is_numeric_dtype(values) and not types.is_bool_dtype(values)
    if kind == "int" and numeric and not types.is_integer_dtype(values):
        return bool((values.dropna() % 1 == 0).all())
    return numeric


def book_currency(tables: dict[str, pd.DataFrame], configured: str | None) -> str | None:
    """The configured currency, else the invoices' most frequent one (ties: alphabetical)."""
    if configured or "invoices" not in tables or "currency" not in tables["invoices"]:
        return configured
    counts = tables["invoices"]["currency"].dropna().value_counts()
    return str(counts[counts == counts.max()].index.min()) if len(counts) else None


def gx_batch(
    frame: pd.DataFrame,
    table: Table,
    unparsed: pd.DataFrame,
    references: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The frame GX sees: nullable ints as floats, plus the helper columns of the rules.

    Args:
        frame: The table.
        table: Its contract.
        unparsed: Its unparsed cells (``row`` position, ``column``, ``value`` as given).
        references: As for :func:`contract_rules`.
    """
    batch = frame.copy()
    for col, ref in checked_foreign_keys(table, set(frame.columns), references or {}):
        orphan = batch[col].notna() & ~batch[col].isin(references[ref])
        batch[orphan_column(col)] = batch[col].astype(object).where(orphan, None)
    for name in batch.columns[[isinstance(t, pd.Int64Dtype) for t in batch.dtypes]]:
        batch[name] = batch[name].astype("float64")
    for column, cells in unparsed.groupby("column", sort=False):
        helper = pd.Series(None, index=batch.index, dtype=object)
        helper.iloc[cells["row"].to_numpy(dtype=int)] = cells["value"].to_numpy()
        batch[unparsed_column(str(column))] = helper
    for first, then, _ in table.max_days:
        if {first, then} <= set(batch.columns):
            batch[span_column(first, then)] = (batch[then] - batch[first]).dt.days
    return batch
