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
    labeled_months: np.ndarray,
    test_months: int,
    calibration_months: int,
    embargo_months: int,
    train_gap_months: int,
) -> WindowBounds:
    """Place the windows from the latest labelled month backwards.

    The test window starts ``embargo_months`` after the last calibration month, so with
    ``embargo_months >= horizon`` the label window ``(t, t + horizon]`` of every calibration
    snapshot, and of every earlier training snapshot, ends by the first test as-of date: no
    label the model or its calibration learnt from uses information from after the test
    window's first as-of date, and the test figures are honest.

    Between training and calibration only ``train_gap_months`` as-of months are left out
    (0: calibration starts the month after training ends). Training labels may then reach into
    the calibration months; that touches only the calibration figures, which are not the
    honest ones, and buys the training window the months an embargo there would throw away.

    Args:
        labeled_months: Month index of every labelled snapshot.
        test_months: As-of months of the test window (the latest labelled ones).
        calibration_months: As-of months of the calibration window.
        embargo_months: The test window starts this many months after the last calibration
            as-of month (at least the label horizon).
        train_gap_months: As-of months left out between training and calibration.
    """
    months = np.unique(labeled_months)
    if len(months) == 0:
        raise ValueError("no labelled snapshots: the data is shorter than the label horizon")
    if embargo_months < 1 or train_gap_months < 0:
        raise ValueError(
            f"embargo_months must be at least 1 and train_gap_months at least 0, got "
            f"{embargo_months} and {train_gap_months}"
        )
    first, last = int(months.min()), int(months.max())
    test = (last - test_months + 1, last)
    cal_end = test[0] - embargo_months
    cal = (cal_end - calibration_months + 1, cal_end)
    train_end = cal[0] - 1 - train_gap_months
    if train_end < first:
        need = test_months + calibration_months + embargo_months + train_gap_months
        raise ValueError(
            "not enough history for an out-of-time split: labelled months span "
            f"{last - first + 1}, need at least {need} (test {test_months} + calibration "
            f"{calibration_months} + embargo {embargo_months} + train gap {train_gap_months}, "
            f"as the test window starts {embargo_months} months after the last calibration "
            f"month and {train_gap_months} months are left out before calibration)"
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
    snapshots: pd.DataFrame,
    test_months: int,
    calibration_months: int,
    embargo_months: int,
    train_gap_months: int,
) -> tuple[pd.DataFrame, WindowBounds]:
    """Return ``(customer_id, as_of_date, month, window)`` for every snapshot, and the bounds.

    The windows are those of :func:`window_bounds`; snapshots between them are ``embargo``.
    """
    labeled = snapshots.loc[snapshots["label"].notna(), "month"].to_numpy()
    bounds = window_bounds(
        labeled, test_months, calibration_months, embargo_months, train_gap_months
    )
    split = snapshots[["customer_id", "as_of_date", "month"]].copy()
    split["window"] = assign_windows(snapshots, bounds)
    return split, bounds


def split_by_customer(
    snapshots: pd.DataFrame, test_share: float, calibration_share: float, seed: int
) -> pd.DataFrame:
    """Assign whole customers to train / calibration / test, stratified by outcome.

    For data observed at a single as-of date there is no time to split on; splitting by
    customer keeps every customer's rows in one window, so no customer is both learnt from and
    tested on. Customers are stratified by whether any of their labelled rows defaults.
    ``calibration_share`` 0: no calibration window (the calibrator is cross-fitted on the
    training customers, :func:`models.recipe.fit_calibrator`).

    Returns:
        ``(customer_id, as_of_date, month, window)`` for every snapshot.
    """
    if not (
        0 < test_share < 1 and 0 <= calibration_share < 1 and test_share + calibration_share < 1
    ):
        raise ValueError(
            f"test_share ({test_share}) must be in (0, 1) and calibration_share "
            f"({calibration_share}) in [0, 1), leaving customers for training"
        )
    labelled = snapshots[snapshots["label"].notna()]
    if labelled.empty:
        raise ValueError("no labelled snapshots to split")
    outcome = labelled.groupby("customer_id")["label"].max().sort_index()
    rng = np.random.default_rng(seed)
    window_of: dict[str, str] = {}
    for _, ids in outcome.groupby(outcome):
        ids = rng.permutation(ids.index.to_numpy())
        n_test = int(round(test_share * len(ids)))
        n_cal = int(round(calibration_share * len(ids)))
        window_of |= dict.fromkeys(ids[:n_test], "test")
        window_of |= dict.fromkeys(ids[n_test : n_test + n_cal], "calibration")
        window_of |= dict.fromkeys(ids[n_test + n_cal :], "train")
    split = snapshots[["customer_id", "as_of_date", "month"]].copy()
    split["window"] = snapshots["customer_id"].map(window_of).fillna("unlabeled").to_numpy()
    split.loc[snapshots["label"].isna().to_numpy(), "window"] = "unlabeled"
    return split


def single_as_of(snapshots: pd.DataFrame) -> bool:
    """Whether all labelled snapshots share one as-of date (then split by customer)."""
    return snapshots.loc[snapshots["label"].notna(), "month"].nunique() <= 1
