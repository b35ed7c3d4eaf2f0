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
