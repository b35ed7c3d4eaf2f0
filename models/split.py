"""Out-of-time split of labelled snapshots into train, calibration and test windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOWS = ("train", "calibration", "test", "embargo", "unlabeled")


@dataclass(frozen=True)
class WindowBounds:
    """First and last snapshot month (month index) of each window."""

    train: tuple[int, int]
    calibration: tuple[int, int]
    test: tuple[int, int]

    def as_dict(self) -> dict[str, tuple[int, int]]:
        """Window name -> (first month, last month)."""
        return {"train": self.train, "calibration": self.calibration, "test": self.test}


def window_bounds(
    labeled_months: np.ndarray, test_months: int, calibration_months: int, embargo_months: int
) -> WindowBounds:
    """Place the windows from the latest labelled month backwards.

    A window ending at month ``e`` is followed by one starting ``embargo_months`` later, so with
    ``embargo_months >= horizon`` the label window ``(t, t + horizon]`` of any earlier snapshot
    ends no later than the first snapshot of the next window: no label uses information from
    after a later window's as-of dates.
    """
    months = np.unique(labeled_months)
    if len(months) == 0:
        raise ValueError("no labelled snapshots: the data is shorter than the label horizon")
    first, last = int(months.min()), int(months.max())
    test = (last - test_months + 1, last)
    cal_end = test[0] - embargo_months
    cal = (cal_end - calibration_months + 1, cal_end)
    train_end = cal[0] - embargo_months
    if train_end < first:
        need = test_months + calibration_months + 2 * embargo_months - 1
        raise ValueError(
            "not enough history for an out-of-time split: labelled months span "
            f"{last - first + 1}, "
            f"need at least {need} (test {test_months} + calibration {calibration_months} + "
            f"2 x embargo {embargo_months} - 1, as each window starts {embargo_months} months "
            "after the last as-of month of the one before)"
        )
    return WindowBounds(train=(first, train_end), calibration=cal, test=test)


def assign_windows(snapshots: pd.DataFrame, bounds: WindowBounds) -> pd.Series:
    """Window name of each snapshot (``unlabeled`` where the label is missing)."""
    month = snapshots["month"].to_numpy()
    window = np.full(len(snapshots), "embargo", dtype=object)
    for name, (lo, hi) in bounds.as_dict().items():
        window[(month >= lo) & (month <= hi)] = name
    window[snapshots["label"].isna().to_numpy()] = "unlabeled"
    return pd.Series(window, index=snapshots.index, name="window")


def split_by_time(
    snapshots: pd.DataFrame, test_months: int, calibration_months: int, embargo_months: int
) -> tuple[pd.DataFrame, WindowBounds]:
    """Return ``(customer_id, as_of_date, month, window)`` for every snapshot, and the bounds."""
    labeled = snapshots.loc[snapshots["label"].notna(), "month"].to_numpy()
    bounds = window_bounds(labeled, test_months, calibration_months, embargo_months)
    split = snapshots[["customer_id", "as_of_date", "month"]].copy()
    split["window"] = assign_windows(snapshots, bounds)
    return split, bounds
