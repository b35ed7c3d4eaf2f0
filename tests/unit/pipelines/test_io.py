from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from pipelines.io import files as io


def test_write_parquet_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out" / "t.parquet"
    io.write_parquet(pd.DataFrame({"a": [1, 2]}), path)
    io.write_parquet(pd.DataFrame({"a": [3]}), path)
    assert pd.read_parquet(path)["a"].tolist() == [3]
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.parquet"]


def test_a_crash_while_writing_keeps_the_last_good_file(tmp_path):
    path = tmp_path / "scores.csv"
    io.write_csv(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(RuntimeError), io.atomic_path(path) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("killed")
    assert path.read_text().splitlines() == ['"a"', "1"]
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_missing_stage_input_names_the_file(tmp_path):
    with pytest.raises(io.StageError, match="missing input .*nothing.parquet.*dvc repro"):
        io.read_parquet(tmp_path / "nothing.parquet")


def test_run_stage_turns_a_stage_error_into_exit_1_and_one_line(capsys):
    def body() -> None:
        raise io.StageError("invoices.amount: rule failed")

    with pytest.raises(SystemExit) as exit_info:
        io.run_stage(body)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip() == "error: invoices.amount: rule failed"


@pytest.mark.parametrize(
    ("errno_", "cause"),
    [(28, "No space left on device"), (27, "File too large"), (30, "Read-only file system")],
)
def test_a_failed_write_names_the_file_and_the_cause_in_one_line(tmp_path, capsys, errno_, cause):
    # issue 18, F15: a full disk came out as a traceback without the file name
    import os

    path = tmp_path / "scores.csv"
    io.write_csv(pd.DataFrame({"a": [1]}), path)

    def body():
        with io.atomic_path(path) as tmp:
            tmp.write_text("half")
            raise OSError(errno_, os.strerror(errno_))

    with pytest.raises(SystemExit) as exit_:
        io.run_stage(body)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err == f"error: could not write {path}: {cause} (what was there before is kept)\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]  # no temporary left


def test_a_failed_folder_write_names_the_folder(tmp_path):
    folder = tmp_path / "raw"
    with pytest.raises(io.StageError, match=f"could not write {folder}: No space left"):
        with io.atomic_folder(folder) as staging:
            (staging / "a.parquet").write_text("x")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # finished and reaped: no process has it (until the pid wraps round)


def test_a_write_clears_what_killed_writes_of_the_same_file_left(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    left_file = tmp_path / f".scores.csv.{dead}.k1ll3d00.tmp"
    left_folder = tmp_path / f".raw.{dead}.k1ll3d00.tmp"
    in_progress = tmp_path / f".scores.csv.{alive}.wr1t1ng0.tmp"  # another write, still running
    someone_elses = tmp_path / ".scores.csv.notes.tmp"
    for path in (left_file, in_progress, someone_elses):
        path.write_text("x")
    left_folder.mkdir()
    (left_folder / "customers.parquet").write_text("x")
    io.write_json({"a": 1}, tmp_path / "scores.csv")
    assert not left_file.exists()
    assert in_progress.exists() and someone_elses.exists()
    with io.atomic_folder(tmp_path / "raw") as staging:
        (staging / "customers.parquet").write_text("y")
    assert not left_folder.exists() and (tmp_path / "raw/customers.parquet").read_text() == "y"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == sorted(
        [in_progress.name, someone_elses.name]
    )


def test_an_interrupted_stage_ends_with_one_line_and_status_130(capsys):
    def body() -> None:
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as ended:
        io.run_stage(body)
    assert ended.value.code == 130
    assert capsys.readouterr().err.strip() == "error: interrupted; the outputs are as they were"
