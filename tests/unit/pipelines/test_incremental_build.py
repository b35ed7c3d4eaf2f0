"""Incremental month-end: building only the new month ends gives the full build's table exactly."""

import json
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from features.build import FeatureSettings
from features.incremental import known_at
from pipelines.featurize import STATE, build, build_incrementally
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config
from pipelines.sources.synthetic import generate

SETTINGS = FeatureSettings()
CFG = Config.model_validate({"features": {"block_customers": 40}})  # several blocks


@pytest.fixture(scope="module")
def world():
    tables = generate(n_customers=90, n_months=30, start="2021-01-31", seed=5)
    tables.pop("truth")
    as_of = tables["industry_index"]["month"].max()
    return tables, as_of, as_of - pd.offsets.MonthEnd(1)


@pytest.fixture(scope="module")
def full(world):
    tables, as_of, _ = world
    return build(CFG, tables, as_of, SETTINGS)


def month_end_run(tmp_path, world, now: dict, caplog, cfg=CFG):
    """Last month's build (the data as known then), then this month's; this month's log."""
    tables, as_of, previous = world
    paths = Paths(tmp_path)
    build_incrementally(cfg, paths, known_at(tables, previous, SETTINGS), previous, SETTINGS)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipelines"):
        got = build_incrementally(cfg, paths, now, as_of, SETTINGS)
    return got, caplog.text


def same(got, expected):
    pd.testing.assert_frame_equal(got[0], expected[0], check_exact=True)
    pd.testing.assert_frame_equal(got[1], expected[1], check_exact=True)
    assert got[2] == expected[2]


def test_a_month_later_only_the_new_month_end_is_built_and_the_table_equals_a_full_build(
    tmp_path, world, full, caplog
):
    tables, as_of, previous = world
    got, log = month_end_run(tmp_path, world, tables, caplog)
    assert "incremental build: the data up to" in log
    new_rows = int((full[0]["as_of_date"] == as_of).sum())
    assert f"built {new_rows} rows of the month end(s) after it" in log
    assert (full[0]["as_of_date"] < as_of).sum() > 10 * new_rows  # most rows were reused
    # the earlier rows' labels moved with the new month: reused features, fresh labels
    last_month = known_at(tables, previous, SETTINGS)
    before = build(CFG, last_month, previous, SETTINGS)[0]
    assert before["label"].notna().sum() < got[0]["label"].notna().sum()
    same(got, full)
    state = json.loads((Paths(tmp_path).features_cache / STATE).read_text())
    assert state["last_month_end"] == str(as_of.date())  # the next month extends this one


def test_a_changed_history_is_rebuilt_in_full(tmp_path, world, full, caplog):
    tables, as_of, previous = world
    restated = {name: frame.copy() for name, frame in tables.items()}
    invoices = restated["invoices"]
    old = invoices.index[invoices["issue_date"] < previous - pd.DateOffset(months=6)][0]
    invoices.loc[old, "amount"] *= 2  # an old invoice restated
    got, log = month_end_run(tmp_path, world, restated, caplog)
    assert f"full build: the data as known at {previous.date()} changed" in log
    same(got, build(CFG, restated, as_of, SETTINGS))


def test_changed_settings_or_incremental_off_build_everything(tmp_path, world, full, caplog):
    tables, as_of, previous = world
    off = Config.model_validate({"features": {"block_customers": 40, "incremental": False}})
    got, log = month_end_run(tmp_path, world, tables, caplog, cfg=off)
    assert "full build: features.incremental is false" in log
    same(got, full)
    paths = Paths(tmp_path / "other")
    build_incrementally(CFG, paths, known_at(tables, previous, SETTINGS), previous, SETTINGS)
    longer = FeatureSettings(horizon_months=6)
    with caplog.at_level(logging.INFO, logger="pipelines"):
        got = build_incrementally(CFG, paths, tables, as_of, longer)
    assert "full build: the feature settings changed since the last build" in caplog.text
    same(got, build(CFG, tables, as_of, longer))


def test_the_same_data_again_reuses_every_row(tmp_path, world, full, caplog):
    tables, as_of, _ = world
    paths = Paths(tmp_path)
    build_incrementally(CFG, paths, tables, as_of, SETTINGS)
    with caplog.at_level(logging.INFO, logger="pipelines"):
        got = build_incrementally(CFG, paths, tables, as_of, SETTINGS)
    assert "built 0 rows" in caplog.text
    same(got, full)


def test_month_after_month_appends_a_part_and_a_full_build_replaces_them(tmp_path, world, full):
    tables, as_of, previous = world
    paths = Paths(tmp_path)
    for t in (previous - pd.offsets.MonthEnd(1), previous):  # two months of the data as known
        build_incrementally(CFG, paths, known_at(tables, t, SETTINGS), t, SETTINGS)
    same(build_incrementally(CFG, paths, tables, as_of, SETTINGS), full)
    folder = paths.features_cache
    parts = json.loads((folder / STATE).read_text())["parts"]
    assert len(parts) == 3 and sorted(p.name for p in folder.glob("*.arrow")) == sorted(parts)
    off = Config.model_validate({"features": {"block_customers": 40, "incremental": False}})
    same(build_incrementally(off, paths, tables, as_of, SETTINGS), full)
    parts = json.loads((folder / STATE).read_text())["parts"]
    assert len(parts) == 1 and [p.name for p in folder.glob("*.arrow")] == parts


def test_text_attributes_blank_sectors_and_stale_customers_give_the_full_build(tmp_path, caplog):
    tables = generate(n_customers=60, n_months=30, start="2021-01-31", seed=8)
    tables.pop("truth")
    customers = tables["customers"].copy()
    customers.loc[customers.index[::6], "industry"] = None
    tables["customers"] = customers
    fin = tables["financials"]
    attributes = fin[["customer_id", "available_date", "cash"]].drop_duplicates(
        ["customer_id", "available_date"]
    )
    attributes = attributes.rename(columns={"available_date": "known_date"})
    segment = np.array(["small", None, "large"], dtype=object)[np.arange(len(attributes)) % 3]
    tables["attributes"] = attributes.assign(segment=segment).reset_index(drop=True)
    as_of = tables["industry_index"]["month"].max()
    world = (tables, as_of, as_of - pd.offsets.MonthEnd(1))
    short = replace(SETTINGS, max_fact_age_months=3)  # some customers go stale, some return
    full = build(CFG, tables, as_of, short)
    assert full[0]["attr_segment"].dtype == "str" and full[0]["attr_segment"].isna().any()
    paths = Paths(tmp_path)
    previous = world[2]
    build_incrementally(CFG, paths, known_at(tables, previous, short), previous, short)
    with caplog.at_level(logging.INFO, logger="pipelines"):
        got = build_incrementally(CFG, paths, tables, as_of, short)
    assert "incremental build: the data up to" in caplog.text
    same(got, full)
