import re

import numpy as np
import pandas as pd
import pytest

from features.timeline import month_end
from models.split import (
    WINDOWS,
    WindowBounds,
    assign_windows,
    single_as_of,
    split_by_customer,
    split_by_time,
    window_bounds,
)

BASE = 2020 * 12  # month index of January 2020


def test_window_bounds_arithmetic():
    # months 0..47, test 6, calibration 6, embargo 12: test 42..47; calibration ends
    # 42 - 12 = 30, so 25..30; 11 months left out: training ends 25 - 1 - 11 = 13
    got = window_bounds(np.arange(BASE, BASE + 48), 6, 6, 12, 11)
    assert got == WindowBounds(
        train=(BASE, BASE + 13), calibration=(BASE + 25, BASE + 30), test=(BASE + 42, BASE + 47)
    )
    assert got.as_dict() == {
        "train": (BASE, BASE + 13),
        "calibration": (BASE + 25, BASE + 30),
        "test": (BASE + 42, BASE + 47),
    }


@pytest.mark.parametrize("gap", [0, 1, 11])
def test_the_training_window_ends_gap_months_before_calibration(gap):
    got = window_bounds(np.arange(BASE, BASE + 48), 6, 6, 12, gap)
    assert got.calibration == (BASE + 25, BASE + 30)
    assert got.train == (BASE, BASE + 24 - gap)


def test_window_bounds_ignores_order_and_duplicates():
    months = np.array([BASE + 47, BASE, BASE + 3, BASE + 3, *range(BASE, BASE + 48)])
    expected = window_bounds(np.arange(BASE, BASE + 48), 6, 6, 12, 0)
    assert window_bounds(months, 6, 6, 12, 0) == expected


@pytest.mark.parametrize("gap", [0, 2])
@pytest.mark.parametrize("embargo", [1, 3])
def test_small_embargo(embargo, gap):
    got = window_bounds(np.arange(10), 2, 3, embargo, gap)
    assert got.test == (8, 9)
    assert got.calibration == (8 - embargo - 2, 8 - embargo)
    assert got.train == (0, 8 - embargo - 2 - 1 - gap)


@pytest.mark.parametrize(("embargo", "gap"), [(0, 0), (12, -1)])
def test_windows_may_not_overlap(embargo, gap):
    with pytest.raises(ValueError, match="embargo_months must be at least 1"):
        window_bounds(np.arange(60), 6, 6, embargo, gap)


def snapshot_grid(n_months: int, horizon: int) -> pd.DataFrame:
    """Two customers over ``n_months`` month ends, labels missing for the last ``horizon``."""
    months = np.tile(np.arange(BASE, BASE + n_months), 2)
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(["A", "B"], n_months),
            "month": months,
            "as_of_date": month_end(months),
            "label": np.tile(np.arange(n_months) % 2, 2).astype(float),
        }
    )
    frame.loc[frame["month"] >= BASE + n_months - horizon, "label"] = np.nan
    return frame


@pytest.mark.parametrize(
    ("horizon", "test_months", "calibration_months"), [(3, 3, 3), (6, 6, 4), (12, 6, 6)]
)
def test_the_embargo_keeps_label_windows_out_of_later_windows(
    horizon, test_months, calibration_months
):
    snapshots = snapshot_grid(60, horizon)
    split, bounds = split_by_time(
        snapshots, test_months, calibration_months, embargo_months=horizon,
        train_gap_months=horizon - 1,
    )  # fmt: skip
    first_as_of = {
        w: split.loc[split["window"] == w, "as_of_date"].min() for w in ("calibration", "test")
    }
    later = {"train": ["calibration", "test"], "calibration": ["test"]}
    for window, after in later.items():
        rows = split[split["window"] == window]
        assert len(rows) > 0
        label_end = month_end(rows["month"].to_numpy() + horizon)  # end of (t, t + H]
        for other in after:
            assert (label_end <= first_as_of[other]).all(), (window, other)
    # the embargo is as short as allowed: the last calibration label window ends exactly there
    last_cal = split.loc[split["window"] == "calibration", "month"].max()
    assert month_end(last_cal + horizon)[0] == first_as_of["test"]
    assert bounds.test[1] == BASE + 60 - horizon - 1


@pytest.mark.parametrize("gap", [0, 1, 5])
@pytest.mark.parametrize(
    ("horizon", "test_months", "calibration_months"), [(3, 3, 3), (6, 6, 4), (12, 6, 6)]
)
def test_no_training_or_calibration_label_reaches_past_the_first_test_date(
    horizon, test_months, calibration_months, gap
):
    """The test figures are honest with any gap before calibration, none included."""
    snapshots = snapshot_grid(60, horizon)
    split, bounds = split_by_time(
        snapshots, test_months, calibration_months, embargo_months=horizon, train_gap_months=gap
    )
    first_test = split.loc[split["window"] == "test", "as_of_date"].min()
    assert first_test == month_end(bounds.test[0])[0]
    for window in ("train", "calibration"):
        months = split.loc[split["window"] == window, "month"].to_numpy()
        assert len(months) > 0
        label_end = month_end(months + horizon)  # end of (t, t + H]
        assert (label_end <= first_test).all(), window
    # training ends the month before the gap, and the gap is as configured
    assert bounds.calibration[0] - bounds.train[1] - 1 == gap


def test_too_little_history_is_an_error_with_a_clear_message():
    with pytest.raises(ValueError) as err:
        window_bounds(np.arange(BASE, BASE + 20), 6, 6, 12, 0)
    message = str(err.value)
    assert message.startswith("not enough history for an out-of-time split")
    assert "labelled months span 20" in message
    assert "need at least 24 (test 6 + calibration 6 + embargo 12 + train gap 0" in message


@pytest.mark.parametrize(
    ("test_months", "calibration_months", "embargo", "gap"),
    [(6, 6, 12, 0), (6, 6, 12, 11), (3, 3, 3, 2)],
)
def test_the_history_the_message_asks_for_is_the_least_that_works(
    test_months, calibration_months, embargo, gap
):
    short = test_months + calibration_months + embargo + gap - 2
    with pytest.raises(ValueError) as err:
        window_bounds(np.arange(short), test_months, calibration_months, embargo, gap)
    need = int(re.search(r"need at least (\d+)", str(err.value)).group(1))
    window_bounds(np.arange(need), test_months, calibration_months, embargo, gap)  # enough
    with pytest.raises(ValueError):
        window_bounds(np.arange(need - 1), test_months, calibration_months, embargo, gap)


@pytest.mark.parametrize(("gap", "need"), [(0, 24), (11, 35)])
def test_the_shortest_history_that_works(gap, need):
    # 6 + 6 + 12 + gap months leave one training month
    assert window_bounds(np.arange(need), 6, 6, 12, gap).train == (0, 0)
    with pytest.raises(ValueError, match=f"labelled months span {need - 1}"):
        window_bounds(np.arange(need - 1), 6, 6, 12, gap)


def test_no_labelled_months_is_an_error():
    with pytest.raises(ValueError, match="no labelled snapshots"):
        window_bounds(np.array([], dtype=int), 3, 3, 3, 0)


def test_assign_windows():
    bounds = WindowBounds(train=(0, 1), calibration=(3, 3), test=(5, 6))
    snapshots = pd.DataFrame(
        {
            "month": [0, 1, 2, 3, 4, 5, 6, 7, 6],
            "label": [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, np.nan, np.nan],
        },
        index=list("abcdefghi"),
    )
    got = assign_windows(snapshots, bounds)
    assert got.name == "window" and list(got.index) == list("abcdefghi")
    assert got.tolist() == [
        "train",
        "train",
        "embargo",
        "calibration",
        "embargo",
        "test",
        "test",
        "unlabeled",
        "unlabeled",  # unlabelled although inside the test window
    ]
    assert set(got) <= set(WINDOWS)


def test_split_by_time_columns_and_unlabelled_rows():
    snapshots = snapshot_grid(30, 3)
    split, bounds = split_by_time(snapshots, 3, 3, 3, 2)
    assert list(split.columns) == ["customer_id", "as_of_date", "month", "window"]
    assert list(split.index) == list(snapshots.index)
    assert (split["window"] == "unlabeled").tolist() == snapshots["label"].isna().tolist()
    counts = split["window"].value_counts()
    # labelled months 0..26: test 24..26, calibration 19..21, train 0..16, embargo 17, 18,
    # 22, 23; two customers each
    assert bounds == WindowBounds(
        train=(BASE, BASE + 16), calibration=(BASE + 19, BASE + 21), test=(BASE + 24, BASE + 26)
    )
    assert counts.to_dict() == {
        "train": 34,
        "embargo": 8,
        "unlabeled": 6,
        "calibration": 6,
        "test": 6,
    }


@pytest.mark.parametrize("name", ["customer_id", "as_of_date", "month", "label"])
def test_split_by_time_requires_columns(name):
    with pytest.raises(KeyError, match=name):
        split_by_time(snapshot_grid(30, 3).drop(columns=name), 3, 3, 3, 0)


def _one_date_snapshots(n_good: int, n_bad: int) -> pd.DataFrame:
    ids = [f"C{i}" for i in range(n_good + n_bad)]
    return pd.DataFrame(
        {
            "customer_id": ids + ["U1"],
            "as_of_date": pd.Timestamp("2005-09-30"),
            "month": 24068,
            "label": [0.0] * n_good + [1.0] * n_bad + [np.nan],
        }
    )


def test_split_by_customer_is_stratified_seeded_and_keeps_customers_whole():
    snaps = _one_date_snapshots(80, 20)
    assert single_as_of(snaps)
    split = split_by_customer(snaps, 0.2, 0.2, seed=1)
    window = split.set_index("customer_id")["window"]
    assert window["U1"] == "unlabeled"
    labels = snaps.set_index("customer_id")["label"]
    for name, n_bad in (("test", 4), ("calibration", 4), ("train", 12)):
        assert (labels[window == name] == 1).sum() == n_bad
    again = split_by_customer(snaps, 0.2, 0.2, seed=1)
    pd.testing.assert_frame_equal(split, again)
    assert not split_by_customer(snaps, 0.2, 0.2, seed=2)["window"].equals(split["window"])


def test_split_by_customer_without_calibration_customers():
    snaps = _one_date_snapshots(80, 20)
    split = split_by_customer(snaps, 0.2, 0.0, seed=1)
    window = split.set_index("customer_id")["window"]
    assert set(window) == {"train", "test", "unlabeled"}  # cross-fitted: no calibration window
    labels = snaps.set_index("customer_id")["label"]
    assert (labels[window == "test"] == 1).sum() == 4
    assert (labels[window == "train"] == 1).sum() == 16


@pytest.mark.parametrize(
    ("test_share", "cal_share"), [(0.0, 0.2), (0.6, 0.5), (1.0, 0.1), (0.2, -0.1)]
)
def test_split_by_customer_rejects_bad_shares(test_share, cal_share):
    with pytest.raises(ValueError, match="must be in"):
        split_by_customer(_one_date_snapshots(5, 5), test_share, cal_share, seed=1)
