"""The scored books of earlier runs: ``<history>/<as_of>.parquet``, one per month end.

The folder is a persistent DVC output: ``dvc repro`` keeps it when the score stage re-runs, so
that each run can compare with the book of the previous month.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipelines.io.files import StageError, write_parquet

_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.parquet$")


def history_dates(folder: Path) -> list[pd.Timestamp]:
    """Return the month ends with a stored book, oldest first."""
    if not Path(folder).is_dir():
        return []
    found = (_NAME.match(p.name) for p in Path(folder).iterdir())
    return sorted(pd.Timestamp(m.group(1)) for m in found if m)


def book_path(date: pd.Timestamp, folder: Path, version: int | None = None) -> Path:
    """Path of the book of ``date``; with ``version``, that month re-scored by that version.

    A month re-scored for a comparison on one model (the champion changed since it was
    scored) is kept beside the book of record, never in its place.
    """
    suffix = "" if version is None else f".v{version}"
    return Path(folder) / f"{pd.Timestamp(date):%Y-%m-%d}{suffix}.parquet"


def read_book(date: pd.Timestamp, folder: Path, version: int | None = None) -> pd.DataFrame:
    """Read the stored book of ``date`` (``version``: as re-scored by that model version)."""
    path = book_path(date, folder, version)
    if not path.is_file():
        raise StageError(f"no scored book of {pd.Timestamp(date):%Y-%m-%d} in {folder}")
    return pd.read_parquet(path)


def write_book(
    book: pd.DataFrame, date: pd.Timestamp, folder: Path, version: int | None = None
) -> None:
    """Store the book of ``date`` (replacing an earlier one of the same date and version)."""
    write_parquet(book.reset_index(drop=True), book_path(date, folder, version))


def previous_date(as_of: pd.Timestamp, folder: Path) -> pd.Timestamp | None:
    """Return the latest stored month end before ``as_of``, or ``None``."""
    earlier = [d for d in history_dates(folder) if d < as_of]
    return earlier[-1] if earlier else None


def months_to_backfill(
    snapshot_dates: list[pd.Timestamp], as_of: pd.Timestamp, months: int, folder: Path
) -> list[pd.Timestamp]:
    """Return the ``months`` snapshot dates before ``as_of`` that have no stored book.

    Only a history with no book before ``as_of`` is back-filled: once a real previous run is
    stored, the comparison is with it.
    """
    if months <= 0 or previous_date(as_of, folder) is not None:
        return []
    earlier = sorted(d for d in set(snapshot_dates) if d < as_of)
    return earlier[-months:]
