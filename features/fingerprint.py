"""Fingerprints of tables: what a later build compares to tell whether the data changed.

:func:`update_digest` feeds a whole frame into a SHA-256 digest (its columns' types, nulls and
values). :func:`row_hashes` gives one 64-bit hash per row instead, over every column, in one
compiled pass: a view of the rows (those known at a date, some cells blanked) is then hashed
from the rows' hashes without copying the frame (the ledger: millions of rows, two views per
month end). A changed cell changes its row's hash but with a chance of 2^-64.
"""

from __future__ import annotations

import hashlib

import numba
import numpy as np
import pandas as pd
import pyarrow as pa

NULL_TEXT = np.uint64(0x5BD1E9955BD1E995)  # the hash of a missing text cell


@numba.njit(cache=True)
def _mix(z):  # pragma: no cover - numba
    """SplitMix64's finaliser: every input bit moves every output bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def _fold_words(h, words, salt):  # pragma: no cover - numba
    for i in range(len(h)):
        h[i] = _mix(h[i] ^ (words[i] + salt))


@numba.njit(cache=True)
def _fold_text(h, start, offsets, data, valid, salt):  # pragma: no cover - numba
    """Fold one Arrow text chunk (offsets, characters, validity per row) into ``h[start:]``."""
    for i in range(len(offsets) - 1):
        s = np.uint64(0xCBF29CE484222325)  # FNV-1a over the characters, then the length
        if valid[i]:
            for k in range(offsets[i], offsets[i + 1]):
                s = (s ^ np.uint64(data[k])) * np.uint64(0x100000001B3)
            s = _mix(s ^ np.uint64(offsets[i + 1] - offsets[i]))
        else:
            s = NULL_TEXT
        h[start + i] = _mix(h[start + i] ^ (s + salt))


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One ``uint64`` per row of ``frame`` over every column, its name and type.

    Numbers, booleans and dates by their bits (a missing date is ``NaT``'s, a missing number
    NaN's), anything else as text (a missing one apart from every text).
    """
    h = np.zeros(len(frame), dtype=np.uint64)
    for name in frame.columns:
        values = frame[name]
        label = hashlib.sha256(f"{name}:{values.dtype}".encode()).digest()[:8]
        salt = np.frombuffer(label, dtype=np.uint64)[0]  # the same values in another column
        words = _words(values)
        if words is not None:
            _fold_words(h, words, salt)
            continue
        start = 0
        for chunk in _text(values).chunks:
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
            offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
            data = chunk.buffers()[2]
            chars = np.zeros(0, np.uint8) if data is None else np.frombuffer(data, dtype=np.uint8)
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            _fold_text(h, start, offsets, chars, valid, salt)
            start += len(chunk)
    return h


def _words(values: pd.Series) -> np.ndarray | None:
    """A numeric, boolean or date column's cells as ``uint64`` bits; ``None`` for others."""
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufmM":
        return None
    if dtype.kind == "M":
        array = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    else:
        array = values.to_numpy()
        array = array.astype(np.float64) if dtype.kind in "bf" else array.astype(np.int64)
        if dtype.kind in "bf":
            array = np.where(np.isnan(array), np.nan, array)  # one NaN, whatever its bits
    return np.ascontiguousarray(array).view(np.uint64)


def _text(values: pd.Series) -> pa.ChunkedArray:
    """The column as Arrow ``large_string`` chunks (missing cells null)."""
    try:
        array = pa.array(values, from_pandas=True)
        if not isinstance(array, pa.ChunkedArray):
            array = pa.chunked_array([array])
        return array.cast(pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        text = values.astype(str).mask(values.isna())
        return pa.chunked_array([pa.array(text, type=pa.large_string(), from_pandas=True)])


def update_digest(digest: hashlib._Hash, frame: pd.DataFrame) -> None:
    """Feed ``frame`` (its columns by name) into ``digest``: names, types, nulls and values."""
    table = pa.Table.from_pandas(frame[sorted(frame.columns)], preserve_index=False)
    for column, values in zip(table.column_names, table.columns, strict=True):
        digest.update(f"{column}:{values.type}:{len(values)}\0".encode())
        for part in _column_bytes(values.combine_chunks()):
            digest.update(part)


def _column_bytes(values: pa.Array) -> list:
    """A column's nulls and values as bytes (strings: their offsets from 0 and characters)."""
    parts = [values.is_null().to_numpy(zero_copy_only=False).tobytes()]
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        width = np.int32 if pa.types.is_string(values.type) else np.int64
        offsets = np.frombuffer(values.buffers()[1], dtype=width)
        offsets = offsets[values.offset : values.offset + len(values) + 1]
        characters = values.buffers()[2]
        text = b"" if characters is None else memoryview(characters)[offsets[0] : offsets[-1]]
        return [*parts, (offsets - offsets[0]).tobytes(), text]
    return [*parts, values.to_numpy(zero_copy_only=False).tobytes()]
