"""Late-payment features from the receivables ledger, strictly as known at each snapshot.

At a month end ``t`` an invoice paid after ``t`` is still open, and an invoice past due and
unpaid at ``t`` counts as late by ``t - due_date`` days, however it was settled later. The sums
over invoices are compiled passes over the ledger (``features.ledger_kernel``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.ledger_kernel import (
    HISTORY,
    LATE_THRESHOLDS,
    ON_TIME_WINDOWS,
    WINDOW,
    history_grids,
    open_grids,
)
from features.timeline import Grid, month_end, month_index, nanoseconds, trailing_sum

NS_PER_DAY_INT = 86_400 * 10**9


def _history_features(ledger: dict[str, np.ndarray], ends: np.ndarray, window: Grid) -> dict:
    """Payment history over the invoices due in the last ``ledger_kernel.WINDOW`` months."""
    due_m = ledger["due_m"] - window.first
    # only the invoices due within the window's reach add to it (each cell's sum unchanged)
    use = (ledger["rows"] >= 0) & (due_m > -WINDOW) & (due_m < window.n_months)
    grids = history_grids(
        ledger["rows"][use],
        due_m[use],
        ledger["due"][use],
        ledger["paid"][use],
        ledger["amount"][use],
        ledger["disputed"][use],
        ends,
        window.shape[0],
    )
    g = dict(zip(HISTORY, np.moveaxis(grids, 2, 0), strict=True))

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.divide(num, den, out=np.full(den.shape, np.nan), where=den > 0)

    out = {f"on_time_rate_{w}m": ratio(g[f"on_time_{w}"], g[f"n_{w}"]) for w in ON_TIME_WINDOWS}
    out["days_late_wavg_12m"] = ratio(g["amount_late"], g["amount"])
    out["days_late_wavg_3m"] = ratio(g["amount_late_3"], g["amount_3"])
    out["days_late_max_12m"] = np.where(np.isneginf(g["max_late"]), np.nan, g["max_late"])
    for k in LATE_THRESHOLDS:
        out[f"n_late_{k}_12m"] = g[f"late_{k}"]
    late45 = np.stack([g[f"late45_q{q}"] > 0 for q in range(4)])
    out["consecutive_quarters_late_45"] = np.cumprod(late45, axis=0).sum(axis=0).astype(float)
    out["days_late_trend_3m"] = out["days_late_wavg_3m"] - ratio(
        g["amount_late_36"], g["amount_36"]
    )
    out["dispute_share_12m"] = ratio(g["amount_disputed"], g["amount"])
    return out


def _balance_features(
    ledger: dict[str, np.ndarray],
    ends: np.ndarray,
    credit_limit: pd.Series,
    grid: Grid,
    window: Grid,
) -> dict[str, np.ndarray]:
    """Open balance, overdue share, utilisation and DSO at each month end of ``window``.

    ``window`` is the month ends to give (``ends``); ``grid`` reaches back to the first invoice,
    for the running sums and maxima that start there.
    """
    rows, issue_m, paid_m = ledger["rows"], ledger["issue_m"], ledger["paid_m"]
    last = window.first + window.n_months - 1
    stop = np.where(paid_m < 0, last + 1, paid_m)  # open at month ends issue_m .. paid_m - 1
    use = (rows >= 0) & (stop > window.first) & (issue_m <= last)  # open at a window month end
    open_amt, overdue_amt = open_grids(
        rows[use],
        issue_m[use] - window.first,
        stop[use] - window.first,
        ledger["due"][use],
        ledger["amount"][use],
        ends,
        window.shape[0],
    )
    skip = window.first - grid.first  # the grid's columns before the window's
    # the running sums start at the first invoice: every invoice, so that they add up the same
    issued = grid.total(grid.cell(rows, issue_m), ledger["amount"])
    sales_3m = trailing_sum(issued, 3)[:, skip:]
    limit = credit_limit.reindex(grid.customers).to_numpy()[:, None]
    paid = paid_m >= 0
    paid_day = ledger["paid"][paid] // NS_PER_DAY_INT
    paid_cells = grid.cell(rows[paid], paid_m[paid])
    last_paid = np.fmax.accumulate(grid.maximum(paid_cells, paid_day), axis=1)[:, skip:]
    end_days = (ends // NS_PER_DAY_INT)[None, :]
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
        "days_since_last_payment": np.where(np.isfinite(last_paid), end_days - last_paid, np.nan),
    }


def add_late_payment_features(
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
    return snapshots.assign(**late_payment_columns(snapshots, invoices, customers))


def late_payment_columns(
    snapshots: pd.DataFrame, invoices: pd.DataFrame, customers: pd.DataFrame
) -> dict[str, np.ndarray]:
    """The late-payment features of :func:`add_late_payment_features`, aligned to ``snapshots``."""
    for col in ("customer_id", "month"):
        if col not in snapshots:
            raise KeyError(f"snapshots lack column {col!r}")
    issue_m = month_index(invoices["issue_date"])
    first = min(int(snapshots["month"].min()), int(issue_m.min(initial=10**9)))
    customer_ids, snapshot_months = snapshots["customer_id"].unique(), snapshots["month"]
    grid = Grid(customer_ids, first, int(snapshot_months.max()))
    # the month ends with snapshots: the kernels fill these columns only
    window = Grid(customer_ids, int(snapshot_months.min()), grid.first + grid.n_months - 1)
    limits = customers.set_index("customer_id")["credit_limit"]
    ledger = {  # each invoice's customer and months, looked up once
        "rows": grid.rows(invoices["customer_id"]),
        "issue_m": issue_m,
        "due_m": month_index(invoices["due_date"]),
        "paid_m": month_index(invoices["paid_date"]),
        "due": nanoseconds(invoices["due_date"]),
        "paid": nanoseconds(invoices["paid_date"]),
        "amount": invoices["amount"].to_numpy(dtype=float),
        "disputed": invoices["disputed"].to_numpy().astype(float),
    }
    # each column's month end
    ends = nanoseconds(month_end(np.arange(window.n_months) + window.first))
    feats = _history_features(ledger, ends, window)
    feats |= _balance_features(ledger, ends, limits, grid, window)
    cells = window.position(snapshots["customer_id"], snapshot_months.to_numpy())
    return {name: window.gather(values, cells) for name, values in feats.items()}
