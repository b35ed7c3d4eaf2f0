"""The portfolio report page: figures from ``models.portfolio`` formatted into a Jinja2 template.

Everything the page shows is inside the one HTML file: charts are PNGs embedded as data URIs or
inline SVG, styles are inline, there is no script and no link to another host (the links to
the customer pages, the alerts list and the workbook are relative, to files of the same run).
A PD is coloured by its band on the master scale, the same on every table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from models import portfolio
from models.master_scale import MasterScale
from pipelines.render import figures
from pipelines.render.jinja import environment
from pipelines.render.links import customers_with_pages, page_href
from pipelines.render.portfolio_collections import collections_context
from pipelines.render.portfolio_lifetime import lifetime_context
from pipelines.render.portfolio_outlook import outlook_context
from pipelines.render.portfolio_words import WORDS, rule_name

TEMPLATE = "portfolio.html.j2"
TOP_EXPOSURES = 20
LOSS_FIGURES = ("expected_loss", "unexpected_loss", "var_99", "es_99", "var_99_9", "es_99_9")
_BANDS = "RdYlGn_r"  # green (safest grade) to red (riskiest)


def render(context: dict[str, Any]) -> str:
    """Render the report template with ``context`` (values are escaped)."""
    bands, currency, language = context["bands"], context["currency"], context["lang"]
    env = environment(
        money=money,
        cash=lambda v: f"{money(v)} {currency}".rstrip(),
        pct=pct,
        points=points,
        num=num,
        count=lambda v: "n/a" if _missing(v) else f"{int(v):,}",
        pd_style=lambda v: pd_style(v, bands),
        rules=lambda v: rule_names(v, language),
    )
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


def rule_names(rules: object, language: str) -> str:
    """Alert rules (a list, or codes joined by ``;`` as in the book) named in ``language``."""
    if isinstance(rules, str):
        rules = rules.split(";")
    if not isinstance(rules, list):
        return ""
    return ", ".join(rule_name(r.strip(), language) for r in rules if r.strip())


def pd_bands(scale: MasterScale) -> list[dict[str, Any]]:
    """One colour per grade of the master scale: its PD band, label and cell style.

    Colours run from green (safest grade) to red (riskiest), evenly over the grades; text is
    white on the dark ends.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    n, lower, out = len(scale.grades), 0.0, []
    for i, grade in enumerate(scale.grades):
        red, green, blue, _ = colormaps[_BANDS](0.05 + 0.9 * i / max(n - 1, 1))
        light = 0.2126 * red + 0.7152 * green + 0.0722 * blue
        text = "#ffffff" if light < 0.45 else "#111827"
        style = f"background:{to_hex((red, green, blue))};color:{text}"
        out.append(
            {"grade": grade.grade, "lower": lower, "upper": grade.max_pd, "style": style,
             "label": f"{grade.grade} · {pct(lower, 2)}–{pct(grade.max_pd, 2)}"}
        )  # fmt: skip
        lower = grade.max_pd
    return out


def pd_style(value: float, bands: list[dict[str, Any]]) -> str:
    """Inline style of a cell showing a PD (or a default rate): its master-scale band's colour.

    A PD on a band's upper bound belongs to that band, as ``MasterScale.assign`` grades it.
    """
    if _missing(value):
        return "background:#f3f4f6;color:#9ca3af"
    return next((b["style"] for b in bands if value <= b["upper"]), bands[-1]["style"])


def heat_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a risk-map table (index: row label; columns: months) with a trend column."""
    rows = []
    for label, row in table.iterrows():
        known = row.dropna()
        change = known.iloc[-1] - known.iloc[0] if len(known) > 1 else math.nan
        rows.append({"label": label, "cells": row.tolist(), "trend": _trend(change)})
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
    """Rows of a loss table with the bar width of each share of exposure (largest = 100%)."""
    top = float(table["share"].max()) if len(table) else 0.0
    return [
        {"label": label, **row.to_dict(), "bar": 100 * row["share"] / top if top > 0 else 0}
        for label, row in table.iterrows()
    ]


def trend_rows(trend: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per figure of ``models.portfolio.trend``: its months, sparkline and change."""
    rows = []
    for figure in trend.columns:
        values = trend[figure]
        known = values.dropna()
        change = known.iloc[-1] - known.iloc[0] if len(known) > 1 else math.nan
        relative = change / abs(known.iloc[0]) if len(known) > 1 and known.iloc[0] else math.nan
        rows.append(
            {"figure": figure, "values": values.tolist(), "change": change,
             "relative": relative, "spark": figures.sparkline(values.tolist())}
        )  # fmt: skip
    return rows


def loss_rows(loss: dict[str, Any]) -> list[dict[str, Any]]:
    """The loss distribution's figures (``LOSS_FIGURES``), one row each.

    Each: the book's, its certain part (the customers in default: the same loss every year, no
    spread), the performing part, and for the 99.9 % figures the figure with the policy's
    limit cuts and the change.
    """
    rows = []
    for key in LOSS_FIGURES:
        total = loss[key]
        certain = 0.0 if key == "unexpected_loss" else loss["defaulted_loss"]
        after = loss["limit_cuts"].get(f"after_{key}")
        rows.append(
            {"key": key, "total": total, "certain": certain, "performing": total - certain,
             "after": after, "change": None if after is None else after - total}
        )  # fmt: skip
    return rows


def loss_context(
    loss: dict[str, Any], book: pd.DataFrame, linked: Callable[[pd.DataFrame], list]
) -> dict[str, Any]:
    """The summary's ``loss_distribution`` for the page: figures, sectors, top contributors.

    A sector's ``beyond_expected`` is its contribution to the 99.9 % expected shortfall less its
    expected loss: what it adds in the worst years.
    """
    sectors = [
        {**s, "beyond_expected": s["es_99_9"] - s["expected_loss"]} for s in loss["by_sector"]
    ]
    top = pd.DataFrame(
        loss["top_contributors"], columns=["customer_id", "exposure", "pd_12m", "es_99_9", "share"]
    )
    known = [c for c in ("customer_id", "name", "industry", "grade") if c in book]
    top = top.merge(book[known], on="customer_id", how="left")
    return {**loss, "rows": loss_rows(loss), "sectors": sectors, "top": linked(top)}


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
    scale: MasterScale,
    high_risk_grade: int,
    horizon_months: int,
    model: dict[str, Any],
    top_movers: int,
    max_alerts: int,
    language: str = "en",
    collections: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the template shows, computed with ``models.portfolio`` and formatted.

    ``language`` (the score's) words the page; the currency is the book's ``currency`` column
    (none shown where the book has none). Customers with a credit-report page
    (``pipelines.render.links``) are linked to it. ``collections``: the keyword arguments of
    :func:`pipelines.render.portfolio_collections.collections_context` but ``linked`` and
    ``language`` (``None``: no such section).
    """
    if language not in WORDS:
        raise ValueError(f"unknown language {language!r}; known: {list(WORDS)}")
    as_of = pd.Timestamp(summary["as_of_date"])
    current, grades = books[as_of], [g.grade for g in scale.grades]
    distribution = portfolio.grade_distribution(current, previous, grades)
    mean_pd, observed = portfolio.risk_map(books, labels, horizon_months)
    pages = set(customers_with_pages(current, alerts, high_risk_grade))

    def linked(rows: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {**r, "href": page_href(r["customer_id"]) if r["customer_id"] in pages else None}
            for r in rows.to_dict("records")
        ]

    by = {key: portfolio.loss_by(current, key) for key in ("industry", "region")}
    trend = portfolio.trend(books, high_risk_grade)
    return {
        "lang": language,
        "w": WORDS[language],
        "currency": book_currency(current),
        "bands": pd_bands(scale),
        "as_of": f"{as_of:%Y-%m-%d}",
        "before": summary.get("previous_as_of_date") or "",
        "before_source": _source(previous),
        "headline": portfolio.headline(current, high_risk_grade),
        "previous_headline": (
            portfolio.headline(previous, high_risk_grade) if previous is not None else None
        ),
        "high_risk_grade": high_risk_grade,
        # scored customers given no reason: nothing in their data raises their risk materially
        "no_adverse_factor": summary.get("no_adverse_factor"),
        "no_adverse_factor_share": summary.get("no_adverse_factor_share"),
        "trend_months": [f"{m:%Y-%m}" for m in sorted(books)],
        "trends": trend_rows(trend),
        "trend_alerts_missing": bool(trend["alerts"].isna().any()),
        "grades": [
            {"grade": g, "label": scale_label, **row.to_dict()}
            for (g, row), scale_label in zip(
                distribution.iterrows(), [s.label for s in scale.grades], strict=True
            )
        ],
        "grade_chart": figures.data_uri(
            figures.grade_chart(
                distribution["share"],
                distribution["previous_share"],
                [s.label for s in scale.grades],
            )
        ),
        "migration": (
            migration_rows(portfolio.migration_matrix(previous, current, grades))
            if previous is not None
            else None
        ),
        "migration_columns": [*grades, "default", "exited"],
        "concentration": portfolio.concentration(current),
        "top_exposures": linked(portfolio.top_exposures(current, TOP_EXPOSURES)),
        "by_sector": bar_rows(by["industry"]),
        "by_region": bar_rows(by["region"]),
        "hhi_sector": portfolio.hhi(by["industry"]["share"]),
        "hhi_region": portfolio.hhi(by["region"]["share"]),
        "months": [f"{m:%Y-%m}" for m in mean_pd.columns],
        "pd_map": heat_rows(mean_pd),
        "observed_map": heat_rows(observed),
        "pd_chart": figures.data_uri(
            figures.pd_chart(mean_pd.loc[portfolio.ALL], observed.loc[portfolio.ALL])
        ),
        "horizon_months": horizon_months,
        # from the score stage (pipelines/book/outlook.py) and the evaluation's back-test
        "outlook": outlook_context(summary.get("outlook"), model.get("outlook_backtest")),
        "movers": linked(portfolio.top_movers(current, top_movers)),
        "alert_summary": portfolio.alert_summary(alerts).to_dict("records"),
        "alerted": linked(portfolio.alerted_customers(alerts, max_alerts)),
        "alerts_total": len(alerts),
        "alerted_total": int(alerts["customer_id"].nunique()) if len(alerts) else 0,
        "severity_counts": alerts["severity"].value_counts().to_dict() if len(alerts) else {},
        "model": model,
        "collections": (
            collections_context(**collections, linked=linked, language=language)
            if collections
            else None
        ),
        # from the score stage (pipelines/book/loss.py); a summary from before it has none
        "loss": (
            loss_context(summary["loss_distribution"], current, linked)
            if summary.get("loss_distribution")
            else None
        ),
        # from the score stage (pipelines/book/ecl.py); None: no ledger or an older summary
        "lifetime": lifetime_context(summary.get("lifetime_ecl"), summary.get("provision_matrix")),
    }


def book_currency(book: pd.DataFrame) -> str:
    """The book's one currency (the score stage's ``currency`` column); empty: unknown."""
    if "currency" not in book or book["currency"].dropna().empty:
        return ""
    return str(book["currency"].dropna().mode().iloc[0])


def _source(previous: pd.DataFrame | None) -> str:
    if previous is None or "source" not in previous or previous.empty:
        return ""
    return str(previous["source"].iloc[0])
