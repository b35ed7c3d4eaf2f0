"""The book in blocks of customers: integer customer codes, the blocks, and their results combined.

A block's per-customer features use only its customers' rows (``features.build``), so the book
can be built a block at a time (or on Dask workers) and the blocks' results put together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.payment_behaviour import payment_rows
from features.timeline import positions

# tables split by customer for a partitioned build; every partition gets the shared ones whole
CUSTOMER_TABLES = (
    "customers", "invoices", "financials", "events", "attributes", "defaults", "payments",
    "payment_plans",
)  # fmt: skip
# the invoice columns the features read; the build leaves the others (invoice ids, currency,
# paid amounts) behind, so that splitting the ledger into blocks does not copy their text. A
# feature that reads another invoice column adds it here.
LEDGER_COLUMNS = ("customer_id", "issue_date", "due_date", "amount", "paid_date", "disputed")
SHARED_TABLES = ("industry_index",)


def customer_codes(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """The tables with every ``customer_id`` as an integer code, assigned once per book.

    A customer's code is its position in the book; ids found only in other tables (validation
    rejects them, but they still give default dates) come after, in order of appearance. The
    feature build then looks customers up as integers, never as text.

    Returns:
        ``(coded, ids)``: the CUSTOMER_TABLES with codes (the others as they are), and the id
        of each code (for :func:`decoded`).
    """
    book = tables["customers"]["customer_id"]
    coded, unknown = dict(tables), [pd.Series([], dtype=book.dtype)]
    codes = {}
    for name in CUSTOMER_TABLES:
        if name in tables:
            codes[name] = positions(tables[name]["customer_id"], book)
            unknown.append(tables[name]["customer_id"][codes[name] < 0])
    others = pd.Series(pd.unique(pd.concat(unknown, ignore_index=True)))
    ids = pd.concat([book, others.astype(book.dtype)], ignore_index=True)
    for name, code in codes.items():
        ids_of = tables[name]["customer_id"]
        if (code < 0).any():  # the ids not in the book: codes after the book's
            code = code.copy()
            code[code < 0] = len(book) + positions(ids_of[code < 0], others)
        table = tables[name]
        if name == "invoices":
            table = table[[c for c in table.columns if c in LEDGER_COLUMNS]]
        if name == "payments":  # each with its invoice's terms, joined on the ids once
            table = payment_rows(table, tables.get("invoices"))
        coded[name] = table.assign(customer_id=code)
    return coded, ids


def decoded(frames: tuple[pd.DataFrame, ...], ids: pd.Series) -> tuple[pd.DataFrame, ...]:
    """:func:`build_customer_features`' frames with each customer's id for its code.

    The defaults (the second frame) are sorted by customer id, as the build on ids gives them.
    """
    out = [
        frame.assign(customer_id=ids.array.take(frame["customer_id"].to_numpy(dtype=np.int64)))
        for frame in frames
    ]
    out[1] = out[1].sort_values("customer_id", kind="stable").reset_index(drop=True)
    return tuple(out)


def partition_tables(
    tables: dict[str, pd.DataFrame], n_partitions: int
) -> list[dict[str, pd.DataFrame]]:
    """Split the customer-keyed tables into blocks of consecutive customers of the book.

    The blocks follow the book's row order, so the partitions' snapshots, concatenated in
    partition order, are in the order of the whole book's build. Rows of customers missing
    from the book (validation rejects them) go to the first partition, where they still give
    default dates, as in the whole build. Every row keeps its relative order.

    Args:
        tables: Canonical contract tables, ``customers`` required; tables other than
            CUSTOMER_TABLES (the shared ``industry_index``) are left out.
        n_partitions: Partitions wanted; a book with fewer customers gets one per customer.

    Returns:
        The partitions, none of them empty (one when the book is), each with the
        CUSTOMER_TABLES present in ``tables``.
    """
    if "customers" not in tables:
        raise ValueError("the customers table is required")
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be at least 1, got {n_partitions}")
    book = pd.Index(tables["customers"]["customer_id"])
    if not book.is_unique:
        raise ValueError("customers.customer_id has duplicates; partitions need a unique key")
    n = max(1, min(n_partitions, len(book)))
    if n == 1:  # the whole book, every row in its place: nothing to copy
        return [{name: tables[name] for name in CUSTOMER_TABLES if name in tables}]
    parts: list[dict[str, pd.DataFrame]] = [{} for _ in range(n)]
    for name in CUSTOMER_TABLES:
        if name not in tables:
            continue
        table = tables[name]
        position = positions(table["customer_id"], book)
        block = np.where(position < 0, 0, position * n // max(len(book), 1))
        order = np.argsort(block, kind="stable")
        bounds = np.searchsorted(block[order], np.arange(n + 1))
        for k in range(n):
            parts[k][name] = table.iloc[order[bounds[k] : bounds[k + 1]]]
    return parts


def combine_partitions(
    results: list[tuple[pd.DataFrame, ...]],
) -> tuple[pd.DataFrame, ...]:
    """Concatenate the outputs of :func:`build_customer_features` on :func:`partition_tables`.

    Args:
        results: ``(snapshots, defaults)`` of each partition (``(snapshots, defaults,
            rows)`` of an incremental build), in partition order.

    Returns:
        What :func:`build_customer_features` gives on the whole book: snapshots (and rows)
        in partition order, defaults sorted by customer. The partitions' frames are emptied,
        a column at a time, as they are combined (so that the blocks and the whole table are
        not held at once).
    """
    if not results:
        raise ValueError("no partitions to combine")
    combined = [_concat([result[k] for result in results]) for k in range(len(results[0]))]
    defaults = combined[1].sort_values("customer_id", kind="stable").reset_index(drop=True)
    return combined[0], defaults, *combined[2:]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under the other, a column at a time, each block's column freed once copied.

    The blocks' results and the combined table are never all held at once (the build's peak).
    """
    # empty frames may lack columns (no snapshot got features) or type them differently
    filled = [frame for frame in frames if len(frame)] or frames[:1]
    names = list(filled[0].columns)
    if len(filled) == 1 or any(list(frame.columns) != names for frame in filled):
        return pd.concat(filled, ignore_index=True)
    columns = {}
    for name in names:
        columns[name] = pd.concat([frame.pop(name) for frame in filled], ignore_index=True)
    return pd.DataFrame(columns, copy=False)
