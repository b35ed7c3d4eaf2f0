"""The score stage's month-over-month rules replayed on a labelled window (the evaluate stage).

On the test window, whose labels are known: how often the model's grades change month over month
against the true PDs' (synthetic data), the PD and grade alert rules month by month with their
precision, and the share of customers the credit policy tells to reduce their limit
(``models.monitoring_backtest``). The limit needs each month's account position (the ledger)
and the customer's current limit, terms and revenue; it is left out, with why, without them.
"""

from __future__ import annotations

import pandas as pd

from models.master_scale import MasterScale
from models.monitoring_backtest import (
    KEYS,
    alert_precision,
    grade_churn,
    limit_reductions,
    replay_alerts,
    replay_severity,
    summarize_churn,
)
from models.policy import CreditPolicy, apply_policy, held_grade
from pipelines.book.account import ACCOUNT, positions_at, with_account
from pipelines.io.files import read_parquet
from pipelines.io.paths import Paths
from pipelines.io.windows import TRUTH_COLUMN


def account_tables(paths: Paths) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The customer table and the validated ledger, each ``None`` where the data has none."""
    found = (paths.raw_table("customers"), paths.validated_table("invoices"))
    return tuple(read_parquet(p) if p.is_file() else None for p in found)  # type: ignore[return-value]


def monitoring_figures(
    test: pd.DataFrame,
    scale: MasterScale,
    policy: CreditPolicy,
    customers: pd.DataFrame | None,
    invoices: pd.DataFrame | None,
) -> dict:
    """Churn against the truth, the alert back-test and the limit reductions of ``test``.

    Args:
        test: The test window's rows with the model's ``pd_12m`` and the ``label`` (and
            ``true_pd_12m`` on synthetic data).
        scale: The model's master scale.
        policy: The credit policy (alert rules, hysteresis, limits).
        customers: The customer table (current limit, terms, revenue), or ``None``.
        invoices: The validated ledger, or ``None``.

    Returns:
        ``churn``, ``alerts`` (the rules as shipped) and ``alerts_without_hysteresis`` (the
        same rules with ``hysteresis: null``, for comparison) and ``limits``; only
        ``left_out`` (why) when the window has a single month end.
    """
    months = pd.to_datetime(test["as_of_date"]).nunique()
    if months < 2:
        return {"left_out": f"the test window has {months} month end; month over month needs 2"}
    columns = {"model": "pd_12m"} | ({"truth": TRUTH_COLUMN} if TRUTH_COLUMN in test else {})
    plain_rules = policy.alerts.model_copy(update={"hysteresis": None})
    replays = {
        name: replay_alerts(test, scale, rules, policy.high_risk_grade)
        for name, rules in (("alerts", policy.alerts), ("plain", plain_rules))
    }
    out = {
        "churn": summarize_churn(grade_churn(test, scale, columns)),
        "alerts": alert_precision(replays["alerts"]),
        "alerts_without_hysteresis": alert_precision(replays["plain"]),
    }
    hysteresis = policy.alerts.hysteresis
    out["alerts"]["hysteresis_margin"] = None if hysteresis is None else hysteresis.margin
    out["limits"] = limit_figures(test, replays, policy, scale, customers, invoices)
    return out


def limit_figures(
    test: pd.DataFrame,
    replays: dict[str, pd.DataFrame],
    policy: CreditPolicy,
    scale: MasterScale,
    customers: pd.DataFrame | None,
    invoices: pd.DataFrame | None,
) -> dict:
    """Share told to reduce the limit: as shipped, as before, and with the true PDs' grades.

    ``shipped``: the limit follows the better of this month's and last month's grade, the
    deterioration actions the alerts with hysteresis; ``on_month_grade`` (the policy before):
    this month's grade, the alerts without hysteresis; ``truth``: the true PD's grade, no alert.
    Only the replayed (PD and grade) alerts add deterioration actions here.
    """
    lacking = [c for c in [*ACCOUNT, "annual_revenue"] if customers is None or c not in customers]
    if invoices is None or lacking:
        why = "no invoices table" if invoices is None else f"the customers table lacks {lacking}"
        return {"left_out": f"{why}: the recommended limit needs it"}
    customers = customers.assign(customer_id=customers["customer_id"].astype(str))
    shipped, plain = replays["alerts"], replays["plain"]
    months = shipped[[*KEYS, "pd_12m", "grade", "previous_grade"]].assign(
        severity=replay_severity(shipped, policy.alerts).to_numpy(),
        plain_severity=replay_severity(plain, policy.alerts).to_numpy(),
    )
    months = months.merge(test.drop(columns=["pd_12m"]), on=KEYS, how="left", validate="1:1")
    days = policy.alerts.new_overdue.days if policy.alerts.new_overdue else 30
    dates = sorted(pd.to_datetime(test["as_of_date"]).unique())
    told = []
    for date, rows in months.groupby("as_of_date", sort=True):
        rows = rows.reset_index(drop=True)
        before = dates[dates.index(date) - 1]
        positions = positions_at(invoices, rows["customer_id"], date, before, days)
        book = with_account(rows[["customer_id", "pd_12m", "grade"]], rows, customers, positions)
        held = held_grade(rows["grade"], rows["previous_grade"])
        flags = {
            "shipped": _reduce(book, policy, rows["severity"], held),
            "on_month_grade": _reduce(book, policy, rows["plain_severity"]),
        }
        if TRUTH_COLUMN in rows:
            truth = book.assign(grade=scale.assign(rows[TRUTH_COLUMN].to_numpy(float)))
            flags["truth"] = _reduce(truth, policy)
        told.append(rows[KEYS].assign(**flags))
    told_all = pd.concat(told, ignore_index=True)
    return {
        name: limit_reductions(told_all[KEYS].assign(reduce_limit=told_all[name]))
        for name in told_all.columns.drop(KEYS)
    }


def _reduce(
    book: pd.DataFrame,
    policy: CreditPolicy,
    severity: pd.Series | None = None,
    limit_grade: pd.Series | None = None,
) -> pd.Series:
    codes = apply_policy(book, policy, severity, limit_grade=limit_grade)["action_codes"]
    return codes.str.split("; ").map(lambda a: "reduce_limit" in a).astype(bool)
