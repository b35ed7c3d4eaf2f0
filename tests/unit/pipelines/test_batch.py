"""Streamed batch scoring of a Parquet book: parts, equality with in-memory scoring, safety."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import batch
from pipelines.book.rows import score_rows
from pipelines.io.files import StageError
from pipelines.io.paths import Paths


def _book(X: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    picked = np.random.default_rng(seed).integers(0, len(X), n)
    rows = X.iloc[picked].reset_index(drop=True)
    return rows.assign(
        customer_id=[f"C{i:05d}" for i in range(n)], as_of_date=pd.Timestamp("2025-12-31")
    )


def _write(frame: pd.DataFrame, path, group: int) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=group)


def _read_parts(folder) -> pd.DataFrame:
    parts = sorted(folder.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_parts_are_runs_of_whole_row_groups(tmp_path, tiny_pyfunc):
    book = _book(tiny_pyfunc["X"], 10)
    _write(book, tmp_path / "a.parquet", group=3)  # row groups 3, 3, 3, 1
    _write(book.head(4), tmp_path / "b.parquet", group=4)
    parts = batch.plan_parts(tmp_path, rows_per_part=5)
    assert [(p.number, p.file.name, p.row_groups, p.rows) for p in parts] == [
        (0, "a.parquet", (0, 1), 6),
        (1, "a.parquet", (2, 3), 4),
        (2, "b.parquet", (0,), 4),
    ]


@pytest.mark.parametrize("chunk_rows", [7, 50, 1000])
def test_streamed_scores_equal_in_memory_scores(tmp_path, tiny_pyfunc, chunk_rows):
    model = tiny_pyfunc["model"]
    book = _book(tiny_pyfunc["X"], 230)
    assert book.isna().any().any()  # rows with missing values are scored too
    _write(book, tmp_path / "book.parquet", group=20)
    summary = batch.score_book(model, tmp_path / "book.parquet", tmp_path / "out", chunk_rows)
    got = _read_parts(tmp_path / "out")
    expected = score_rows(book, model).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert got["customer_id"].tolist() == book["customer_id"].tolist()
    assert summary["rows"] == 230 and summary["engine"] == "pandas"
    assert json.loads((tmp_path / "out/summary.json").read_text())["rows"] == 230


def test_a_failed_run_keeps_the_last_result(tmp_path, tiny_pyfunc):
    model = tiny_pyfunc["model"]
    out = tmp_path / "out"
    good = _book(tiny_pyfunc["X"], 40)
    _write(good, tmp_path / "good.parquet", group=10)
    batch.score_book(model, tmp_path / "good.parquet", out, 15)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad"
    bad.mkdir()
    _write(good, bad / "1.parquet", group=10)
    _write(good.drop(columns="dso_days"), bad / "2.parquet", group=10)
    with pytest.raises(StageError, match=r"2\.parquet lacks the model's feature columns.*dso_days"):
        batch.score_book(model, bad, out, 15)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "good.parquet", "out"]


def test_a_book_without_rows_or_files_is_refused(tmp_path, tiny_pyfunc):
    with pytest.raises(StageError, match="no Parquet book"):
        batch.plan_parts(tmp_path / "nowhere", 10)
    _write(_book(tiny_pyfunc["X"], 0), tmp_path / "empty.parquet", group=10)
    with pytest.raises(StageError, match="has no rows"):
        batch.plan_parts(tmp_path / "empty.parquet", 10)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(StageError, match="junk.parquet: not a readable Parquet file"):
        batch.plan_parts(tmp_path / "junk.parquet", 10)


def test_command_line_scores_with_a_given_model_and_fails_cleanly(
    tmp_path, tiny_pyfunc, command_at, capsys
):
    command_at(batch, Paths(tmp_path))  # MLflow's tracking database goes in tmp_path
    (tmp_path / "params.yaml").write_text("score:\n  chunk_rows: 8\n")
    _write(_book(tiny_pyfunc["X"], 20), tmp_path / "book.parquet", group=8)
    args = ["--config", str(tmp_path / "params.yaml"), "--model", str(tiny_pyfunc["path"])]
    out = tmp_path / "scored"
    batch.main([*args, "--book", str(tmp_path / "book.parquet"), "--out", str(out)])
    assert len(_read_parts(out)) == 20
    assert len(list(out.glob("part-*.parquet"))) == 3
    with pytest.raises(SystemExit) as exit_:
        batch.main([*args, "--book", str(tmp_path / "missing.parquet"), "--out", str(out)])
    assert exit_.value.code == 1
    assert f"{tmp_path / 'missing.parquet'}: no Parquet book there" in capsys.readouterr().err


def test_a_folder_the_command_did_not_write_is_never_replaced(
    tmp_path, tiny_pyfunc, command_at, capsys
):
    # issue 18, F1: --out data/scored (or data) replaced the whole folder, history and all
    command_at(batch, Paths(tmp_path))
    (tmp_path / "params.yaml").write_text("score:\n  chunk_rows: 8\n")
    _write(_book(tiny_pyfunc["X"], 20), tmp_path / "book.parquet", group=8)
    args = ["--config", str(tmp_path / "params.yaml"), "--model", str(tiny_pyfunc["path"])]
    args += ["--book", str(tmp_path / "book.parquet")]
    theirs = tmp_path / "scored"
    (theirs / "history").mkdir(parents=True)
    (theirs / "history" / "2025-11-30.parquet").write_bytes(b"a month of history")
    with pytest.raises(SystemExit) as exit_:
        batch.main([*args, "--out", str(theirs)])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert f"refusing to replace {theirs}: it holds files this command did not write" in err
    assert (theirs / "history" / "2025-11-30.parquet").read_bytes() == b"a month of history"
    with pytest.raises(SystemExit):
        batch.main([*args, "--out", str(tmp_path / "book.parquet")])  # a file
    assert "it is a file" in capsys.readouterr().err
    # a new folder, then the same folder again (it carries the marker), then --force
    ours = tmp_path / "batch"
    batch.main([*args, "--out", str(ours)])
    assert (ours / ".batch-output").is_file()
    batch.main([*args, "--out", str(ours)])
    assert len(_read_parts(ours)) == 20
    batch.main([*args, "--out", str(theirs), "--force"])
    assert not (theirs / "history").exists() and len(_read_parts(theirs)) == 20


def test_a_row_the_model_refuses_stops_scoring_with_one_line_naming_it(tmp_path, tiny_pyfunc):
    book = _book(tiny_pyfunc["X"], 30)
    column = book.columns[0]
    book.loc[25, column] = np.inf
    with pytest.raises(StageError) as err:
        score_rows(book, tiny_pyfunc["model"], chunk_rows=10)
    message = str(err.value)
    assert "\n" not in message and repr(column) in message and "row 5" in message, message
    assert "row 20" in message  # the chunk's first row in the book
