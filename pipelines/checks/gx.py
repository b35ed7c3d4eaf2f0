"""Validation of contract tables with Great Expectations: run the suites, explain, keep rows.

Each table's suite (its rules from ``pipelines.checks.rules``) runs on a whole-frame batch;
every failed rule becomes a ``Failure`` with sample rows, and every offending row is rejected
with the first rule it broke (the result types are in ``pipelines.checks.results``). Only
``pipelines/`` talks to Great Expectations.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import TABLES, Table
from pipelines.checks.results import (
    Failure,
    TableResult,
    ValidationReport,
    jsonable,
    no_cells,
    rejected_rows,
)
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

log = logging.getLogger("pipelines")


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
        jsonable(values),
        jsonable(samples),
        None,
        tuple(positions),
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
    _escape_stored_results(report.context.validation_results_store)
    report.context.add_data_docs_site(DOCS_SITE, site)
    report.context.build_data_docs(site_names=[DOCS_SITE])
    return Path(directory) / "index.html"


def _escape_stored_results(store: Any) -> None:
    """HTML-escape every value the stored results quote, before GX renders them.

    GX writes the offending values of a rule (cells, unknown column names) into the pages as
    they are: a cell ``<img src=x onerror=...>`` would run in whoever opens the Data Docs.
    """
    for key in store.list_keys():
        suite_result = store.get(key)
        for result in suite_result.results:
            result.result = _escaped(result.result)
        store.set(key, suite_result)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value
