"""The rows of the persisted split's windows: one loader, keyed once, for every stage."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipelines.io.files import StageError, read_json, read_parquet
from pipelines.io.paths import Paths

KEYS = ["customer_id", "as_of_date"]
TRUTH_COLUMN = "true_pd_12m"


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the key dtypes every stage shares (string ids, ns dates): merges line up."""
    return frame.assign(
        customer_id=frame["customer_id"].astype(str),
        as_of_date=pd.to_datetime(frame["as_of_date"]).astype("datetime64[ns]"),
    )


def window_rows(
    paths: Paths, windows: Sequence[str], truth: bool = False, labelled: bool = True
) -> pd.DataFrame:
    """Snapshot rows of ``windows`` with their ``window`` column, in snapshot order.

    Args:
        paths: Where the snapshots, the split (and the truth) are.
        windows: Window names (``train``, ``calibration``, ``test``).
        truth: Add the synthetic book's true PD (``true_pd_12m``, and ``true_pd_<k>m`` of the
            other horizons where written) where the source wrote one.
        labelled: Require every row of each window to be labelled (the 12-month label);
            ``False``: take the rows as they are (a window may then be empty).

    Raises:
        StageError: The split does not match the snapshots, a window is empty or has
            unlabelled rows (``labelled``), or the truth lacks rows.
    """
    snapshots, split = read_parquet(paths.snapshots), read_parquet(paths.split)
    missing = [c for c in [*KEYS, "window"] if c not in split.columns]
    if missing or len(split) != len(snapshots):
        raise StageError(f"{paths.split} does not match {paths.snapshots}: re-run the split stage")
    chosen = keyed(split.loc[split["window"].isin(windows), [*KEYS, "window"]])
    rows = keyed(snapshots).merge(chosen, on=KEYS, validate="one_to_one")
    if truth and paths.truth.is_file():
        known = keyed(read_parquet(paths.truth))
        known = known[[*KEYS, *(c for c in known.columns if c.startswith("true_pd_"))]]
        rows = rows.merge(known, on=KEYS, how="left", validate="one_to_one")
        if rows[TRUTH_COLUMN].isna().any():
            raise StageError(
                f"{paths.truth} lacks the true PD of {rows[TRUTH_COLUMN].isna().sum()} rows"
            )
    for window in windows if labelled else []:
        labels = rows.loc[rows["window"] == window, "label"]
        if labels.empty or labels.isna().any():
            raise StageError(
                f"the {window} window has {len(labels)} rows, "
                f"{labels.isna().sum()} unlabelled; it needs labelled rows"
            )
    return rows


def cross_fit_folds(paths: Paths) -> int:
    """Folds the calibrator is cross-fitted over (``windows.json``); 0: a calibration window."""
    return int(read_json(paths.windows).get("cross_fit_folds") or 0)


def present_windows(paths: Paths, windows: Sequence[str]) -> list[str]:
    """Those of ``windows`` the persisted split has rows in, in the order given.

    A split by customer with cross-fitted calibration has no calibration window.
    """
    held = set(read_parquet(paths.split)["window"].unique())
    return [w for w in windows if w in held]
