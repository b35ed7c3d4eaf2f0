"""Cash in from the open invoices: the weekly forecast, its back-test and the DSO ahead.

Each open invoice's payment distribution (``cumulative``: P(paid within w weeks of the as-of
date), :meth:`models.payment_timing.PaymentTimingModel.curves`) gives the expected receipts of
each week. A week's variance has two parts: the invoices' own (each paid in one week or not at
all, independently: ``sum amount^2 p (1 - p)``) and a shock common to the book (payments move
together: a week's receipts are the expected times ``1 + e``, ``e`` with variance ``shock``),
``shock`` estimated from the weeks the model has seen (:func:`shock_variance`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from models.hazard import interpolate_terms
from models.payment_distribution import INTERVAL

Z = float(ndtri(0.5 + INTERVAL / 2))  # the normal quantile of the pay date's central interval
DAYS_3M = 91  # the DSO's window of sales, as the dso_days feature's


def week_probabilities(cumulative: np.ndarray, weeks: int) -> np.ndarray:
    """P(paid in week ``w``), ``(n, weeks)``, from the cumulative distribution."""
    if cumulative.shape[1] < weeks:
        raise ValueError(f"the payment distribution covers {cumulative.shape[1]} weeks < {weeks}")
    return np.diff(cumulative[:, :weeks], axis=1, prepend=0.0)


def week_table(as_of: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """Weeks 1..``weeks`` after ``as_of``: ``week``, ``from_date``, ``to_date``."""
    week = np.arange(1, weeks + 1)
    start = pd.Timestamp(as_of) + pd.to_timedelta(7 * (week - 1) + 1, unit="D")
    return pd.DataFrame({"week": week, "from_date": start, "to_date": start + pd.Timedelta(6, "D")})


def cash_forecast(
    rows: pd.DataFrame, cumulative: np.ndarray, weeks: int, shock: float = 0.0
) -> pd.DataFrame:
    """Expected receipts of the book per week with the central 80 % interval.

    Args:
        rows: The open invoices (``as_of_date``, ``amount``), aligned to ``cumulative``.
        cumulative: Each invoice's P(paid within w weeks).
        weeks: Weeks ahead.
        shock: Variance of the common relative shock of a week's receipts (0: independent).

    Returns:
        :func:`week_table` with ``expected``, ``low``, ``high`` and ``cumulative_expected``.
    """
    p = week_probabilities(cumulative, weeks)
    amount = rows["amount"].to_numpy(float)
    expected = amount @ p
    spread = Z * np.sqrt((amount**2) @ (p * (1 - p)) + shock * expected**2)
    table = week_table(_as_of(rows), weeks)
    return table.assign(
        expected=expected, low=np.clip(expected - spread, 0, None), high=expected + spread,
        cumulative_expected=np.cumsum(expected),
    )  # fmt: skip


def customer_forecast(rows: pd.DataFrame, cumulative: np.ndarray, weeks: int) -> pd.DataFrame:
    """Expected receipts per customer and week, largest total first.

    Columns: ``customer_id``, ``open_amount``, ``week_1`` .. ``week_<weeks>``, ``total``, ``low``
    and ``high`` (the total's 80 % interval).
    """
    p = week_probabilities(cumulative, weeks)
    amount = rows["amount"].to_numpy(float)
    frame = pd.DataFrame(p * amount[:, None], columns=[f"week_{w}" for w in range(1, weeks + 1)])
    paid = p.sum(axis=1)
    frame["open_amount"] = amount
    frame["variance"] = amount**2 * paid * (1 - paid)
    frame["customer_id"] = rows["customer_id"].to_numpy()
    out = frame.groupby("customer_id", sort=False).sum()
    out["total"] = out[[f"week_{w}" for w in range(1, weeks + 1)]].sum(axis=1)
    spread = Z * np.sqrt(out.pop("variance"))
    out["low"], out["high"] = (out["total"] - spread).clip(lower=0), out["total"] + spread
    out = out.reset_index().sort_values(["total", "customer_id"], ascending=[False, True])
    first = ["customer_id", "open_amount"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def shock_variance(rows: pd.DataFrame, cumulative: np.ndarray, weeks: int) -> float:
    """The common shock's variance from weeks whose receipts are known (method of moments).

    Over each month end of ``rows`` (with ``paid_date`` known ``weeks`` weeks on) and week:
    the squared error of the expected receipts less the invoices' own variance, over the
    squared expected receipts, pooled: ``sum (r - E)^2 - V`` / ``sum E^2``, at least 0.
    """
    excess = scale = 0.0
    for _, at in rows.groupby("as_of_date").indices.items():
        part = rows.iloc[at]
        p = week_probabilities(cumulative[at], weeks)
        amount = part["amount"].to_numpy(float)
        expected = amount @ p
        error = realised_receipts(part, weeks) - expected
        excess += float((error**2 - (amount**2) @ (p * (1 - p))).sum())
        scale += float((expected**2).sum())
    return max(excess / scale, 0.0) if scale > 0 else 0.0


def receipts_on(rows: pd.DataFrame, dates: pd.Series, weeks: int) -> np.ndarray:
    """Receipts per week of ``rows``' invoices each paid in full on its date (NaT: none)."""
    days = (pd.to_datetime(dates) - pd.to_datetime(rows["as_of_date"])).dt.days.to_numpy()
    week = np.ceil(np.nan_to_num(days, nan=-1) / 7).astype(int)
    inside = (week >= 1) & (week <= weeks)
    return np.bincount(week[inside] - 1, rows["amount"].to_numpy(float)[inside], minlength=weeks)


def realised_receipts(rows: pd.DataFrame, weeks: int) -> np.ndarray:
    """Receipts per week of ``rows``' invoices, from their ``paid_date`` (NaT: none)."""
    return receipts_on(rows, rows["paid_date"], weeks)


def dso_forecast(
    rows: pd.DataFrame, cumulative: np.ndarray, invoices: pd.DataFrame, months: int
) -> pd.DataFrame:
    """Days sales outstanding now and at each of the next ``months`` month ends.

    Receivables ahead = the open invoices' expected unpaid amount then + the new invoicing at
    the last 3 months' run rate still unpaid then (the share of invoices of the last year,
    issued by ``as_of - 180`` days, still unpaid that many days after issue). DSO = receivables
    x 91 / the invoicing of the 91 days before (actual, then planned at the run rate), as the
    ``dso_days`` feature. ``invoices``: the ledger of ``rows``' customers, as known at
    ``as_of`` (issued up to it; payments after it blanked).
    """
    as_of = _as_of(rows)
    issued = invoices[invoices["issue_date"] <= as_of]
    recent = issued[issued["issue_date"] > as_of - pd.Timedelta(DAYS_3M, "D")]
    rate = float(recent["amount"].sum()) / DAYS_3M  # invoicing per day
    unpaid_after = _unpaid_share_by_age(issued, as_of)
    amount = rows["amount"].to_numpy(float)
    out = [{"month_end": as_of, "receivables": float(amount.sum()), "sales_91d": rate * DAYS_3M}]
    for end in pd.date_range(as_of, periods=months + 1, freq="ME")[1:]:
        days = (end - as_of).days
        open_share = 1 - interpolate_terms(cumulative, np.full(len(rows), days / 7))
        new_open = rate * unpaid_after[:days].sum()  # a day's invoicing, each age 0..days-1
        window_start = end - pd.Timedelta(DAYS_3M, "D")
        actual = float(recent.loc[recent["issue_date"] > window_start, "amount"].sum())
        sales = actual + rate * min(days, DAYS_3M)
        out.append({"month_end": end, "receivables": float(amount @ open_share) + new_open,
                    "sales_91d": sales})  # fmt: skip
    table = pd.DataFrame(out)
    table["dso_days"] = (
        table["receivables"] * DAYS_3M / table["sales_91d"].where(table["sales_91d"] > 0)
    )
    return table


def _unpaid_share_by_age(issued: pd.DataFrame, as_of: pd.Timestamp, days: int = 180) -> np.ndarray:
    """Share of the amount still unpaid ``a`` days after issue, ``a = 0..days-1``.

    Over the invoices issued in the year up to ``as_of - days`` (each observed ``days`` days).
    """
    cohort = issued[(issued["issue_date"] <= as_of - pd.Timedelta(days, "D"))
                    & (issued["issue_date"] > as_of - pd.Timedelta(365 + days, "D"))]  # fmt: skip
    if cohort.empty:
        return np.ones(days)
    age = (cohort["paid_date"] - cohort["issue_date"]).dt.days.fillna(days).clip(0, days)
    paid_by = np.bincount(age.to_numpy(int), cohort["amount"].to_numpy(float), minlength=days + 1)
    return 1 - np.cumsum(paid_by)[:days] / cohort["amount"].sum()


def _as_of(rows: pd.DataFrame) -> pd.Timestamp:
    dates = pd.to_datetime(rows["as_of_date"]).unique()
    if len(dates) != 1:
        raise ValueError(f"the rows must share one as-of date, found {len(dates)}")
    return pd.Timestamp(dates[0])
