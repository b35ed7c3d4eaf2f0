"""The term-structure stage: what it fits on, what it may know, and a book too small to fit."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.io.files import StageError
from pipelines.term_structure import fitting_rows


def _rows(windows: list[tuple[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(windows, columns=["as_of_date", "window"])
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"])
    frame["customer_id"] = [f"C{i}" for i in range(len(frame))]
    return frame


def test_out_of_time_fits_before_the_test_window_knowing_nothing_after_it():
    rows = _rows([
        ("2022-01-31", "train"), ("2022-06-30", "calibration"), ("2023-01-31", "embargo"),
        ("2023-06-30", "embargo"), ("2023-07-31", "test"), ("2023-09-30", "test"),
        ("2024-01-31", "unlabeled"),
    ])  # fmt: skip
    fit, calibration, until = fitting_rows(rows)
    assert until == pd.Timestamp("2023-07-31")  # the test window's first as-of date
    assert (fit["as_of_date"] < until).all()
    assert sorted(fit["window"].unique()) == ["embargo", "train"]
    assert calibration["window"].eq("calibration").all() and len(calibration) == 1


def test_a_split_by_customer_fits_the_training_customers_with_every_default_known():
    rows = _rows([("2023-12-31", "train"), ("2023-12-31", "train"), ("2023-12-31", "test")])
    fit, calibration, until = fitting_rows(rows)
    assert fit["window"].eq("train").all() and len(fit) == 2
    assert calibration.empty
    assert until == pd.Timestamp("2024-12-31")  # the 12-month labels' end


def test_no_training_window_is_an_error():
    with pytest.raises(StageError, match="no training window"):
        fitting_rows(_rows([("2023-12-31", "test")]))
