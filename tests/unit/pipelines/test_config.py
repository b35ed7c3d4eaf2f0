from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.io.files import StageError
from pipelines.runtime.config import Config, load_config

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, params: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_the_shipped_params_file_loads():
    cfg = load_config(ROOT / "configs/params.yaml")
    assert cfg.ingest.source == "synthetic"
    assert cfg.split.embargo_months >= cfg.features.horizon_months
    assert cfg.register_.model_name == "trade-credit-pd"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"train": {"num_leavs": 7}}, "train.num_leavs: Extra inputs are not permitted"),
        ({"split": {"embargo_months": 6}}, "embargo_months .6. must be at least"),
        ({"split": {"train_gap_months": -1}}, "split.train_gap_months"),
        ({"train": {"screen_kinds": ["levels"]}}, "train.screen_kinds"),
        ({"ingest": {"source": "folder"}}, "ingest.path is not set"),
        ({"ingest": {"source": "ftp"}}, "ingest.source"),
        ({"train": {"learning_rate": 0}}, "train.learning_rate"),
        ({"dask": {"scheduler": "tcp://10.0.0.5:8786"}}, "is not encrypted"),
        ({"dask": {"scheduler": "tls://10.0.0.5:8786"}}, "is TLS: set tls_ca_file"),
        ({"dask": {"tls_cert": "c.pem"}}, "give all of tls_ca_file, tls_cert and tls_key"),
    ],
)
def test_bad_params_fail_with_the_key_named(tmp_path, params, message):
    with pytest.raises(StageError, match=message):
        load_config(write(tmp_path, params))


def test_missing_file_is_a_stage_error(tmp_path):
    with pytest.raises(StageError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_config_is_frozen():
    cfg = Config()
    with pytest.raises(ValueError):
        cfg.train.seed = 1  # type: ignore[misc]


def test_the_searchable_settings_are_the_recipe_s_booster_settings():
    # config.py stays free of the modelling imports (every stage loads it), so the list is
    # written twice: once as the params' schema, once in the order lgb_params takes it
    from typing import get_args

    from models.recipe import LGB_SETTINGS
    from pipelines.runtime.config import TUNABLE

    assert get_args(TUNABLE) == tuple(k for k in LGB_SETTINGS if k != "seed")


@pytest.mark.parametrize(
    "dask",
    [
        {"scheduler": "tcp://127.0.0.1:8786"},  # this machine
        {"scheduler": "tcp://localhost:8786"},
        {"scheduler": "tcp://10.0.0.5:8786", "allow_unencrypted": True},  # a trusted network
        {"scheduler": "tls://10.0.0.5:8786", "tls_ca_file": "ca.pem", "tls_cert": "c.pem",
         "tls_key": "k.pem"},
    ],
)  # fmt: skip
def test_a_scheduler_is_reached_over_tls_or_knowingly_not(tmp_path, dask):
    assert load_config(write(tmp_path, {"dask": dask})).dask.scheduler == dask["scheduler"]
