"""Compiled per-invoice passes over the ledger for the late-payment features.

The features are sums, counts and maxima per (customer, month end) over the invoices due in the
last 12 months and over the invoices open at the month end. Rather than explode every invoice
into one row per month end (12 rows per invoice and one per open month, 63 % of the feature
build on the default book), these kernels walk the invoices once, in the ledger's order, and add
each invoice's contribution to every month end it counts at straight into the (customer, month)
grids. Floating-point sums are added in the same order as ``numpy.bincount`` over the exploded
rows did, so the features are bit-identical to the exploded computation.

Dates are ``int64`` nanoseconds since the epoch (``NaT``: the smallest ``int64``); month ends are
the grid's columns (``ends[j]``: the month end of column ``j``).
"""

from __future__ import annotations

import numba
import numpy as np

WINDOW = 12  # months of invoices due that the payment-history features look at
ON_TIME_WINDOWS = (3, 6, 12)  # months of on-time rates
LATE_THRESHOLDS = (30, 45, 60, 90)
NAT = np.iinfo(np.int64).min
NS_PER_DAY = 86_400e9

# the history grids, in the order of the last axis of :func:`history_grids`' result
HISTORY = (
    "n_3", "n_6", "n_12", "on_time_3", "on_time_6", "on_time_12",  # (invoice, month) counts
    "amount", "amount_late", "amount_3", "amount_late_3", "amount_36", "amount_late_36",
    "late_30", "late_45", "late_60", "late_90", "late45_q0", "late45_q1", "late45_q2",
    "late45_q3", "amount_disputed", "max_late",
)  # fmt: skip


@numba.njit(cache=True)
def history_grids(row, due_month, due, paid, amount, disputed, ends, n_rows):  # pragma: no cover
    """Per (customer, month end) sums over the invoices due in the last :data:`WINDOW` months.

    Args:
        row: Grid row of each invoice's customer (-1: not in the grid).
        due_month: Column of each invoice's due month (may lie outside ``0 .. len(ends) - 1``).
        due: Due date (ns).
        paid: Paid date (ns, ``NaT`` when unpaid).
        amount: Invoice amount.
        disputed: 1.0 when the invoice is disputed, else 0.0.
        ends: Month end (ns) of each grid column.
        n_rows: Grid rows (customers).

    Returns:
        ``(n_rows, len(ends), len(HISTORY))``: each grid of :data:`HISTORY` along the last
        axis (a cell's sums side by side in memory: one invoice's additions to a cell touch
        one cache line, not 22 planes); ``max_late`` is ``-inf`` where no invoice counts.
    """
    n_cols = len(ends)
    out = np.zeros((n_rows, n_cols, len(HISTORY)))
    out[:, :, 21] = -np.inf
    for i in range(len(row)):
        r = row[i]
        if r < 0:
            continue
        for age in range(WINDOW):
            c = due_month[i] + age
            if c < 0 or c >= n_cols:
                continue
            t = ends[c]
            cell = out[r, c]
            until = paid[i] if paid[i] != NAT and paid[i] <= t else t
            late = max(0.0, (until - due[i]) / NS_PER_DAY)
            amt = amount[i]
            for k, within in enumerate(ON_TIME_WINDOWS):
                if age < within:
                    cell[k] += 1.0
                    if late == 0:
                        cell[3 + k] += 1.0
            cell[6] += amt
            cell[7] += amt * late
            if age < 3:
                cell[8] += amt
                cell[9] += amt * late
            elif age < 6:
                cell[10] += amt
                cell[11] += amt * late
            for k, threshold in enumerate(LATE_THRESHOLDS):
                if late > threshold:
                    cell[12 + k] += 1.0
            if late > 45:
                cell[16 + age // 3] += 1.0
            cell[20] += amt * disputed[i]
            cell[21] = max(cell[21], late)
    return out


@numba.njit(cache=True)
def open_grids(row, issue_month, stop_month, due, amount, ends, n_rows):  # pragma: no cover
    """Open and overdue amounts per (customer, month end).

    An invoice is open at the month ends of columns ``issue_month .. stop_month - 1`` and
    overdue at those after its due date.

    Returns:
        ``(2, n_rows, len(ends))``: open amount, overdue amount.
    """
    n_cols = len(ends)
    out = np.zeros((2, n_rows, n_cols))
    for i in range(len(row)):
        r = row[i]
        if r < 0:
            continue
        for c in range(max(issue_month[i], 0), min(stop_month[i], n_cols)):
            out[0, r, c] += amount[i]
            if due[i] < ends[c]:
                out[1, r, c] += amount[i]
    return out
