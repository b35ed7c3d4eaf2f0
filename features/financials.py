"""Financial-statement features from the latest statement available at the snapshot date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.timeline import latest_known, month_index


def _ratio(num: pd.Series, den: pd.Series) -> np.ndarray:
    num, den = num.to_numpy(dtype=float), den.to_numpy(dtype=float)
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def available_dates(financials: pd.DataFrame, lag_days: int) -> pd.Series:
    """When each statement became known: ``available_date``, else ``period_end + lag_days``."""
    given = financials.get("available_date", pd.Series(pd.NaT, index=financials.index))
    return given.fillna(financials["period_end"] + pd.Timedelta(days=lag_days))


def statement_ratios(financials: pd.DataFrame, lag_days: int) -> pd.DataFrame:
    """Ratios of each statement, its availability date and the revenue growth against the last one.

    Growth is given only when the previous statement was available no later than this one, so
    it never uses information unknown when this statement became known.
    """
    fin = financials.sort_values(["customer_id", "period_end"]).reset_index(drop=True)
    avail = available_dates(fin, lag_days)
    prev = fin.groupby("customer_id")[["revenue"]].shift(1)
    prev_avail = avail.groupby(fin["customer_id"]).shift(1)
    growth = _ratio(fin["revenue"], prev["revenue"]) - 1
    growth[~(prev_avail <= avail).to_numpy()] = np.nan
    return pd.DataFrame(
        {
            "customer_id": fin["customer_id"],
            "period_end": fin["period_end"],
            "available_date": avail.astype("datetime64[ns]"),
            "debt_ratio": _ratio(fin["total_liabilities"], fin["total_assets"]),
            "current_ratio": _ratio(fin["current_assets"], fin["current_liabilities"]),
            "cash_ratio": _ratio(fin["cash"], fin["current_liabilities"]),
            "ocf_to_liabilities": _ratio(fin["operating_cash_flow"], fin["total_liabilities"]),
            "ebit_margin": _ratio(fin["ebit"], fin["revenue"]),
            "interest_coverage": _ratio(fin["ebit"], fin["interest_expense"]),
            "revenue_growth": growth,
        }
    )


def add_financial_features(
    snapshots: pd.DataFrame, financials: pd.DataFrame, lag_days: int
) -> pd.DataFrame:
    """Return ``snapshots`` with ratios of the latest statement with ``available_date <= t``.

    Args:
        snapshots: ``customer_id`` and ``as_of_date``.
        financials: Statements (contract columns); a missing ``available_date`` is taken as
            ``period_end + lag_days``.
        lag_days: Publication lag assumed where ``available_date`` is missing.
    """
    return snapshots.assign(**financial_columns(snapshots, financials, lag_days))


def financial_columns(
    snapshots: pd.DataFrame, financials: pd.DataFrame, lag_days: int
) -> dict[str, np.ndarray]:
    """The features of :func:`add_financial_features`, aligned to ``snapshots``."""
    ratios = statement_ratios(financials, lag_days)
    # among statements available by t, the latest period wins (a late restatement of an older
    # period must not replace a newer statement)
    ratios = ratios.sort_values(["available_date", "period_end"])
    ratios["latest_period"] = ratios.groupby("customer_id")["period_end"].cummax()
    ratios = ratios[ratios["period_end"] == ratios["latest_period"]].drop(columns="latest_period")
    joined = latest_known(snapshots, ratios, "available_date")
    out = {
        col: joined[col].to_numpy()
        for col in ratios.columns.drop(["customer_id", "period_end", "available_date"])
    }
    age = snapshots["month"].to_numpy() - month_index(joined["period_end"])
    out["financials_age_months"] = np.where(joined["period_end"].isna(), np.nan, age)
    return out
