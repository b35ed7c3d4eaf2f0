"""The registry's sqlite file: an integrity check before use, a backup before each write.

MLflow keeps the registry (versions, aliases, tags) in one sqlite file. A damaged file used to
stop ``score`` and ``promote`` with a long traceback (``database disk image is malformed``) and
there was no copy to go back to. Now every process checks the file once before it uses it
(sqlite's ``quick_check``) and stops with one line that says how to restore it, and every
process that writes to it first takes a consistent copy (sqlite's online backup) into
``mlflow-backups/`` beside it, keeping the newest :data:`KEEP`.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from pipelines.io.files import StageError

BACKUP_DIR = "mlflow-backups"  # beside the database
KEEP = 10  # backups kept; older ones are deleted
_checked: set[Path] = set()
_backed_up: set[Path] = set()


def backups(db: Path) -> list[Path]:
    """The backups of ``db``, oldest first."""
    folder = Path(db).parent / BACKUP_DIR
    return sorted(folder.glob(f"{Path(db).stem}-*.db")) if folder.is_dir() else []


def check(db: Path) -> None:
    """Stop with one line when the sqlite file ``db`` is damaged (once per process and file).

    Raises:
        StageError: sqlite cannot read ``db`` or its quick check finds damage; the message
            names the newest backup and the command that restores it.
    """
    db = Path(db).resolve()
    if db in _checked or not db.exists():
        return
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            verdict = con.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as err:
        verdict = str(err)
    if verdict != "ok":
        found = " ".join(verdict.replace("*** in database main ***", "").split())[:160]
        raise StageError(f"the model registry {db} is damaged ({found}); {_restore_hint(db)}")
    _checked.add(db)


def backup(db: Path) -> Path | None:
    """Copy ``db`` into the backup folder before this process's first write to it.

    Returns:
        The backup written, or ``None`` (no database yet, or already backed up).
    """
    db = Path(db).resolve()
    if db in _backed_up or not db.exists():
        return None
    check(db)
    folder = db.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    dest = folder / f"{db.stem}-{stamp}.db"
    partial = dest.with_suffix(".db.tmp")
    with sqlite3.connect(db) as source, sqlite3.connect(partial) as target:
        source.backup(target)  # consistent even while another process reads
    partial.replace(dest)
    for old in backups(db)[:-KEEP]:
        old.unlink()
    _backed_up.add(db)
    return dest


def _restore_hint(db: Path) -> str:
    kept = backups(db)
    if not kept:
        return (
            f"no backup in {db.parent / BACKUP_DIR}: delete {db.name} and "
            f"{db.parent / 'mlartifacts'} and run dvc repro to register afresh"
        )
    return f"restore the newest backup: cp {kept[-1]} {db} (older ones beside it)"
