"""Outlook by region and sector: expected defaults 3 and 6 months ahead, and their back-test.

**Outlook** of a book (the performing customers at one month end): per horizon ``h`` and per
group (each region, each sector, the whole book) the customers, the expected number of defaults
``sum pd_<h>m`` (the PD term structure's cumulative PD within ``h`` months), the expected
default rate, and an interval of the number of defaults that accounts for default correlation:
the counts are simulated in the one-factor Gaussian copula of the loss distribution
(:func:`models.loss_distribution.simulate_counts`: same model, seed and random numbers), each
customer's asset correlation read at its 12-month PD (Basel's, by default, as the loss
distribution's); the interval is the central ``level`` of the simulated counts. The same
correlation serves every horizon (Basel's is calibrated for one year: for shorter horizons
it is an assumption). The interval's bounds are counts of whole customers: in a small group
with rare defaults the mean can lie above an upper bound of 0.

**Back-test**: at each past month end ``t``, the forecast default rate of each group (the mean
``pd_<h>m`` of its customers at ``t``) against the rate realised in ``(t, t + h]`` by those
customers, beside two naive forecasts made from what was known at ``t``: the group's observed
monthly default rate ``r`` over the last 6 (``last_6m``) or 12 months (``last_12m``): defaults
in month ``s + 1`` of the group's customers snapshotted at ``s``, over those snapshots, for
``s`` in ``[t - n, t - 1]`` (defaults dated after ``t`` are not used) scaled to the horizon as
``1 - (1 - r) ** h`` (a constant monthly rate). Mean absolute error of each method per horizon
and grouping over the month ends whose ``h``-month outcome is observed and whose 12-month
history is in the data, on the cells (group, month end) where every method has a forecast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.timeline import month_end, month_index
from models.loss_distribution import basel_correlation, simulate_counts

HORIZONS = (3, 6)
GROUPINGS = ("region", "industry")
BOOK = "book"  # the grouping of the whole book; its one group is ALL
ALL = "All"
ANCHORS = {"last_6m": 6, "last_12m": 12}
METHODS = ("model", *ANCHORS)
FIGURES = ["expected_defaults", "expected_rate", "low", "high", "low_rate", "high_rate"]
OUTLOOK_COLUMNS = ["grouping", "group", "horizon", "customers", *FIGURES]


def book_outlook(
    book: pd.DataFrame,
    *,
    horizons: Sequence[int] = HORIZONS,
    by: Sequence[str] = GROUPINGS,
    level: float = 0.9,
    n_scenarios: int = 10_000,
    seed: int = 0,
    asset_correlation: float | None = None,
    sector_correlation: float = 1.0,
) -> pd.DataFrame:
    """The outlook of ``book`` (see the module docstring): one row per grouping, group, horizon.

    Args:
        book: The performing customers: ``pd_<h>m`` for each horizon, ``pd_12m`` (the asset
            correlation) and the ``by`` columns (missing: ``unknown``); ``industry`` is also
            the sector of the sector factors. Not modified.
        horizons: Months ahead.
        by: Columns to break down by; the whole book is added (grouping :data:`BOOK`).
        level: Central share of the simulated counts the interval holds, in (0, 1).
        n_scenarios: Scenarios simulated.
        seed: Seed of the simulation.
        sector_correlation: Correlation between two sectors' factors (1: one factor).
        asset_correlation: One value; None: Basel's formula at each customer's ``pd_12m``.

    Returns:
        :data:`OUTLOOK_COLUMNS`; rates are missing for a group with no customer.
    """
    needed = [*(f"pd_{h}m" for h in horizons), "pd_12m", *by]
    missing = [c for c in needed if c not in book]
    if missing:
        raise KeyError(f"the book lacks {missing}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    labels, members = _memberships(book, by)
    pd_12m = book["pd_12m"].to_numpy(float)
    rho = basel_correlation(pd_12m) if asset_correlation is None else asset_correlation
    sector = book["industry"].fillna("unknown").to_numpy() if "industry" in book else None
    customers = members.sum(axis=0)
    frames = []
    for h in horizons:
        pd_h = book[f"pd_{h}m"].to_numpy(float)
        counts = simulate_counts(
            pd_h, members, sector, asset_correlation=rho, sector_correlation=sector_correlation,
            n_scenarios=n_scenarios, seed=seed,
        )  # fmt: skip
        low, high = np.quantile(counts, [(1 - level) / 2, (1 + level) / 2], axis=0)
        expected = pd_h @ members
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = [v / np.where(customers > 0, customers, np.nan) for v in (expected, low, high)]
        frames.append(
            labels.assign(
                horizon=h, customers=customers, expected_defaults=expected,
                expected_rate=rates[0], low=low, high=high, low_rate=rates[1], high_rate=rates[2],
            )
        )  # fmt: skip
    return pd.concat(frames, ignore_index=True)[OUTLOOK_COLUMNS]


def _memberships(book: pd.DataFrame, by: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Each group's (grouping, group) label and its 0/1 column of the book's customers."""
    labels, columns = [(BOOK, ALL)], [np.ones(len(book), dtype=np.int64)]
    for grouping in by:
        values = book[grouping].fillna("unknown").astype(str).to_numpy()
        for group in sorted(set(values)):
            labels.append((grouping, group))
            columns.append((values == group).astype(np.int64))
    frame = pd.DataFrame(labels, columns=["grouping", "group"])
    return frame, np.column_stack(columns)


def to_horizon(monthly_rate: np.ndarray | float, months: int) -> np.ndarray | float:
    """The default rate over ``months`` months at a constant monthly rate: ``1 - (1 - r)^h``."""
    return rescale_rate(monthly_rate, 1, months)


def rescale_rate(rate: np.ndarray | float, months: int, to_months: int) -> np.ndarray | float:
    """A default rate over ``months`` months as the rate over ``to_months`` at the same pace."""
    return 1 - (1 - rate) ** (to_months / months)


def observed_rates(
    population: pd.DataFrame,
    defaults: pd.DataFrame,
    as_of: pd.Timestamp,
    months: int,
    by: Sequence[str] = GROUPINGS,
) -> pd.DataFrame:
    """The monthly default rate each group showed in the ``months`` months up to ``as_of``.

    Args:
        population: The performing customers at each month end: ``customer_id``,
            ``as_of_date`` and the ``by`` columns.
        defaults: ``customer_id``, ``default_date`` (only those dated by ``as_of`` are used).
        as_of: The month end the rate is known at.
        months: Months looked back.
        by: Columns to break down by; the whole book is added.

    Returns:
        Index (grouping, group); ``at_risk`` (customer-months), ``defaults`` and ``rate``
        (missing where no customer was at risk).
    """
    t = int(month_index(pd.Series([as_of]))[0])
    known = month_index(population["as_of_date"])
    window = population[(known >= t - months) & (known < t)]
    table = _monthly_counts(window, defaults, by)
    totals = table.groupby(["grouping", "group"]).sum()
    totals["rate"] = totals["defaults"] / totals["at_risk"].where(totals["at_risk"] > 0)
    return totals


def _monthly_counts(
    population: pd.DataFrame, defaults: pd.DataFrame, by: Sequence[str]
) -> pd.DataFrame:
    """Per grouping, group and month ``s``: customers at risk at ``s``, defaults in ``s + 1``."""
    missing = [c for c in ("customer_id", "as_of_date", *by) if c not in population]
    if missing:
        raise KeyError(f"the population lacks {missing}")
    first = defaults.assign(m=month_index(defaults["default_date"]))
    first = first[first["m"] >= 0].groupby("customer_id")["m"].min()
    s = month_index(population["as_of_date"])
    event = population["customer_id"].map(first).to_numpy() == s + 1
    frames = []
    for grouping in (BOOK, *by):
        group = ALL if grouping == BOOK else population[grouping].fillna("unknown").astype(str)
        frame = pd.DataFrame({"grouping": grouping, "group": group, "month": s, "event": event})
        frames.append(
            frame.groupby(["grouping", "group", "month"], as_index=False).agg(
                at_risk=("event", "size"), defaults=("event", "sum")
            )
        )
    return pd.concat(frames, ignore_index=True)


def backtest_table(
    predictions: pd.DataFrame,
    defaults: pd.DataFrame,
    observed_until: pd.Timestamp,
    *,
    population: pd.DataFrame | None = None,
    horizons: Sequence[int] = HORIZONS,
    by: Sequence[str] = GROUPINGS,
    start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Forecast, naive and realised default rates per horizon, group and month end.

    Args:
        predictions: ``customer_id``, ``as_of_date``, the ``by`` columns and ``pd_<h>m`` of
            the performing customers at each month end (a missing PD: no forecast that month).
        defaults: ``customer_id``, ``default_date`` (a customer's first one counts).
        observed_until: The last month end whose defaults are known.
        population: The performing customers at each month end, for the naive rates
            (``customer_id``, ``as_of_date``, the ``by`` columns); None: ``predictions``. It
            must reach 12 months before the first month end to back-test.
        horizons: Months ahead.
        by: Columns to break down by; the whole book is added (grouping :data:`BOOK`).
        start: The first month end to back-test (e.g. the first out of time for the model).

    Returns:
        One row per ``horizon``, ``grouping``, ``group``, ``as_of_date``: ``customers``,
        ``realised`` and each of :data:`METHODS` (missing where it has nothing to go on), for
        the month ends whose outcome and 12-month history are observed.
    """
    population = predictions if population is None else population
    missing = [c for c in ("customer_id", "as_of_date", *by) if c not in predictions]
    missing += [f"pd_{h}m" for h in horizons if f"pd_{h}m" not in predictions]
    if missing:
        raise KeyError(f"the predictions lack {missing}")
    counts = _monthly_counts(population, defaults, by)
    at_risk, events = (
        counts.pivot_table(index=["grouping", "group"], columns="month", values=v, fill_value=0)
        for v in ("at_risk", "defaults")
    )
    first = defaults.assign(m=month_index(defaults["default_date"]))
    first = first[first["m"] >= 0].groupby("customer_id")["m"].min()
    t = month_index(predictions["as_of_date"])
    d = predictions["customer_id"].map(first).fillna(-1).to_numpy()
    end = int(month_index(pd.Series([observed_until]))[0])
    lowest = int(at_risk.columns.min()) + max(ANCHORS.values()) if len(at_risk.columns) else end
    lowest = max(lowest, -1 if start is None else int(month_index(pd.Series([start]))[0]))
    frames = []
    for h in horizons:
        pd_h = predictions[f"pd_{h}m"].to_numpy(float)
        keep = (t + h <= end) & (t >= lowest) & ~np.isnan(pd_h)
        realised = ((d > t) & (d <= t + h)).astype(float)
        rows = pd.DataFrame({"month": t, "model": pd_h, "realised": realised})[keep]
        cells = _group_means(rows, predictions[keep], by)
        for name, n in ANCHORS.items():
            cells[name] = to_horizon(_window_rate(at_risk, events, cells, n), h)
        frames.append(cells.assign(horizon=h))
    table = pd.concat(frames, ignore_index=True)
    table["as_of_date"] = month_end(table["month"].to_numpy()) if len(table) else pd.NaT
    columns = ["horizon", "grouping", "group", "as_of_date", "customers", "realised", *METHODS]
    return table[columns]


def with_intervals(
    table: pd.DataFrame, predictions: pd.DataFrame, by: Sequence[str] = GROUPINGS, **simulation
) -> pd.DataFrame:
    """``table`` (:func:`backtest_table`) with each cell's interval as the outlook had it then.

    The book of each month end in ``table`` (its rows of ``predictions``, which need
    ``pd_12m``) goes through :func:`book_outlook` with ``simulation`` (``level``,
    ``n_scenarios``, ``seed``, ``asset_correlation``, ``sector_correlation``); ``low_rate`` and
    ``high_rate`` are added (missing for a cell the outlook has no customer in).
    """
    horizons = sorted(table["horizon"].unique())
    months = set(table["as_of_date"])
    dates = pd.to_datetime(predictions["as_of_date"])
    frames = [
        book_outlook(book, horizons=horizons, by=by, **simulation).assign(as_of_date=t)
        for t, book in predictions[dates.isin(months)].groupby(dates[dates.isin(months)])
    ]
    keys = ["horizon", "grouping", "group", "as_of_date"]
    if not frames:
        return table.assign(low_rate=np.nan, high_rate=np.nan)
    found = pd.concat(frames, ignore_index=True)[[*keys, "low_rate", "high_rate"]]
    return table.merge(found, on=keys, how="left", validate="1:1")


def _group_means(rows: pd.DataFrame, predictions: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Customers, mean forecast and realised rate per grouping, group and month."""
    frames = []
    for grouping in (BOOK, *by):
        group = ALL if grouping == BOOK else predictions[grouping].fillna("unknown").astype(str)
        frames.append(
            rows.assign(grouping=grouping, group=group)
            .groupby(["grouping", "group", "month"], as_index=False)
            .agg(
                customers=("model", "size"), realised=("realised", "mean"), model=("model", "mean")
            )
        )
    return pd.concat(frames, ignore_index=True)


def _window_rate(
    at_risk: pd.DataFrame, events: pd.DataFrame, cells: pd.DataFrame, months: int
) -> np.ndarray:
    """Each cell's monthly default rate over the snapshots at ``[t - months, t - 1]``.

    ``at_risk`` and ``events``: (grouping, group) x month grids. Missing where the group had
    no customer at risk then (or is not in the grids).
    """
    if not len(cells):
        return np.zeros(0)
    span = np.arange(int(at_risk.columns.min()), int(cells["month"].max()) + 1)
    totals = []
    for grid in (at_risk, events):
        full = grid.reindex(columns=span, fill_value=0).to_numpy(float)
        cumulative = np.hstack([np.zeros((len(full), 1)), np.cumsum(full, axis=1)])
        row = grid.index.get_indexer(pd.MultiIndex.from_frame(cells[["grouping", "group"]]))
        # cumulative[:, j] sums the months before span[j]: the window is [t - months, t)
        hi = cells["month"].to_numpy() - span[0]
        lo = np.clip(hi - months, 0, None)
        found = cumulative[row, hi] - cumulative[row, lo]
        totals.append(np.where(row >= 0, found, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals[0] > 0, totals[1] / totals[0], np.nan)


def summarize_backtest(table: pd.DataFrame) -> dict:
    """Mean absolute error and mean bias of each method per horizon and grouping (JSON-able).

    A cell counts where every method has a forecast. ``beats_anchors``: the model's error is
    below both naive ones; ``passed``: so for every horizon and grouping but the whole book.
    ``book_by_month``: the whole book's rates per month end (the calibration level over time).
    """
    out: dict = {
        "methods": list(METHODS),
        "anchors": {name: f"observed monthly default rate r over the last {n} months, "
                    "scaled to h months as 1 - (1 - r)^h" for name, n in ANCHORS.items()},
        "by_horizon": {},
        "book_by_month": {},
    }  # fmt: skip
    verdicts = []
    for h, part in table.groupby("horizon"):
        cells = part.dropna(subset=["realised", *METHODS])
        months = cells["as_of_date"]
        entry = {
            "month_ends": int(months.nunique()),
            "first": f"{months.min():%Y-%m-%d}" if len(months) else None,
            "last": f"{months.max():%Y-%m-%d}" if len(months) else None,
        }
        for grouping, group_cells in cells.groupby("grouping", sort=False):
            errors = group_cells[list(METHODS)].sub(group_cells["realised"], axis=0)
            mae = errors.abs().mean()
            beats = bool(all(mae["model"] < mae[a] for a in ANCHORS))
            entry[grouping] = {
                "cells": len(group_cells),
                "mae": {m: round(float(mae[m]), 6) for m in METHODS},
                "bias": {m: round(float(errors[m].mean()), 6) for m in METHODS},
                "beats_anchors": beats,
                **_coverage(group_cells),
            }
            verdicts += [beats] if grouping != BOOK else []
        out["by_horizon"][f"{h}m"] = entry
        book = cells[cells["grouping"] == BOOK]
        out["book_by_month"][f"{h}m"] = [
            {"as_of_date": f"{r.as_of_date:%Y-%m-%d}", "customers": int(r.customers),
             **{k: round(float(getattr(r, k)), 6) for k in ("realised", *METHODS)}}
            for r in book.itertuples()
        ]  # fmt: skip
    out["passed"] = bool(verdicts) and all(verdicts)
    return out


def _coverage(cells: pd.DataFrame) -> dict:
    """How often the realised rate fell inside, below and above the interval, and its width."""
    if "low_rate" not in cells:
        return {}
    known = cells.dropna(subset=["low_rate", "high_rate"])
    below, above = known["realised"] < known["low_rate"], known["realised"] > known["high_rate"]
    return {
        "interval": {
            "cells": len(known),
            "inside": round(float(1 - below.mean() - above.mean()), 6) if len(known) else None,
            "below": round(float(below.mean()), 6) if len(known) else None,
            "above": round(float(above.mean()), 6) if len(known) else None,
            "mean_width": round(float((known["high_rate"] - known["low_rate"]).mean()), 6)
            if len(known) else None,
        }
    }  # fmt: skip


def backtest_outlook(
    predictions: pd.DataFrame,
    defaults: pd.DataFrame,
    observed_until: pd.Timestamp,
    interval: dict | None = None,
    **options,
) -> dict:
    """The back-test's summary for ``metrics.json`` (``outlook_backtest``).

    Arguments as :func:`backtest_table`'s; ``interval``: :func:`book_outlook`'s simulation
    settings (``level``, ``n_scenarios``, ``seed``, ``asset_correlation``,
    ``sector_correlation``) to check the interval too (:func:`with_intervals`; about a
    second per month end at 2,000 scenarios and 4,000 customers); None: not checked.
    Returns :func:`summarize_backtest` of the table.
    """
    table = backtest_table(predictions, defaults, observed_until, **options)
    if interval is not None:
        by = options.get("by", GROUPINGS)
        table = with_intervals(table, predictions, by, **interval)
    summary = summarize_backtest(table)
    return summary | ({"interval_settings": interval} if interval is not None else {})
