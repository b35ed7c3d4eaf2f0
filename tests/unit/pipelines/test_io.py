from __future__ import annotations

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
