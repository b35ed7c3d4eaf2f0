"""The portfolio report's outlook section: the summary's ``outlook`` and the back-test's errors.

Two heat-map tables (region x horizon, sector x horizon): the expected default rate with its
interval, beside the rate observed over the last months at the same horizon; each rate is
coloured by the master-scale band of its 12-month equivalent (a 3-month rate of 1 % is about a
12-month rate of 4 %), so the colours mean what they mean on the report's other tables. Then
the back-test's mean absolute errors (``metrics.json`` ``outlook_backtest``), where present.
"""

from __future__ import annotations

from typing import Any

from models.outlook import BOOK, METHODS, rescale_rate

GROUPINGS = {"region": "by_region", "industry": "by_sector"}


def outlook_context(outlook: dict | None, backtest: dict | None) -> dict[str, Any] | None:
    """What the template shows; None without an outlook (a book without a term structure)."""
    if not outlook:
        return None
    horizons = list(outlook["horizons"])
    book = [_row(g, horizons) for g in outlook["groups"] if g["grouping"] == BOOK]
    tables = {
        key: [_row(g, horizons) for g in outlook["groups"] if g["grouping"] == grouping] + book
        for grouping, key in GROUPINGS.items()
    }
    return {
        "horizons": horizons,
        "level": outlook["level"],
        # "basel" or one value (an older summary: the loss distribution's Basel default)
        "asset_correlation": outlook.get("asset_correlation", "basel"),
        "observed_months": outlook["observed_months"],
        **tables,
        "backtest": backtest_rows(backtest),
    }


def _row(group: dict, horizons: list[int]) -> dict[str, Any]:
    cells = []
    for h in horizons:
        figures = group[f"{h}m"]
        annual = {
            f"{k}_12m": None if figures[k] is None else rescale_rate(figures[k], h, 12)
            for k in ("expected_rate", "observed_rate")
        }
        cells.append({"horizon": h, **figures, **annual})
    return {
        "label": group["group"],
        "all": group["grouping"] == BOOK,
        "customers": group["customers"],
        "cells": cells,
    }


def backtest_rows(backtest: dict | None) -> dict[str, Any] | None:
    """One row per horizon and grouping: its month ends, each method's error, the best named.

    None where there is no back-test (an evaluation without the term structure).
    """
    if not isinstance(backtest, dict) or not backtest.get("by_horizon"):
        return None
    rows = []
    for horizon, entry in backtest["by_horizon"].items():
        span = {k: entry.get(k) for k in ("month_ends", "first", "last")}
        for grouping in (*GROUPINGS, BOOK):
            if grouping not in entry:
                continue
            found, mae = entry[grouping], entry[grouping]["mae"]
            rows.append(
                {"horizon": horizon, "grouping": grouping, **span, "cells": found["cells"],
                 "mae": [mae[m] for m in METHODS], "best": min(METHODS, key=mae.__getitem__),
                 "beats": found["beats_anchors"]}
            )  # fmt: skip
    return {"methods": list(METHODS), "rows": rows, "passed": bool(backtest.get("passed"))}
