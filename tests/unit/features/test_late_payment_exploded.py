"""The late-payment features the compiled ledger passes replaced, kept here only as the reference.

This is the exploded implementation (one row per invoice and month end) that the project ran
until the kernels of ``features.ledger_kernel``; the test below requires the kernels' features
to be bit-identical to it on the default synthetic book and on edge cases.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.late_payment import add_late_payment_features
from features.timeline import Grid, month_end, month_index, trailing_sum
from pipelines.runtime.config import load_config
from pipelines.sources.synthetic import generate

WINDOW = 12
LATE_THRESHOLDS = (30, 45, 60, 90)
_EPOCH = pd.Timestamp("1970-01-01")


def _explode_due(invoices: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """One row per (invoice, month end within WINDOW months of its due month)."""
    due_m = month_index(invoices["due_date"])
    age = np.tile(np.arange(WINDOW), len(invoices))
    rows = np.repeat(np.arange(len(invoices)), WINDOW)
    month = due_m[rows] + age
    cells = grid.cell(grid.rows(invoices["customer_id"])[rows], month)  # ids looked up once
    keep = cells >= 0
    rows, month, age, cells = rows[keep], month[keep], age[keep], cells[keep]
    t = month_end(month).to_numpy()
    due = invoices["due_date"].to_numpy()[rows]
    paid = invoices["paid_date"].to_numpy()[rows]
    settled = ~pd.isna(paid) & (paid <= t)
    until = np.where(settled, paid, t)
    days_late = np.maximum(0, (until - due) / np.timedelta64(1, "D"))
    return pd.DataFrame(
        {
            "cell": cells,
            "age": age,
            "amount": invoices["amount"].to_numpy()[rows],
            "disputed": invoices["disputed"].to_numpy()[rows].astype(float),
            "days_late": days_late,
        }
    )


def _history_features(rows: pd.DataFrame, grid: Grid) -> dict[str, np.ndarray]:
    cell, age = rows["cell"].to_numpy(), rows["age"].to_numpy()
    amt, late = rows["amount"].to_numpy(), rows["days_late"].to_numpy()

    def share(num_mask: np.ndarray, within: int) -> np.ndarray:
        den = grid.total(cell[age < within])
        num = grid.total(cell[(age < within) & num_mask])
        return np.divide(num, den, out=np.full(den.shape, np.nan), where=den > 0)

    def wavg(mask: np.ndarray) -> np.ndarray:
        den = grid.total(cell[mask], amt[mask])
        num = grid.total(cell[mask], (amt * late)[mask])
        return np.divide(num, den, out=np.full(den.shape, np.nan), where=den > 0)

    out = {f"on_time_rate_{w}m": share(late == 0, w) for w in (3, 6, 12)}
    everything = np.ones(len(rows), dtype=bool)
    out["days_late_wavg_12m"] = wavg(everything)
    out["days_late_wavg_3m"] = wavg(age < 3)
    out["days_late_max_12m"] = grid.maximum(cell, late)
    for k in LATE_THRESHOLDS:
        out[f"n_late_{k}_12m"] = grid.total(cell[late > k])
    late45 = [grid.total(cell[(late > 45) & (age // 3 == q)]) > 0 for q in range(4)]
    streak = np.cumprod(np.stack(late45), axis=0).sum(axis=0)
    out["consecutive_quarters_late_45"] = streak.astype(float)
    out["days_late_trend_3m"] = wavg(age < 3) - wavg((age >= 3) & (age < 6))
    den = grid.total(cell, amt)
    num = grid.total(cell, amt * rows["disputed"].to_numpy())
    out["dispute_share_12m"] = np.divide(num, den, out=np.full(den.shape, np.nan), where=den > 0)
    return out


def _balance_features(
    invoices: pd.DataFrame, credit_limit: pd.Series, grid: Grid
) -> dict[str, np.ndarray]:
    """Open balance, overdue share, utilisation and DSO at each month end."""
    issue_m = month_index(invoices["issue_date"])
    paid_m = month_index(invoices["paid_date"])
    last = grid.first + grid.n_months - 1
    stop = np.where(paid_m < 0, last + 1, paid_m)  # open at month ends issue_m .. paid_m - 1
    span = np.maximum(stop - issue_m, 0)
    rows = np.repeat(np.arange(len(invoices)), span)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(span) - span, span)
    month = issue_m[rows] + offset
    cells = grid.cell(grid.rows(invoices["customer_id"])[rows], month)
    amount = invoices["amount"].to_numpy()[rows]
    overdue = invoices["due_date"].to_numpy()[rows] < month_end(month).to_numpy()
    open_amt = grid.total(cells, amount)
    overdue_amt = grid.total(cells[overdue], amount[overdue])
    issued = grid.total(grid.position(invoices["customer_id"], issue_m), invoices["amount"])
    sales_3m = trailing_sum(issued, 3)
    limit = credit_limit.reindex(grid.customers).to_numpy()[:, None]
    paid = invoices["paid_date"].notna().to_numpy()
    paid_day = (invoices.loc[paid, "paid_date"] - _EPOCH).dt.days.to_numpy()
    paid_cells = grid.position(invoices.loc[paid, "customer_id"], paid_m[paid])
    last_paid = np.fmax.accumulate(grid.maximum(paid_cells, paid_day), axis=1)
    ends = (month_end(np.arange(grid.n_months) + grid.first) - _EPOCH).days.to_numpy()[None, :]
    return {
        "overdue_share": np.divide(
            overdue_amt, open_amt, out=np.zeros(open_amt.shape), where=open_amt > 0
        ),
        "limit_utilisation": np.divide(
            open_amt, limit, out=np.full(open_amt.shape, np.nan), where=limit > 0
        ),
        "dso_days": np.divide(
            open_amt * 91, sales_3m, out=np.full(open_amt.shape, np.nan), where=sales_3m > 0
        ),
        "days_since_last_payment": np.where(np.isfinite(last_paid), ends - last_paid, np.nan),
    }


def exploded_late_payment_features(
    snapshots: pd.DataFrame, invoices: pd.DataFrame, customers: pd.DataFrame
) -> pd.DataFrame:
    """Return ``snapshots`` with the late-payment feature columns added.

    Args:
        snapshots: ``customer_id`` and ``month`` (month index of the snapshot's month end).
        invoices: The ledger (contract columns).
        customers: The book, for ``credit_limit``.

    Returns:
        A new frame; the input is not modified.
    """
    for col in ("customer_id", "month"):
        if col not in snapshots:
            raise KeyError(f"snapshots lack column {col!r}")
    first = min(
        int(snapshots["month"].min()), int(month_index(invoices["issue_date"]).min(initial=10**9))
    )
    grid = Grid(snapshots["customer_id"].unique(), first, int(snapshots["month"].max()))
    limits = customers.set_index("customer_id")["credit_limit"]
    feats = _history_features(_explode_due(invoices, grid), grid)
    feats |= _balance_features(invoices, limits, grid)
    out = snapshots.copy()
    cells = grid.position(snapshots["customer_id"], snapshots["month"].to_numpy())
    for name, values in feats.items():
        out[name] = grid.gather(values, cells)
    return out


def _snapshots(tables: dict) -> pd.DataFrame:
    months = month_index(tables["industry_index"]["month"].drop_duplicates())
    ids = tables["customers"]["customer_id"]
    return pd.DataFrame(
        {"customer_id": np.repeat(ids.to_numpy(), len(months)), "month": np.tile(months, len(ids))}
    )


def _assert_identical(snaps, invoices, customers) -> None:
    got = add_late_payment_features(snaps, invoices, customers)
    want = exploded_late_payment_features(snaps, invoices, customers)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.slow
def test_the_compiled_passes_equal_the_exploded_features_on_the_default_book():
    syn = load_config(Path(__file__).resolve().parents[3] / "configs/params.yaml").synthetic
    tables = generate(n_customers=syn.n_customers, n_months=syn.n_months, start=syn.start,
                      seed=syn.seed)  # fmt: skip
    _assert_identical(_snapshots(tables), tables["invoices"], tables["customers"])


def test_the_compiled_passes_equal_the_exploded_features_on_awkward_ledgers():
    tables = generate(n_customers=60, n_months=30, start="2022-01-31", seed=3)
    invoices, customers = tables["invoices"].copy(), tables["customers"]
    snaps = _snapshots(tables)
    snaps = snaps[snaps["customer_id"] != customers["customer_id"].iat[0]]  # one not in the grid
    rng = np.random.default_rng(0)
    early = rng.random(len(invoices)) < 0.1  # paid before the due date, some on the issue date
    invoices.loc[early, "paid_date"] = invoices.loc[early, "issue_date"]
    invoices["amount"] = invoices["amount"].round().astype("int64")  # whole amounts as integers
    for col in ("issue_date", "due_date", "paid_date"):  # another resolution than ns
        invoices[col] = invoices[col].astype("datetime64[s]")
    _assert_identical(snaps, invoices, customers)
    _assert_identical(snaps, invoices.iloc[::-1].reset_index(drop=True), customers)
    # the last month ends only (a month end's build): the passes skip the invoices that cannot
    # count there, the running sums still start at the first invoice
    for months in (1, 2, 13):
        recent = snaps[snaps["month"] > snaps["month"].max() - months].reset_index(drop=True)
        _assert_identical(recent, invoices, customers)
