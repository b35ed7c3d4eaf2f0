"""The features stage's engines: blocks of customers built one by one equal the whole build."""

import logging

import pandas as pd
import pytest

from features.build import FeatureSettings, build_features
from pipelines.featurize import build, build_in_partitions
from pipelines.runtime.config import Config
from pipelines.sources.synthetic import generate


@pytest.fixture(scope="module")
def book():
    tables = generate(n_customers=60, n_months=30, start="2021-01-31", seed=3)
    tables.pop("truth")
    return tables, tables["industry_index"]["month"].max()


@pytest.fixture(scope="module")
def whole(book):
    tables, as_of = book
    return build_features(tables, as_of, FeatureSettings())


def _same(got, expected):
    pd.testing.assert_frame_equal(got[0], expected[0], check_exact=True)
    pd.testing.assert_frame_equal(got[1], expected[1], check_exact=True)
    assert got[2] == expected[2]


@pytest.mark.parametrize("blocks", [2, 7])
def test_blocks_built_one_by_one_equal_the_whole_build(book, whole, blocks):
    tables, as_of = book
    _same(build_in_partitions(tables, as_of, FeatureSettings(), blocks), whole)


def test_the_pandas_engine_builds_in_blocks_of_the_configured_size(book, whole, caplog):
    tables, as_of = book
    cfg = Config.model_validate({"features": {"block_customers": 25}})
    with caplog.at_level(logging.INFO, logger="pipelines"):
        _same(build(cfg, tables, as_of, FeatureSettings()), whole)
    assert "3 block(s) of customers" in caplog.text  # 60 customers, 25 at a time
    assert "feature partitions: 3 of 3 done" in caplog.text
