"""The portfolio report page: figures from ``models.portfolio`` formatted into a Jinja2 template.

Everything the page shows is inside the one HTML file: charts are PNGs embedded as data URIs,
styles are inline, there is no script and no link to another host.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from models import portfolio

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "portfolio.html.j2"
_HEAT = "YlOrRd"
# the headline's performing / in-default split, in score.language (printf-style for |format)
HEADLINE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "exposure": "Exposure (total)",
        "exposure_split": "performing %s + in default %s",
        "expected_loss": "Expected loss (total)",
        "loss_split": "performing %s + in default %s; %s of exposure",
        "defaulted": "In default (recovery)",
        "defaulted_note": "%s customers; expected loss %s (PD 1 x LGD)",
        "was": "was %s",
    },
    "zh": {
        "exposure": "敞口合计",
        "exposure_split": "正常履约 %s + 违约 %s",
        "expected_loss": "预期损失合计",
        "loss_split": "正常履约 %s + 违约 %s；占敞口 %s",
        "defaulted": "违约敞口（回收中）",
        "defaulted_note": "%s 户；预期损失 %s（违约概率按 1 计 × 违约损失率）",
        "was": "上期 %s",
    },
}


def render(context: dict[str, Any]) -> str:
    """Render the report template with ``context`` (values are escaped)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, pct=pct, points=points, num=num)
    return env.get_template(TEMPLATE).render(**context)


def money(value: float) -> str:
    """Whole currency units with thousands separators, in millions from one million."""
    if _missing(value):
        return "n/a"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f} M"
    return f"{value:,.0f}"


def pct(value: float, digits: int = 1) -> str:
    """A share as a percentage."""
    return "n/a" if _missing(value) else f"{100 * value:.{digits}f}%"


def points(value: float) -> str:
    """A change of a share, in percentage points with its sign."""
    return "n/a" if _missing(value) else f"{100 * value:+.1f} pp"


def num(value: float, digits: int = 3) -> str:
    """A plain number."""
    return "n/a" if _missing(value) else f"{value:.{digits}f}"


def heat(value: float, low: float, high: float) -> str:
    """Inline style of a heat-map cell: background from the colour map, readable text."""
    if _missing(value):
        return "background:#f3f4f6;color:#9ca3af"
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    share = 0.0 if high <= low else min(max((value - low) / (high - low), 0.0), 1.0)
    colour = colormaps[_HEAT](0.05 + 0.8 * share)
    text = "#ffffff" if share > 0.6 else "#111827"
    return f"background:{to_hex(colour)};color:{text}"


def heat_rows(table: pd.DataFrame, fmt: str = "pct") -> list[dict[str, Any]]:
    """Rows of a heat-map table (index: row label; columns: months) with a trend column."""
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    rows = []
    for label, row in table.iterrows():
        known = row.dropna()
        change = known.iloc[-1] - known.iloc[0] if len(known) > 1 else np.nan
        rows.append(
            {
                "label": label,
                "cells": [{"text": pct(v, 2), "style": heat(v, low, high)} for v in row],
                "trend": _trend(change),
            }
        )
    return rows


def migration_rows(matrix: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the migration matrix with a style per cell (up, down, same grade, exits)."""
    rows = []
    for origin, counts in matrix.iterrows():
        total = max(int(counts.sum()), 1)
        cells = []
        for target, count in counts.items():
            kind = _move(origin, target)
            alpha = 0.12 + 0.75 * count / total if count else 0.0
            cells.append({"text": f"{count:,}" if count else "", "kind": kind, "alpha": alpha})
        rows.append({"label": origin, "cells": cells, "total": int(counts.sum())})
    return rows


def bar_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a loss table with the bar width of each expected loss (largest = 100%)."""
    top = float(table["expected_loss"].max()) if len(table) else 0.0
    return [
        {"label": label, **row.to_dict(), "bar": 100 * row["expected_loss"] / top if top else 0}
        for label, row in table.iterrows()
    ]


def grade_chart(grades: pd.DataFrame, labels: dict[int, str], as_of: str, before: str) -> str:
    """Grouped bars of the share of customers per grade, now and in the previous book."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    x = np.arange(len(grades))
    fig, ax = plt.subplots(figsize=(7.2, 3.0), dpi=110)
    if grades["previous_share"].notna().any():
        ax.bar(x - 0.2, 100 * grades["previous_share"], 0.4, color="#9ca3af", label=before)
    ax.bar(x + 0.2, 100 * grades["share"], 0.4, color="#1d4ed8", label=as_of)
    ax.set_xticks(x, [f"{g}\n{labels.get(g, '')}" for g in grades.index], fontsize=7)
    ax.set_ylabel("% of customers")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return _png(fig)


def trend_chart(mean_pd: pd.Series, observed: pd.Series) -> str:
    """The book's mean PD and observed default rate over the months of the risk map."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    x = np.arange(len(mean_pd))
    fig, ax = plt.subplots(figsize=(7.2, 2.6), dpi=110)
    ax.plot(x, 100 * mean_pd.to_numpy(float), marker="o", color="#1d4ed8", label="mean PD")
    ax.plot(x, 100 * observed.to_numpy(float), marker="s", color="#dc2626",
            label="observed default rate")  # fmt: skip
    ax.set_xticks(x, [f"{m:%b %Y}" for m in mean_pd.index])
    ax.set_ylabel("% of customers")
    ax.margins(y=0.25)
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _png(fig: Any) -> str:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _move(origin: object, target: object) -> str:
    if target in ("default", "exited"):
        return str(target)
    if origin == "new":
        return "new"
    if origin == target:
        return "same"
    return "down" if int(target) > int(origin) else "up"  # type: ignore[call-overload]


def _trend(change: float) -> dict[str, str]:
    if _missing(change):
        return {"text": "n/a", "kind": "flat"}
    kind = "up" if change > 1e-4 else "down" if change < -1e-4 else "flat"
    arrow = {"up": "\u25b2", "down": "\u25bc", "flat": "\u25b6"}[kind]
    return {"text": f"{arrow} {points(change)}", "kind": kind}


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def page_context(
    *,
    summary: dict[str, Any],
    books: dict[pd.Timestamp, pd.DataFrame],
    previous: pd.DataFrame | None,
    alerts: pd.DataFrame,
    labels: pd.DataFrame,
    scale_labels: dict[int, str],
    high_risk_grade: int,
    horizon_months: int,
    model: dict[str, Any],
    top_movers: int,
    max_alerts: int,
    language: str = "en",
) -> dict[str, Any]:
    """Everything the template shows, computed with ``models.portfolio`` and formatted.

    ``language`` (the score's) words the headline's performing / in-default split.
    """
    if language not in HEADLINE_WORDS:
        raise ValueError(f"unknown language {language!r}; known: {list(HEADLINE_WORDS)}")
    as_of = pd.Timestamp(summary["as_of_date"])
    current, grades = books[as_of], list(scale_labels)
    distribution = portfolio.grade_distribution(current, previous, grades)
    mean_pd, observed = portfolio.risk_map(books, labels, horizon_months)
    before = summary.get("previous_as_of_date") or ""
    movers = portfolio.top_movers(current, top_movers)
    return {
        "as_of": f"{as_of:%Y-%m-%d}",
        "words": HEADLINE_WORDS[language],
        "before": before,
        "before_source": _source(previous),
        "headline": portfolio.headline(current, high_risk_grade),
        "previous_headline": (
            portfolio.headline(previous, high_risk_grade) if previous is not None else None
        ),
        "high_risk_grade": high_risk_grade,
        # scored customers given no reason: nothing in their data raises their risk materially
        "no_adverse_factor": summary.get("no_adverse_factor"),
        "no_adverse_factor_share": summary.get("no_adverse_factor_share"),
        "grades": [
            {"grade": g, "label": scale_labels[g], **row.to_dict()}
            for g, row in distribution.iterrows()
        ],
        "grade_chart": grade_chart(distribution, scale_labels, f"{as_of:%Y-%m-%d}", before),
        "migration": (
            migration_rows(portfolio.migration_matrix(previous, current, grades))
            if previous is not None
            else None
        ),
        "migration_columns": [*grades, "default", "exited"],
        "by_sector": bar_rows(portfolio.loss_by(current, "industry")),
        "by_region": bar_rows(portfolio.loss_by(current, "region")),
        "months": [f"{m:%b %Y}" for m in mean_pd.columns],
        "pd_map": heat_rows(mean_pd),
        "observed_map": heat_rows(observed),
        "trend_chart": trend_chart(mean_pd.loc[portfolio.ALL], observed.loc[portfolio.ALL]),
        "horizon_months": horizon_months,
        "movers": movers.to_dict("records"),
        "alert_counts": _alert_counts(alerts),
        "alerts": alerts.head(max_alerts).to_dict("records"),
        "alerts_total": len(alerts),
        "model": model,
    }


def _alert_counts(alerts: pd.DataFrame) -> list[dict[str, Any]]:
    if alerts.empty:
        return []
    table = pd.crosstab(alerts["rule"], alerts["severity"])
    table = table.reindex(columns=["high", "medium", "low"], fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.sort_values(["high", "total"], ascending=False)
    return [{"rule": rule, **row.to_dict()} for rule, row in table.iterrows()]


def _source(previous: pd.DataFrame | None) -> str:
    if previous is None or "source" not in previous or previous.empty:
        return ""
    return str(previous["source"].iloc[0])
