"""Validation of contract tables with Great Expectations: run the suites, explain, keep rows.

Each table's suite (``pipelines/expectations.py``) runs on a whole-frame batch; every failed
rule becomes a :class:`Failure` with sample rows, and every offending row is rejected with the
first rule it broke. Only ``pipelines/`` talks to Great Expectations.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import TABLES, UNPARSED_COLUMNS, Table
from pipelines.checks.rules import (
    HELPER,
    Rule,
    book_currency,
    contract_rules,
    dtype_mismatches,
    gx_batch,
    gx_expectation,
)

DOCS_SITE = "validation"
TABLE_LEVEL = {"columns", "dtype"}  # rules about the table, not rows: they cannot be quarantined
REJECT_COLUMNS = ["row", "rule", "column", "detail", "rules"]

log = logging.getLogger("pipelines")


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
        return _plain({k: v for k, v in vars(self).items() if k != "positions"})


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


def _plain(value: Any) -> Any:
    """``value`` with numpy/pandas scalars, tuples and missing values made JSON-friendly."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat()
    return value.item() if isinstance(value, np.generic) else value


def dtype_failures(table: Table, frame: pd.DataFrame) -> list[Failure]:
    """Table-level ``dtype`` failures: present columns whose dtype does not hold their kind."""
    return [
        Failure(table.name, (name,), "dtype", f"must hold {kind} values", "dtype", 0, dtype, [])
        for name, kind, dtype in dtype_mismatches(table, frame)
    ]


def _references(
    table: Table,
    tables: dict[str, pd.DataFrame],
    done: dict[str, TableResult],
    quarantine: bool,
) -> dict[str, Any]:
    """The values each foreign key of ``table`` may take.

    With quarantine, a target table validated already contributes only its kept rows, so
    that the rows of a rejected customer are rejected too (rule ``foreign key``).
    """
    references = {}
    for target in table.foreign_keys.values():
        name, column = target.split(".")
        if name not in tables or column not in tables[name]:
            continue
        values = tables[name][column]
        if quarantine and name in done:
            values = values.drop(index=done[name].rejected.index)
        references[target] = pd.unique(values.dropna())
    return references


def _error(info: dict | None) -> str | None:
    """The exception message(s) of a result: GX keys them by metric where a metric failed."""
    infos = [info] if info and "raised_exception" in info else list((info or {}).values())
    messages = {i.get("exception_message") for i in infos if i.get("raised_exception")}
    return "; ".join(sorted(m for m in messages if m)) or None


def _failure(
    table: str, batch: pd.DataFrame, result: Any, sample_rows: int, exclude: set[int]
) -> Failure | None:
    """One failed GX result as a :class:`Failure` (``None`` when only ``exclude`` rows broke it).

    ``exclude`` are rows whose value did not parse: the ``type`` rule reports them, so the
    not-null rule of the same column does not report them again.
    """
    config, details = result.expectation_config, result.result or {}
    meta = config.meta
    columns, names = tuple(meta["columns"]), (meta["rule"], meta["detail"], config.type)
    error = _error(result.exception_info)
    if error:
        return Failure(table, columns, *names, 0, None, [], error)
    if meta["rule"] == "columns":
        wrong = {k: sorted(v) for k, v in details["details"]["mismatched"].items() if v}
        return Failure(table, columns, *names, sum(map(len, wrong.values())), wrong, [])
    positions = [int(p) for p in details.get("unexpected_index_list") or [] if p not in exclude]
    # keep Data Docs small: the full lists are only needed here
    for key in ("unexpected_index_list", "unexpected_list"):
        details[key] = list(details.get(key) or [])[:sample_rows]
    if not positions:
        return None
    shown = [config.kwargs["column"]] if meta["rule"] == "type" else list(columns)
    head = batch.iloc[positions[:sample_rows]]
    values = [row[shown[0]] if len(shown) == 1 else dict(row[shown]) for _, row in head.iterrows()]
    rows = head[[c for c in head.columns if not c.startswith(HELPER)]]
    samples = rows.assign(row=np.array(positions[:sample_rows]) + 1).to_dict("records")
    return Failure(
        table,
        columns,
        *names,
        len(positions),
        _plain(values),
        _plain(samples),
        None,
        tuple(positions),
    )


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


def _quiet_context() -> Any:
    """An ephemeral GX context: no analytics, no progress bars, nothing read or sent."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # before it logs on import
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _validate_table(
    context: Any,
    source: Any,
    table: Table,
    frame: pd.DataFrame,
    rules: list[Rule],
    unparsed: pd.DataFrame,
    references: dict[str, Any],
    sample_rows: int,
) -> TableResult:
    """Run one table's suite as a GX validation definition on a whole-frame batch."""
    import great_expectations as gx

    name = table.name
    batch = gx_batch(frame, table, unparsed, references)
    expectations = [gx_expectation(rule, order) for order, rule in enumerate(rules)]
    # One add with all expectations: add_expectation re-serializes the suite every time.
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    asset = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=asset, suite=suite, name=name)
    )
    result_format = {
        "result_format": "COMPLETE",  # every offending row, to reject each
        "partial_unexpected_count": sample_rows,
        "return_unexpected_index_query": False,
    }
    results = definition.run(batch_parameters={"dataframe": batch}, result_format=result_format)
    failed = sorted(
        (r for r in results.results if not r.success),
        key=lambda r: r.expectation_config.meta["order"],  # contract order, not GX's
    )
    unparsed_rows = unparsed.groupby("column")["row"].agg(lambda r: set(r.astype(int)))
    failures = dtype_failures(table, frame)
    for r in failed:
        column = (r.expectation_config.meta["columns"] or [None])[0]
        is_null_rule = r.expectation_config.meta["rule"] == "not null"
        exclude = unparsed_rows.get(column, set()) if is_null_rule else set()
        failure = _failure(name, batch, r, sample_rows, exclude)
        failures += [failure] if failure else []
    rejected = rejected_rows([f for f in failures if not f.table_level])
    evaluated = len(results.results) + len(table.columns)
    return TableResult(name, len(frame), evaluated, tuple(failures), rejected)


def validate_tables(
    tables: dict[str, pd.DataFrame],
    as_of_date: pd.Timestamp,
    sample_rows: int,
    on_bad_rows: str = "fail",
    *,
    unparsed: pd.DataFrame | None = None,
    currency: str | None = None,
) -> ValidationReport:
    """Validate each contract table with a Great Expectations suite made from the contract.

    Args:
        tables: Frames by contract table name; ``customers`` is required (foreign keys).
        as_of_date: As-of date of the data; dates of things that happened after it fail.
        sample_rows: How many offending values/rows to keep per failed rule.
        on_bad_rows: ``fail`` or ``quarantine``; with quarantine, foreign keys only accept the
            kept rows of their target (a rejected customer's invoices are rejected too).
        unparsed: Cells ingest could not parse (``table, row, column, value, expected``).
        currency: The book's currency; default the invoices' most frequent.

    Returns:
        The report, with the ephemeral context that holds suites and results.
    """
    unknown = sorted(set(tables) - set(TABLES))
    if unknown or "customers" not in tables or sample_rows < 1:
        raise ValueError(
            f"expected contract tables including 'customers' and sample_rows >= 1, got "
            f"tables {sorted(tables)} (unknown {unknown}) and sample_rows {sample_rows}"
        )
    if on_bad_rows not in ("fail", "quarantine"):
        raise ValueError(f"on_bad_rows must be 'fail' or 'quarantine', got {on_bad_rows!r}")
    as_of_date, currency = pd.Timestamp(as_of_date), book_currency(tables, currency)
    tables = {name: frame.reset_index(drop=True) for name, frame in tables.items()}  # positions
    cells = unparsed if unparsed is not None else no_cells()
    context = _quiet_context()
    source = context.data_sources.add_pandas("raw")
    outcome: dict[str, TableResult] = {}
    for name in (t for t in TABLES if t in tables):  # customers first: the others refer to it
        table, frame = TABLES[name], tables[name]
        mine = cells[cells["table"] == name]
        expected = mine.drop_duplicates("column").set_index("column")["expected"]
        expected = {c: expected[c] for c in frame.columns if c in expected.index}  # in order
        references = _references(table, tables, outcome, on_bad_rows == "quarantine")
        rules = contract_rules(
            table, set(frame.columns), references, as_of_date, unparsed=expected, currency=currency
        )
        outcome[name] = _validate_table(
            context, source, table, frame, rules, mine, references, sample_rows
        )
        result = outcome[name]
        log.info(
            "validate: %s: %d rows, %d rules, %d failed, %d rows rejected",
            name,
            result.rows_in,
            result.rules_evaluated,
            len(result.failures),
            len(result.rejected),
        )
    return ValidationReport(as_of_date, on_bad_rows, outcome, context)


def build_data_docs(report: ValidationReport, directory: Path) -> Path:
    """Render the report's suites and results as GX Data Docs into ``directory``.

    Building needs no network; the pages link Bootstrap/jQuery from CDNs when opened.

    Returns:
        The ``index.html`` path.
    """
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(Path(directory).resolve()),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    report.context.add_data_docs_site(DOCS_SITE, site)
    report.context.build_data_docs(site_names=[DOCS_SITE])
    return Path(directory) / "index.html"
