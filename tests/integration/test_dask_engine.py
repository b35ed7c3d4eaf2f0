"""engine: dask gives exactly what engine: pandas gives, on a 2-worker LocalCluster."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.build import FeatureSettings, build_features
from features.incremental import known_at
from pipelines.batch import score_book
from pipelines.book.rows import score_rows
from pipelines.featurize import STATE, build_features_on_dask, build_incrementally
from pipelines.io.paths import Paths
from pipelines.runtime.cluster import dask_client, map_partitions, n_partitions
from pipelines.runtime.config import Config, DaskConfig
from pipelines.sources.synthetic import generate

SETTINGS = FeatureSettings()
Book = tuple[dict[str, pd.DataFrame], pd.Timestamp]


@pytest.fixture(scope="module")
def client():
    """A client on a LocalCluster of 2 worker processes with 1 thread each."""
    with dask_client(DaskConfig(n_workers=2, threads_per_worker=1)) as client:
        yield client


def book(n_customers: int, n_months: int, seed: int) -> Book:
    """A synthetic book with an attributes table too (so every feature family is built)."""
    tables = generate(n_customers=n_customers, n_months=n_months, start="2021-01-31", seed=seed)
    tables.pop("truth")
    fin = tables["financials"]
    tables["attributes"] = (
        fin[["customer_id", "available_date", "cash", "revenue"]]
        .rename(columns={"available_date": "known_date", "cash": "bureau_cash"})
        .drop_duplicates(["customer_id", "known_date"])
        .reset_index(drop=True)
    )
    return tables, tables["industry_index"]["month"].max()


@pytest.fixture(scope="module")
def world() -> Book:
    return book(300, 36, seed=11)


@pytest.fixture(scope="module")
def small_world() -> Book:
    return book(40, 24, seed=5)


def assert_same(pandas_result: tuple, dask_result: tuple) -> None:
    snaps, defaults, skipped = pandas_result
    assert len(snaps) > 0 and len(defaults) > 0
    pd.testing.assert_frame_equal(dask_result[0], snaps, check_exact=True)
    pd.testing.assert_frame_equal(dask_result[1], defaults, check_exact=True)
    assert dask_result[2] == skipped


@pytest.fixture(scope="module")
def pandas_features(world) -> tuple:
    tables, as_of = world
    return build_features(tables, as_of, SETTINGS)


def test_dask_engine_equals_pandas_engine(client, world, pandas_features):
    tables, as_of = world
    partitions = n_partitions(DaskConfig(), client)
    assert partitions == 8  # 4 per worker
    dask_features = build_features_on_dask(tables, as_of, SETTINGS, client, partitions)
    assert_same(pandas_features, dask_features)


def test_dask_scores_equal_pandas_scores(client, pandas_features, tiny_pyfunc, tmp_path):
    model = tiny_pyfunc["model"]
    snapshots = pandas_features[0]
    assert snapshots["debt_ratio"].isna().any()  # missing values travel too
    here = score_rows(snapshots, model, chunk_rows=1000)
    there = score_rows(snapshots, model, chunk_rows=1000, client=client)
    pd.testing.assert_frame_equal(there, here, check_exact=True)
    # a streamed Parquet book, scored part by part on the workers into partitioned output
    book = tmp_path / "book.parquet"
    table = pa.Table.from_pandas(snapshots, preserve_index=False)
    pq.write_table(table, book, row_group_size=700)
    local = score_book(model, book, tmp_path / "here", chunk_rows=1500)
    remote = score_book(model, book, tmp_path / "there", chunk_rows=1500, client=client)
    assert local["rows"] == remote["rows"] == len(snapshots) and remote["engine"] == "dask"
    parts = sorted(p.name for p in (tmp_path / "here").glob("part-*.parquet"))
    assert len(parts) > 1
    assert parts == sorted(p.name for p in (tmp_path / "there").glob("part-*.parquet"))
    for name in parts:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "there" / name),
            pd.read_parquet(tmp_path / "here" / name),
            check_exact=True,
        )


@pytest.mark.parametrize("partitions", [1, 64])  # one, and more than the 40 customers
def test_any_partition_count_gives_the_same_result(client, small_world, partitions):
    tables, as_of = small_world
    expected = build_features(tables, as_of, SETTINGS)
    assert_same(expected, build_features_on_dask(tables, as_of, SETTINGS, client, partitions))


def test_configured_partitions_win(client):
    assert n_partitions(DaskConfig(partitions=3), client) == 3


def test_map_partitions_keeps_order_and_raises_task_errors(client):
    assert map_partitions(client, int, ["3", "1", "2"]) == [3, 1, 2]
    assert map_partitions(client, int, []) == []
    with pytest.raises(ValueError, match="invalid literal"):
        map_partitions(client, int, ["1", "x"])


def test_an_incremental_month_end_on_dask_equals_the_full_build(world, pandas_features, tmp_path):
    """Last month built here (engine pandas), this month's new month end on the workers."""
    tables, as_of = world
    previous = as_of - pd.offsets.MonthEnd(1)
    paths = Paths(tmp_path)
    build_incrementally(Config(), paths, known_at(tables, previous, SETTINGS), previous, SETTINGS)
    on_dask = Config.model_validate(
        {"engine": "dask", "dask": {"n_workers": 2, "threads_per_worker": 1}}
    )
    got = build_incrementally(on_dask, paths, tables, as_of, SETTINGS)
    assert_same(pandas_features, got)
    assert json.loads((paths.features_cache / STATE).read_text())["last_month_end"] == str(
        as_of.date()
    )
