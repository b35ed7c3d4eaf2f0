"""The served model's request contract, checked before MLflow parses a request.

MLflow's scoring server is lenient where a credit decision must not be: it pads a row shorter
than its column list with nulls, turns ``true`` into 1.0, reads ``NaN``/``Infinity`` literals
and answers 500 to JSON nested deeper than Python parses. :func:`check_body` refuses all of
that with a message naming the row and the column; the ranges of the values themselves are the
model's to judge (``models.pd_model.PDModel.feature_frame``), so batch and HTTP refuse the same.

The accepted body is JSON with exactly one of ``dataframe_split`` (``columns`` and ``data``,
optionally ``index``) and ``dataframe_records``, and optionally ``params`` (string values).
Every required column (a model feature) must be in every row; optional columns are the sector
medians; a value is a number or ``null`` (a missing value), text for a categorical attribute.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from typing import Any

FORMATS = ("dataframe_split", "dataframe_records")
SHOWN = 5  # names listed in a message, at most


class BadRequest(ValueError):
    """A request the served model refuses: the message says what to send instead."""


def check_body(
    body: bytes, required: Sequence[str], optional: Sequence[str], text: Collection[str] = ()
) -> None:
    """Refuse a request body that breaks the contract (module docstring).

    Args:
        body: The raw request body.
        required: Columns every row must carry (the model's features).
        optional: Columns a row may carry (the sector medians).
        text: Columns whose values are text, not numbers (categorical attributes).

    Raises:
        BadRequest: What is wrong, naming the row (0-based) and column.
    """
    request = _parse(body)
    if not isinstance(request, dict):
        raise BadRequest(f"the body must be a JSON object with one of {list(FORMATS)}")
    formats = [key for key in request if key in FORMATS]
    unknown = [key for key in request if key not in (*FORMATS, "params")]
    if len(formats) != 1 or unknown:
        raise BadRequest(
            f"the body must hold exactly one of {list(FORMATS)} and optionally 'params'; "
            f"found keys {_names(list(request))}"
        )
    _check_params(request.get("params"))
    known = set(required) | set(optional)
    if formats[0] == "dataframe_split":
        _check_split(request["dataframe_split"], required, known, set(text))
    else:
        _check_records(request["dataframe_records"], required, known, set(text))


def _parse(body: bytes) -> Any:
    def no_constant(name: str) -> None:
        raise BadRequest(f"{name} is not a JSON number: send null for a missing value")

    try:
        return json.loads(body, parse_constant=no_constant)
    except RecursionError:
        raise BadRequest("the body is nested too deeply to be a scoring request") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadRequest(f"the body is not valid UTF-8 JSON: {err}") from None


def _check_params(params: Any) -> None:
    if params is None:
        return
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise BadRequest('params must be an object of strings, e.g. {"language": "en"}')


def _check_split(split: Any, required: Sequence[str], known: set[str], text: set[str]) -> None:
    if not isinstance(split, dict) or set(split) - {"columns", "data", "index"}:
        raise BadRequest("dataframe_split must be an object with 'columns' and 'data'")
    columns, data = split.get("columns"), split.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise BadRequest("dataframe_split.columns must be a list of column names")
    _check_columns(columns, required, known, "dataframe_split.columns")
    rows = _rows(data, "dataframe_split.data")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            found = len(row) if isinstance(row, list) else type(row).__name__
            raise BadRequest(
                f"row {i} has {found} values for {len(columns)} columns: every row gives every "
                "column, null for a missing value"
            )
        for column, value in zip(columns, row, strict=True):
            _check_value(value, i, column, column in text)


def _check_records(records: Any, required: Sequence[str], known: set[str], text: set[str]) -> None:
    rows = _rows(records, "dataframe_records")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadRequest(f"row {i} of dataframe_records must be an object of column: value")
        _check_columns(list(row), required, known, f"row {i}")
        for column, value in row.items():
            _check_value(value, i, column, column in text)


def _rows(rows: Any, where: str) -> list:
    if not isinstance(rows, list) or not rows:
        raise BadRequest(f"{where} must be a non-empty list of rows")
    return rows


def _check_columns(columns: list[str], required: Sequence[str], known: set[str], where: str):
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise BadRequest(f"{where} repeats columns {_names(dupes)}")
    absent = [c for c in required if c not in columns]
    if absent:
        raise BadRequest(
            f"{where} lacks required columns {_names(absent)} (null for a missing value)"
        )
    foreign = [c for c in columns if c not in known]
    if foreign:
        raise BadRequest(
            f"{where} has unknown columns {_names(foreign)}: the model takes its features and "
            "their median__<feature> sector medians"
        )


def _check_value(value: Any, row: int, column: str, text: bool = False) -> None:
    if value is None:
        return
    if text:
        if not isinstance(value, str):
            raise BadRequest(
                f"row {row}, column {column!r}: {json.dumps(value)[:40]} is not text: the "
                "attribute is categorical (null for a missing value)"
            )
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(
            f"row {row}, column {column!r}: {json.dumps(value)[:40]} is not a number "
            "(null for a missing value)"
        )
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # an integer beyond a float's range
        finite = False
    if not finite:
        raise BadRequest(f"row {row}, column {column!r}: the number is too large")


def _names(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"{names[:SHOWN]}{more}"
