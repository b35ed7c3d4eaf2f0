"""The registry's sqlite file: checked before use, backed up before writes (issue 18, F9)."""

import sqlite3

import pytest

from pipelines.io.files import StageError
from pipelines.modelstore import registry, store


def make_db(path, rows: int = 2000):
    with sqlite3.connect(path) as con:
        con.execute("create table t (k integer primary key, v text)")
        con.executemany("insert into t values (?, ?)", [(i, "x" * 200) for i in range(rows)])


def damage(path):
    data = bytearray(path.read_bytes())
    data[4096 + 100 : 4096 + 2000] = b"\xff" * 1900  # inside the second page: a b-tree page
    path.write_bytes(bytes(data))


def test_a_backup_is_a_consistent_copy_and_only_the_newest_are_kept(tmp_path, monkeypatch):
    db = tmp_path / "mlflow.db"
    make_db(db)
    monkeypatch.setattr(store, "KEEP", 3)
    written = []
    for _ in range(5):
        store._backed_up.clear()
        written.append(store.backup(db))
    assert store.backups(db) == written[-3:]
    with sqlite3.connect(written[-1]) as con:
        assert con.execute("select count(*) from t").fetchone()[0] == 2000
    assert store.backup(db) is None  # once per process
    assert store.backup(tmp_path / "none.db") is None


def test_a_damaged_registry_stops_with_one_line_naming_the_backup(tmp_path):
    db = tmp_path / "mlflow.db"
    make_db(db)
    kept = store.backup(db)
    damage(db)
    store._checked.clear()
    with pytest.raises(StageError) as err:
        store.check(db)
    message = str(err.value)
    assert "\n" not in message and f"the model registry {db} is damaged" in message
    assert f"restore the newest backup: cp {kept} {db}" in message


def test_a_damaged_registry_without_backups_says_how_to_start_afresh(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"not a database at all" * 300)
    with pytest.raises(StageError, match="no backup in .*delete mlflow.db"):
        store.check(db)


def test_the_registry_checks_before_reading(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"garbage" * 1000)
    with pytest.raises(StageError, match="is damaged"):
        registry.aliases("any", f"sqlite:///{db}")
