"""Outcome of a validation run: failed rules, rejected rows, the report and its JSON summary.

A :class:`Failure` is one broken rule of one table, with sample rows; a :class:`TableResult`
holds a table's failures and its rejected rows (each with the first rule it broke); a
:class:`ValidationReport` holds every table's and says whether the stage stops. The run that
fills them is ``pipelines.checks.gx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.contract import UNPARSED_COLUMNS

TABLE_LEVEL = {"columns", "dtype"}  # rules about the table, not rows: they cannot be quarantined
REJECT_COLUMNS = ["row", "rule", "column", "detail", "rules"]


@dataclass(frozen=True)
class Failure:
    """One failed rule of one table.

    Attributes:
        table: Table name.
        columns: The column(s) the rule is about (empty for table-level rules).
        rule: Short rule name (``foreign key``, ``range``, ...), as in the rejects files.
        detail: The rule in plain English.
        expectation: The Great Expectations expectation type (``dtype``: a pandas check).
        unexpected_count: Offending rows (for the column-set rule: wrong columns).
        sample_values: Up to ``sample_rows`` offending values (for the column-set rule:
            ``{"missing": [...], "unexpected": [...]}`` column names).
        sample_rows: Up to ``sample_rows`` offending rows, each with its 1-based ``row``.
        error: The exception message where the rule could not be evaluated at all.
        positions: 0-based positions of all offending rows (not in the summary).
    """

    table: str
    columns: tuple[str, ...]
    rule: str
    detail: str
    expectation: str
    unexpected_count: int
    sample_values: Any
    sample_rows: list[dict[str, Any]]
    error: str | None = None
    positions: tuple[int, ...] = field(default=(), repr=False)

    @property
    def table_level(self) -> bool:
        """Whether the rule is about the table as a whole (no rows to set aside)."""
        return self.rule in TABLE_LEVEL or self.error is not None

    @property
    def key(self) -> str:
        """``columns: rule``, the key of the rejected-row counts in the summary."""
        return f"{','.join(self.columns)}: {self.rule}" if self.columns else self.rule

    def message(self, rows: int | None = None) -> str:
        """One line naming table, column, rule, count and example rows."""
        where = f"{self.table}.{','.join(self.columns)}" if self.columns else self.table
        head = f"{where}: rule {self.rule} ({self.detail})"
        if self.error:
            return f"{head} could not be evaluated: {self.error}"
        if self.rule == "columns":
            wrong = [f"{kind} columns {names}" for kind, names in self.sample_values.items()]
            return f"{head} failed: {', '.join(wrong)}"
        if self.rule == "dtype":
            return f"{head} failed: the column holds {self.sample_values}"
        of = f" of {rows}" if rows is not None else ""
        examples = "; ".join(
            f"row {r['row']}: {_show(v)}"
            for r, v in zip(self.sample_rows, self.sample_values, strict=True)
        )
        return f"{head} failed for {self.unexpected_count}{of} rows, e.g. {examples}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the summary."""
        return jsonable({k: v for k, v in vars(self).items() if k != "positions"})


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    return "empty" if value is None else repr(value)


@dataclass(frozen=True)
class TableResult:
    """The validation outcome of one table.

    Attributes:
        table: Table name.
        rows_in: Rows read.
        rules_evaluated: Rules (expectations and dtype checks) evaluated.
        failures: Failed rules, in contract order.
        rejected: One row per rejected row, indexed by 0-based position: ``row`` (1-based),
            ``rule`` (the first it broke), ``column``, ``detail``, ``rules`` (all it broke).
    """

    table: str
    rows_in: int
    rules_evaluated: int
    failures: tuple[Failure, ...]
    rejected: pd.DataFrame

    @property
    def rows_kept(self) -> int:
        """Rows that broke no rule."""
        return self.rows_in - len(self.rejected)

    def rejected_by_rule(self) -> dict[str, int]:
        """Rejected rows per first broken rule (``columns: rule``); they add up to the rejects."""
        keys = self.rejected["column"].str.cat(self.rejected["rule"], sep=": ")
        return {str(k): int(n) for k, n in keys.value_counts(sort=False).sort_index().items()}


@dataclass
class ValidationReport:
    """All tables' outcomes, plus the Great Expectations context that holds the results.

    Attributes:
        as_of_date: The as-of date the data was checked against.
        on_bad_rows: ``fail`` or ``quarantine``.
        tables: Outcome per table name.
        context: The ephemeral GX context (suites and validation results), for Data Docs.
    """

    as_of_date: pd.Timestamp
    on_bad_rows: str
    tables: dict[str, TableResult]
    context: Any = field(default=None, repr=False, compare=False)

    @property
    def failures(self) -> list[Failure]:
        """Every failed rule, table by table."""
        return [f for result in self.tables.values() for f in result.failures]

    @property
    def success(self) -> bool:
        """Whether every rule of every table passed."""
        return not self.failures

    @property
    def blocking(self) -> list[Failure]:
        """The failures that stop the stage: all with ``fail``, table-level ones otherwise."""
        if self.on_bad_rows == "fail":
            return self.failures
        return [f for f in self.failures if f.table_level]

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary: per table rows in/kept/rejected, rules evaluated and failed."""
        tables = {
            name: {
                "rows_in": r.rows_in,
                "rows_kept": r.rows_kept,
                "rows_rejected": len(r.rejected),
                "rejected_by_rule": r.rejected_by_rule(),
                "rules_evaluated": r.rules_evaluated,
                "rules_failed": len(r.failures),
                "failures": [f.to_dict() for f in r.failures],
            }
            for name, r in self.tables.items()
        }
        totals = {k: sum(t[k] for t in tables.values()) for k in ("rows_in", "rows_kept")}
        return {
            "as_of_date": self.as_of_date.date().isoformat(),
            "on_bad_rows": self.on_bad_rows,
            "success": self.success,
            "stopped": bool(self.blocking),
            **totals,
            "rows_rejected": totals["rows_in"] - totals["rows_kept"],
            "tables": tables,
        }


def jsonable(value: Any) -> Any:
    """``value`` with numpy/pandas scalars, tuples and missing values made JSON-friendly."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat()
    return value.item() if isinstance(value, np.generic) else value


def rejected_rows(failures: tuple[Failure, ...] | list[Failure]) -> pd.DataFrame:
    """One row per rejected row: the first rule it broke (contract order) and all of them."""
    hits = [
        pd.DataFrame({"position": f.positions, "order": i})
        for i, f in enumerate(failures)
        if f.positions
    ]
    if not hits:
        return pd.DataFrame(columns=REJECT_COLUMNS, index=pd.Index([], dtype="int64"))
    found = pd.concat(hits).sort_values(["position", "order"], kind="stable")
    keys = [f.key for f in failures]
    every = found.groupby("position")["order"].agg(lambda o: "; ".join(keys[i] for i in o))
    first = found.drop_duplicates("position").set_index("position")["order"]
    return pd.DataFrame(
        {
            "row": first.index + 1,
            "rule": [failures[i].rule for i in first],
            "column": [",".join(failures[i].columns) for i in first],
            "detail": [failures[i].detail for i in first],
            "rules": every.reindex(first.index),
        },
        index=first.index.rename(None),
    )


def no_cells() -> pd.DataFrame:
    """An empty list of unparsed cells."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in UNPARSED_COLUMNS})
