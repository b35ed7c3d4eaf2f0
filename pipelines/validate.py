"""Validate stage: Great Expectations suites, generated from the data contract, per raw table.

Inputs:
    data/raw/<table>.parquet: each contract table ingest wrote (customers always).
    data/raw/manifest.json: ``as_of_date`` (no event may be dated after it) and the tables.
Outputs:
    data/reports/validation/summary.json: per table the rows, rules evaluated and failed, and
        each failure with sample offending values and rows.
    data/reports/validation/docs/: Great Expectations Data Docs (open ``index.html``).
Params:
    validate.sample_rows
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from features.contract import TABLES, Table
from pipelines.config import Config, load_config, parse_args
from pipelines.io import RAW, REPORTS, StageError, read_json, read_parquet, run_stage, write_json

OUT = REPORTS / "validation"
MANIFEST = RAW / "manifest.json"
# Dates of things that happened; none can lie after the as-of date of the data.
EVENT_DATE_COLUMNS = (
    "issue_date",
    "event_date",
    "default_date",
    "period_end",
    "known_date",
    "month",
)
DOCS_SITE = "validation"

log = logging.getLogger("pipelines")


@dataclass(frozen=True)
class Failure:
    """One failed rule of one table.

    Attributes:
        table: Table name.
        columns: The column(s) the rule is about (empty for table-level rules).
        expectation: The Great Expectations expectation type.
        rule: The rule in plain English.
        unexpected_count: Offending rows (for the column-set rule: wrong columns).
        sample_values: Up to ``sample_rows`` offending values (for the column-set rule:
            ``{"missing": [...], "unexpected": [...]}`` column names).
        sample_rows: Up to ``sample_rows`` offending rows, each with its row number ``_row``.
        error: The exception message where the rule could not be evaluated at all.
    """

    table: str
    columns: tuple[str, ...]
    expectation: str
    rule: str
    unexpected_count: int
    sample_values: Any
    sample_rows: list[dict[str, Any]]
    error: str | None = None

    def message(self) -> str:
        """One line naming table, column, rule and sample offending values."""
        where = f"{self.table}.{','.join(self.columns)}" if self.columns else self.table
        head = f"{where}: rule {self.expectation} ({self.rule})"
        if self.error:
            return f"{head} could not be evaluated: {self.error}"
        if self.expectation == "expect_table_columns_to_match_set":
            wrong = [f"{kind} columns {names}" for kind, names in self.sample_values.items()]
            return f"{head} failed: {', '.join(wrong)}"
        if self.expectation == "expect_column_values_to_not_be_null":
            example = f"rows {[r['_row'] for r in self.sample_rows]}"
        else:
            example = repr(self.sample_values)
        return f"{head} failed for {self.unexpected_count} rows, e.g. {example}"


@dataclass(frozen=True)
class TableResult:
    """The validation outcome of one table."""

    table: str
    rows: int
    rules_evaluated: int
    failures: tuple[Failure, ...]


@dataclass
class ValidationReport:
    """All tables' outcomes, plus the Great Expectations context that holds the results.

    Attributes:
        as_of_date: The as-of date the data was checked against.
        tables: Outcome per table name.
        context: The ephemeral GX context (suites and validation results), for Data Docs.
    """

    as_of_date: pd.Timestamp
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

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary: per table rows, rules evaluated and failed, and the failures."""
        return {
            "as_of_date": self.as_of_date.date().isoformat(),
            "success": self.success,
            "tables": {
                name: {
                    "rows": r.rows,
                    "rules_evaluated": r.rules_evaluated,
                    "rules_failed": len(r.failures),
                    "failures": [_plain(asdict(f)) for f in r.failures],
                }
                for name, r in self.tables.items()
            },
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


class Rule(NamedTuple):
    """One contract rule as a GX expectation: class name, plain-English name, columns, kwargs."""

    expectation: str
    name: str
    columns: tuple[str, ...]
    kwargs: dict[str, Any]


def contract_rules(
    table: Table, present: set[str], references: dict[str, list[Any]], as_of_date: pd.Timestamp
) -> list[Rule]:
    """The rules the contract implies for ``table``.

    Args:
        table: The contract table.
        present: Columns the frame has; column rules are only made for these (a missing
            column fails the column-set rule instead).
        references: ``"table.column"`` -> the values a foreign key may take.
        as_of_date: No event-like date may lie after it.

    Returns:
        The rules, table-level first.
    """
    rules: list[Rule] = []
    add = _adder(rules)
    add(
        "TableColumnsToMatchSet",
        "contract columns present" if table.open_columns else "exactly the contract columns",
        (),
        column_set=table.column_names,
        exact_match=not table.open_columns,  # only attributes may carry extra columns
    )
    key = tuple(table.key)
    if len(key) == 1 and key[0] in present:
        add("ColumnValuesToBeUnique", "key must be unique", key, column=key[0])
    elif key and set(key) <= present:
        add("CompoundColumnsToBeUnique", "key must be unique", key, column_list=list(key))
    for col, ref in table.foreign_keys.items():
        if col in present and ref in references:
            add(
                "ColumnValuesToBeInSet",
                f"must exist in {ref}",
                (col,),
                column=col,
                value_set=references[ref],
            )
    for first, then in table.date_order:
        if {first, then} <= present:
            add(
                "ColumnPairValuesAToBeGreaterThanB",
                f"{first} must not be after {then}",
                (first, then),
                column_A=then,
                column_B=first,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
    return rules + _column_rules(table, present, as_of_date)


def _adder(rules: list[Rule]) -> Callable[..., None]:
    """A function ``add(expectation, name, columns, **kwargs)`` that appends to ``rules``."""

    def add(expectation: str, name: str, columns: tuple[str, ...], **kwargs: Any) -> None:
        rules.append(Rule(f"Expect{expectation}", name, columns, kwargs))

    return add


def _column_rules(table: Table, present: set[str], as_of_date: pd.Timestamp) -> list[Rule]:
    """Not-null, range, allowed-set and not-after-as-of rules of the present columns."""
    rules: list[Rule] = []
    add = _adder(rules)
    for col in (c for c in table.columns if c.name in present):
        one = (col.name,)
        if not col.nullable:
            add("ColumnValuesToNotBeNull", "value required", one, column=col.name)
        if col.min is not None or col.max is not None:
            add(
                "ColumnValuesToBeBetween",
                _range_name(col.min, col.max),
                one,
                column=col.name,
                min_value=col.min,
                max_value=col.max,
            )
        if col.allowed:
            add(
                "ColumnValuesToBeInSet",
                "value in allowed set",
                one,
                column=col.name,
                value_set=list(col.allowed),
            )
        if col.kind == "date" and col.name in EVENT_DATE_COLUMNS:
            add(
                "ColumnValuesToBeBetween",
                f"date not after as-of date {as_of_date.date()}",
                one,
                column=col.name,
                max_value=as_of_date,
            )
    return rules


def _range_name(low: float | None, high: float | None) -> str:
    """Plain English for an inclusive range with optional ends."""
    if high is None:
        return f"value must be >= {low}"
    return f"value must be <= {high}" if low is None else f"value must be in [{low}, {high}]"


def _expectation(rule: Rule, order: int) -> Any:
    """The GX expectation of ``rule``, carrying its name, columns and order in ``meta``."""
    import great_expectations.expectations as gxe

    meta = {"rule": rule.name, "columns": list(rule.columns), "order": order}
    return getattr(gxe, rule.expectation)(**rule.kwargs, meta=meta)


def _references(tables: dict[str, pd.DataFrame]) -> dict[str, list[Any]]:
    """The distinct values of each foreign-key target column that exists."""
    targets = {t for name in tables for t in TABLES[name].foreign_keys.values()}
    references = {}
    for target in targets:
        name, column = target.split(".")
        if name in tables and column in tables[name]:
            references[target] = pd.unique(tables[name][column].dropna()).tolist()
    return references


def _error(info: dict | None) -> str | None:
    """The exception message(s) of a result: GX keys them by metric where a metric failed."""
    infos = [info] if info and "raised_exception" in info else list((info or {}).values())
    messages = {i.get("exception_message") for i in infos if i.get("raised_exception")}
    return "; ".join(sorted(m for m in messages if m)) or None


def _failure(table: str, frame: pd.DataFrame, result: Any, sample_rows: int) -> Failure:
    """Turn one failed GX expectation result into a :class:`Failure`."""
    config, details = result.expectation_config, result.result or {}
    columns = tuple(config.meta["columns"])
    error = _error(result.exception_info)
    if config.type == "expect_table_columns_to_match_set" and not error:
        wrong = {k: sorted(v) for k, v in details["details"]["mismatched"].items() if v}
        count = sum(map(len, wrong.values()))
        return Failure(table, columns, config.type, config.meta["rule"], count, wrong, [])
    index = list(details.get("partial_unexpected_index_list") or [])[:sample_rows]
    rows = frame.loc[index].assign(_row=index).to_dict("records") if index else []
    if len(columns) > 1:  # pair and compound rules: the values are the involved columns
        values = [{c: row[c] for c in columns} for row in rows]
    else:
        values = list(details.get("partial_unexpected_list") or [])[:sample_rows]
    return Failure(
        table,
        columns,
        config.type,
        config.meta["rule"],
        int(details.get("unexpected_count") or 0),
        _plain(values),
        _plain(rows),
        error,
    )


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
    context: Any, source: Any, name: str, frame: pd.DataFrame, rules: list[Rule], sample_rows: int
) -> TableResult:
    """Run one table's suite as a GX validation definition on a whole-frame batch."""
    import great_expectations as gx

    frame = frame.reset_index(drop=True)  # row labels in the samples are row numbers
    expectations = [_expectation(rule, order) for order, rule in enumerate(rules)]
    # One add with all expectations: add_expectation re-serializes the suite every time.
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name=name)
    )
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": sample_rows}
    results = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    failed = sorted(
        (r for r in results.results if not r.success),
        key=lambda r: r.expectation_config.meta["order"],  # contract order, not GX's
    )
    failures = tuple(_failure(name, frame, r, sample_rows) for r in failed)
    return TableResult(name, len(frame), len(results.results), failures)


def validate_tables(
    tables: dict[str, pd.DataFrame], as_of_date: pd.Timestamp, sample_rows: int
) -> ValidationReport:
    """Validate each contract table with a Great Expectations suite made from the contract.

    Args:
        tables: Frames by contract table name; ``customers`` is required (foreign keys).
        as_of_date: As-of date of the data; event-like dates after it fail.
        sample_rows: How many offending values/rows to keep per failed rule.

    Returns:
        The report, with the ephemeral context that holds suites and results.
    """
    unknown = sorted(set(tables) - set(TABLES))
    if unknown or "customers" not in tables or sample_rows < 1:
        raise ValueError(
            f"expected contract tables including 'customers' and sample_rows >= 1, got "
            f"tables {sorted(tables)} (unknown {unknown}) and sample_rows {sample_rows}"
        )
    as_of_date = pd.Timestamp(as_of_date)
    context = _quiet_context()
    source = context.data_sources.add_pandas("raw")
    references = _references(tables)
    outcome = {}
    for name, frame in tables.items():
        rules = contract_rules(TABLES[name], set(frame.columns), references, as_of_date)
        outcome[name] = _validate_table(context, source, name, frame, rules, sample_rows)
        log.info(
            "validate: %s: %d rows, %d rules, %d failed",
            name,
            len(frame),
            len(rules),
            len(outcome[name].failures),
        )
    return ValidationReport(as_of_date, outcome, context)


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


def write_outputs(report: ValidationReport, out: Path) -> None:
    """Write summary and Data Docs beside ``out``, then swap them in (a crash keeps the old)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_json(report.to_dict(), staging / "summary.json")
        build_data_docs(report, staging / "docs")
        old = out.with_name(f"{staging.name}.old")
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_tables() -> tuple[dict[str, pd.DataFrame], pd.Timestamp]:
    """Read the raw contract tables that exist and the manifest's as-of date."""
    manifest = read_json(MANIFEST)
    try:
        as_of_date = pd.Timestamp(manifest["as_of_date"])
    except (KeyError, TypeError, ValueError) as err:
        raise StageError(f"{MANIFEST} needs an as_of_date YYYY-MM-DD: re-run ingest") from err
    wanted = {"customers"} | set(manifest.get("tables", {}))  # listed but missing: an error
    tables = {
        name: read_parquet(RAW / f"{name}.parquet")
        for name in TABLES
        if name in wanted or (RAW / f"{name}.parquet").is_file()
    }
    return tables, as_of_date


def run(cfg: Config) -> ValidationReport:
    """Validate the raw tables, write summary and Data Docs, and fail on any broken rule."""
    tables, as_of_date = load_tables()
    log.info("validate: %d tables as of %s", len(tables), as_of_date.date())
    report = validate_tables(tables, as_of_date, cfg.validate_.sample_rows)
    write_outputs(report, OUT)
    log.info("validate: wrote %s", OUT)
    if not report.success:
        lines = [f.message() for f in report.failures]
        raise StageError(f"{len(lines)} validation rule(s) failed:\n" + "\n".join(lines))
    return report


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.validate --config configs/params.yaml``."""
    args = parse_args(argv, description=__doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
