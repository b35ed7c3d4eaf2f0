"""Portfolio figures for the risk team's report, from scored books (see ``models.monitoring``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.exposure import months_before
from models.monitoring import IN_DEFAULT, SCORED, SEVERITIES

ALL = "All"
TREND_COLUMNS = ["exposure", "expected_loss", "mean_pd", "high_risk_share", "alerts"]


def book_totals(book: pd.DataFrame) -> dict[str, float]:
    """Exposure and expected loss of the performing (scored) and the defaulted customers.

    A customer in default stays in the book's exposure, in recovery: ``exposure`` and
    ``expected_loss`` are the totals of both (a book without positions for its defaulted
    customers, as stored before they had any, counts them as 0).
    """
    scored, defaulted = _scored(book), book[book["status"] == IN_DEFAULT]
    out = {}
    for column in ("exposure", "expected_loss"):
        performing = float(scored[column].sum())
        in_default = float(defaulted[column].sum()) if column in defaulted else 0.0
        out[f"performing_{column}"] = performing
        out[f"defaulted_{column}"] = in_default
        out[column] = performing + in_default
    return out


def headline(book: pd.DataFrame, high_risk_grade: int) -> dict[str, float]:
    """Customers, exposure and expected loss (performing, defaulted, total), high-risk share.

    ``loss_rate`` is the total expected loss over the total exposure; the high-risk exposure
    share is of the performing exposure.
    """
    scored = _scored(book)
    risky = scored["grade"] >= high_risk_grade
    totals = book_totals(book)
    exposure, performing = totals["exposure"], totals["performing_exposure"]
    return {
        "customers": len(scored),
        "not_scored": int((book["status"] != SCORED).sum()),
        "in_default": int((book["status"] == IN_DEFAULT).sum()),
        **totals,
        "loss_rate": totals["expected_loss"] / exposure if exposure > 0 else np.nan,
        "mean_pd": float(scored["pd_12m"].mean()) if len(scored) else np.nan,
        "high_risk_share": float(risky.mean()) if len(scored) else np.nan,
        "high_risk_exposure_share": (
            float(scored.loc[risky, "exposure"].sum()) / performing if performing > 0 else np.nan
        ),
    }


def grade_distribution(
    current: pd.DataFrame, previous: pd.DataFrame | None, grades: list[int]
) -> pd.DataFrame:
    """Customers and shares per grade now and in ``previous``, and exposure now."""
    now = _scored(current)
    out = pd.DataFrame(index=pd.Index(grades, name="grade"))
    out["count"] = now["grade"].astype(int).value_counts().reindex(grades, fill_value=0)
    out["share"] = out["count"] / max(len(now), 1)
    out["exposure"] = now.groupby(now["grade"].astype(int))["exposure"].sum()
    out["exposure"] = out["exposure"].reindex(grades).fillna(0.0)
    if previous is None:
        out["previous_count"], out["previous_share"] = np.nan, np.nan
    else:
        before = _scored(previous)
        counts = before["grade"].astype(int).value_counts().reindex(grades, fill_value=0)
        out["previous_count"] = counts
        out["previous_share"] = counts / max(len(before), 1)
    return out


def migration_matrix(
    previous: pd.DataFrame, current: pd.DataFrame, grades: list[int]
) -> pd.DataFrame:
    """Count customers by previous grade (rows) and current grade (columns).

    Rows are the grades plus ``new`` (scored now, not before); columns the grades plus
    ``default`` (in default now) and ``exited`` (scored before; neither scored nor in default
    now).
    """
    was = _scored(previous).set_index("customer_id")["grade"].astype(int)
    book = current.set_index("customer_id")
    now = book.loc[book["status"] == SCORED, "grade"].astype(int)
    to = pd.Series("exited", index=was.index, dtype=object)
    to[was.index.isin(book.index[book["status"] == IN_DEFAULT])] = "default"
    stayed = was.index.intersection(now.index)
    to[stayed] = now[stayed].astype(object)
    arrived = now.drop(stayed)
    pairs = pd.concat(
        [
            pd.DataFrame({"from": was.astype(object), "to": to}),
            pd.DataFrame({"from": "new", "to": arrived.astype(object)}),
        ]
    )
    counts = pd.crosstab(pairs["from"], pairs["to"]) if len(pairs) else pd.DataFrame()
    return counts.reindex(
        index=[*grades, "new"], columns=[*grades, "default", "exited"], fill_value=0
    ).astype(int)


def loss_by(book: pd.DataFrame, by: str) -> pd.DataFrame:
    """Exposure, its share of the book, expected loss, loss rate and mean PD per ``by``.

    Exposure and expected loss count the performing and the defaulted customers, as the
    headline's totals do (the groups add up to them); ``defaulted_exposure`` is the part in
    default, ``customers`` and ``mean_pd`` are of the scored customers. Largest loss first.
    """
    scored = _scored(book)
    held = book[(book["status"] == SCORED) | (book["status"] == IN_DEFAULT)]
    grouped = held.groupby(by)
    in_default = held["exposure"].where(held["status"] == IN_DEFAULT, 0.0)
    out = pd.DataFrame(
        {
            "customers": scored.groupby(by).size(),
            "exposure": grouped["exposure"].sum(),
            "defaulted_exposure": in_default.groupby(held[by]).sum(),
            "expected_loss": grouped["expected_loss"].sum(),
            "mean_pd": scored.groupby(by)["pd_12m"].mean(),
        }
    )
    out["customers"] = out["customers"].fillna(0).astype(int)
    total = float(out["exposure"].sum())
    out["share"] = out["exposure"] / total if total > 0 else np.nan
    out["loss_rate"] = out["expected_loss"] / out["exposure"].where(out["exposure"] > 0)
    return out.sort_values(["expected_loss", "exposure"], ascending=False, kind="stable")


def top_exposures(book: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` largest exposures, scored or in default, with their share of the book's.

    ``share`` is of the total exposure (performing and in default, as the headline's);
    ``cumulative_share`` adds the shares down the list.
    """
    _scored(book)
    held = book[book["status"].isin([SCORED, IN_DEFAULT]) & (book["exposure"] > 0)]
    total = float(held["exposure"].sum())
    top = held.sort_values(["exposure", "customer_id"], ascending=[False, True], kind="stable")
    top = top.head(n).assign(share=lambda t: t["exposure"] / total if total > 0 else np.nan)
    return top.assign(cumulative_share=top["share"].cumsum())


def concentration(book: pd.DataFrame, top: tuple[int, ...] = (10, 20)) -> dict[str, float]:
    """How concentrated the book's exposure is on its customers.

    Returns the number of customers with exposure, the share of the ``top`` largest
    (``top_10_share``, ...), the Herfindahl-Hirschman index of the customers' shares (``hhi``,
    1 = one customer holds it all) and its inverse, the number of equal customers that would
    be as concentrated (``equivalent_customers``).
    """
    _scored(book)
    held = book[book["status"].isin([SCORED, IN_DEFAULT]) & (book["exposure"] > 0)]
    amounts = np.sort(held["exposure"].to_numpy(dtype=float))[::-1]
    total = float(amounts.sum())
    shares = amounts / total if total > 0 else amounts
    index = hhi(shares)
    return {
        "customers": len(amounts),
        **{f"top_{k}_share": float(shares[:k].sum()) if total > 0 else np.nan for k in top},
        "hhi": index,
        "equivalent_customers": 1 / index if index > 0 else np.nan,
    }


def hhi(shares: np.ndarray | pd.Series) -> float:
    """Herfindahl-Hirschman index: the sum of squared shares (shares summing to 1)."""
    values = np.asarray(shares, dtype=float)
    values = values[np.isfinite(values)]
    return float((values**2).sum()) if values.size else np.nan


def risk_map(
    books: dict[pd.Timestamp, pd.DataFrame],
    labels: pd.DataFrame,
    horizon_months: int,
    by: str = "region",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean PD and observed default rate per ``by`` (rows, plus ``All``) and month (columns).

    The observed default rate at month ``m`` is the share of the customers snapshotted at
    ``m - horizon_months`` that defaulted by ``m`` (their label), the outcome the PDs of that
    earlier month predicted; missing where those labels are not known.

    Args:
        books: Scored books by month end.
        labels: Snapshots' ``as_of_date``, ``by`` and ``label`` (missing: not yet known).
        horizon_months: The label horizon.
        by: Column to break down by.
    """
    months = sorted(books)
    pd_cols, rate_cols = {}, {}
    for month in months:
        scored = _scored(books[month])
        pd_cols[month] = _with_all(scored.groupby(by)["pd_12m"].mean(), scored["pd_12m"].mean())
        start = months_before(month, horizon_months)
        known = labels[(pd.to_datetime(labels["as_of_date"]) == start) & labels["label"].notna()]
        rate = known.groupby(by)["label"].mean() if len(known) else pd.Series(dtype=float)
        rate_cols[month] = _with_all(rate, known["label"].mean() if len(known) else np.nan)
    mean_pd, observed = pd.DataFrame(pd_cols), pd.DataFrame(rate_cols)
    rows = sorted(set(mean_pd.index) - {ALL}) + [ALL]
    return mean_pd.reindex(rows), observed.reindex(rows)


def top_movers(book: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` customers whose PD rose most since the previous book."""
    scored = _scored(book)
    rising = scored[scored["pd_change"] > 0]
    return rising.sort_values(
        ["pd_change", "customer_id"], ascending=[False, True], kind="stable"
    ).head(n)


def trend(books: dict[pd.Timestamp, pd.DataFrame], high_risk_grade: int) -> pd.DataFrame:
    """The headline's figures per month end (rows, oldest first): :data:`TREND_COLUMNS`.

    ``alerts`` counts the rule codes in each book's ``alerts`` column; missing for a book
    without alerts recorded (a month re-scored to fill the history, ``source`` ``backfill``).
    """
    rows = {}
    for month in sorted(books):
        book = books[month]
        figures = headline(book, high_risk_grade)
        rows[month] = {**{c: figures[c] for c in TREND_COLUMNS[:-1]}, "alerts": _alerts(book)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=TREND_COLUMNS)


def alert_summary(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts per rule and severity: how many, how many customers, their exposure.

    ``exposure`` counts each alerted customer once per row. Most severe first, then the
    largest exposure.
    """
    columns = ["rule", "severity", "alerts", "customers", "exposure"]
    if alerts.empty:
        return pd.DataFrame(columns=columns)
    once = alerts.drop_duplicates(["rule", "severity", "customer_id"])
    grouped = once.groupby(["rule", "severity"])
    out = pd.DataFrame(
        {
            "alerts": alerts.groupby(["rule", "severity"]).size(),
            "customers": grouped["customer_id"].nunique(),
            "exposure": grouped["exposure"].sum(min_count=1),
        }
    ).reset_index()
    rank = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    order = out.assign(_rank=rank).sort_values(
        ["_rank", "exposure", "rule"], ascending=[True, False, True], kind="stable"
    )
    return order[columns].reset_index(drop=True)


def alerted_customers(alerts: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` alerted customers to look at first: most severe alert, then largest exposure.

    One row per customer with its rules (most severe first) and the alert rows' other columns.
    """
    if alerts.empty:
        return alerts.assign(rules=pd.Series(dtype=object)).head(0)
    rank = alerts["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    ordered = alerts.assign(_rank=rank.fillna(len(SEVERITIES))).sort_values(
        ["_rank", "rule"], kind="stable"
    )
    rules = ordered.groupby("customer_id", sort=False)["rule"].agg(list)
    first = ordered.drop_duplicates("customer_id").set_index("customer_id")
    first = first.assign(rules=rules).reset_index()
    first = first.sort_values(
        ["_rank", "exposure", "customer_id"], ascending=[True, False, True], kind="stable"
    )
    return first.drop(columns="_rank").head(n).reset_index(drop=True)


def _alerts(book: pd.DataFrame) -> float:
    if "alerts" not in book or ("source" in book and (book["source"] == "backfill").all()):
        return np.nan
    codes = book["alerts"].fillna("").astype(str).str.split(";").explode().str.strip()
    return float((codes != "").sum())


def _with_all(groups: pd.Series, overall: float) -> pd.Series:
    return pd.concat([groups, pd.Series({ALL: overall})])


def _scored(book: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "status", "grade") if c not in book.columns]
    if missing:
        raise KeyError(f"book lacks columns {missing}")
    return book[book["status"] == SCORED]
