"""Atomic reads and writes shared by the stages (paths: ``pipelines.io.paths``)."""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from features.contract import INVISIBLE
from pipelines.runtime.watch import stop_with_dvc

log = logging.getLogger("pipelines")


class StageError(RuntimeError):
    """A problem the user must fix; the stage prints it and exits non-zero without a traceback."""


def setup_logging() -> None:
    """Log progress lines to stderr (called from each stage's ``main``)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S"
    )


def _staging_prefix(path: Path) -> str:
    """Prefix of the temporary files and folders writing ``path`` (the writer's pid in it)."""
    return f".{path.name}.{os.getpid()}."


def clear_leftovers(path: Path) -> list[Path]:
    """Remove what earlier writes of ``path`` left when killed: their temporary files/folders.

    Only this module's staging names (``.<name>.<pid>.<random>.tmp``) of writers that are no
    longer running are removed; a write in progress in another process is left alone.

    Returns:
        The removed paths.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^./]+\.tmp")
    removed = []
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        found = pattern.fullmatch(leftover.name)
        if found is None or _running(int(found[1])):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    if removed:
        log.info("removed %d leftover(s) of an interrupted write of %s", len(removed), path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_path(path: Path) -> Any:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Leftovers of earlier killed writes of ``path`` are removed first (:func:`clear_leftovers`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=_staging_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; outputs are for the team to read
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        _name_the_file(err, path)
        raise


@contextmanager
def atomic_folder(path: Path) -> Any:
    """Yield a staging folder beside ``path``; it replaces ``path`` whole only on success.

    Leftovers of earlier killed writes of ``path`` are removed first (:func:`clear_leftovers`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(path)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(path), suffix=".tmp", dir=path.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(staging, 0o777 & ~mask)  # mkdtemp makes 0700
    try:
        yield staging
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        _name_the_file(err, path)
        raise


def check_replaceable(path: Path, marker: str, force: bool = False) -> None:
    """Refuse to let a command replace a folder it did not write.

    ``path`` may be replaced when it does not exist, is an empty folder, holds ``marker`` (the
    file the command leaves in every folder it writes) or ``force`` is set.

    Raises:
        StageError: ``path`` is a file, or a folder with other content and no marker.
    """
    path = Path(path)
    if force or not path.exists():
        return
    if not path.is_dir():
        raise StageError(f"refusing to replace {path}: it is a file, not an output folder")
    if (path / marker).is_file() or not any(path.iterdir()):
        return
    raise StageError(
        f"refusing to replace {path}: it holds files this command did not write (no {marker} "
        "in it); give a new or empty folder, or pass --force to replace it whole"
    )


def _name_the_file(err: BaseException, path: Path) -> None:
    """Turn a failed write (disk full, file too large, read-only, ...) into a one-line error.

    Raises:
        StageError: ``err`` is an ``OSError``; names ``path`` and the cause.
    """
    if isinstance(err, OSError) and not isinstance(err, StageError):
        cause = err.strerror or " ".join(str(err).split()) or type(err).__name__
        kept = "what was there before is kept"
        raise StageError(f"could not write {path}: {cause} ({kept})") from None


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to Parquet atomically."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_feather(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as an uncompressed Arrow file atomically (fast to write and to read)."""
    with atomic_path(path) as tmp:
        frame.to_feather(tmp, compression="uncompressed")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to CSV atomically (Arrow's writer: about 20x faster than pandas)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(path) as tmp:
        pacsv.write_csv(table, tmp)


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_bytes(data: bytes, path: Path) -> None:
    """Write raw bytes atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def file_md5(path: Path) -> str:
    """Return the MD5 hex digest of a file (what DVC records)."""
    return file_digest(path, "md5")


def file_digest(path: Path, algorithm: str) -> str:
    """Return the hex digest of a file by ``hashlib`` ``algorithm``, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a stage input, failing with a clear message when an earlier stage has not run."""
    path = Path(path)
    if not path.is_file():
        raise StageError(f"missing input {path}: run the stage that writes it first (dvc repro)")
    return pd.read_parquet(path)


def read_json(path: Path) -> Any:
    """Read a JSON stage input."""
    path = Path(path)
    if not path.is_file():
        raise StageError(f"missing input {path}: run the stage that writes it first (dvc repro)")
    return json.loads(path.read_text())


def run_stage(main_body: Callable[[], None]) -> None:
    """Run a stage body: log setup, and a one-line error plus exit 1 for a ``StageError``.

    Under ``dvc repro`` the stage stops when the dvc process that runs it dies
    (``pipelines.runtime.watch``); an interrupt ends it with one line and status 130, its
    staged writes discarded.
    """
    setup_logging()
    stop_with_dvc()
    try:
        main_body()
    except StageError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("error: interrupted; the outputs are as they were", file=sys.stderr)
        raise SystemExit(130) from None


# what a spreadsheet may run as a formula: a cell starting with these, after any whitespace
# (spaces, tabs, line breaks, no-break spaces: Excel and LibreOffice skip them) or invisible
# characters; fullwidth forms too, which some spreadsheets read as the ASCII ones
FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would evaluate; numbers are left alone.

    Every CSV written for people goes through this (the scored files, validation rejects).
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_inert)
    return out


def _inert(value: object) -> object:
    if not isinstance(value, str):
        return value
    head = value.lstrip().lstrip(INVISIBLE).lstrip()
    if head.startswith(FORMULA_START) or value[:1] in ("\t", "\r", "\n"):
        return "'" + value
    return value
