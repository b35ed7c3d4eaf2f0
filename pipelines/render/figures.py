"""Pictures for reading offline: evaluation PNGs, the portfolio report's charts and sparklines.

DVC's own plots need a CDN, so the evaluation's curves are drawn here.

Matplotlib's Agg canvas is used directly: no pyplot, no global backend. The report's charts
carry no words (numbers, dates and the master scale's labels only): the page says what they
show in its language, and no CJK font is needed to draw them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MODEL, BASELINE = "model", "baseline"


def _png(draw: Callable[[Axes], None], title: str, xlabel: str, ylabel: str) -> bytes:
    """Render one chart to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.5), layout="tight")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw(ax)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def render_figures(
    roc: dict[str, pd.DataFrame],
    calibration: dict[str, pd.DataFrame],
    grades: pd.DataFrame,
    auc: dict[str, float],
) -> dict[str, bytes]:
    """Draw ROC and calibration curves of every model, and the model's grade back-test.

    Args:
        roc: ``fpr``/``tpr`` points per model name.
        calibration: ``mean_pd``/``observed_rate`` per bin, per model name.
        grades: The back-test table (band, mean PD, observed rate and its interval per grade).
        auc: Test AUC per model name, for the legend.

    Returns:
        ``{"roc.png": ..., "calibration.png": ..., "grades.png": ...}``.
    """

    def roc_plot(ax: Axes) -> None:
        for name, points in roc.items():
            ax.plot(points["fpr"], points["tpr"], label=f"{name} (AUC {auc[name]:.3f})")
        ax.plot([0, 1], [0, 1], "--", color="grey", label="random")

    def calibration_plot(ax: Axes) -> None:
        top = max(max(c["mean_pd"].max(), c["observed_rate"].max()) for c in calibration.values())
        ax.plot([0, top], [0, top], "--", color="grey", label="perfect calibration")
        for name, curve in calibration.items():
            ax.plot(curve["mean_pd"], curve["observed_rate"], "o-", label=name)

    def grades_plot(ax: Axes) -> None:
        floor = 1e-4  # log scale, and grade 1's band starts at 0
        band = (grades["pd_lower"].clip(lower=floor), grades["pd_upper"])
        ax.vlines(grades["grade"], *band, color="lightgrey", linewidth=10, label="PD band")
        ax.plot(grades["grade"], grades["mean_pd"], "o-", label="mean PD")
        seen = grades[grades["observed_rate"] > 0]  # a zero rate has no place on a log axis
        if "ci_lower" in seen:
            low = (seen["observed_rate"] - seen["ci_lower"].clip(lower=floor)).clip(lower=0)
            high = seen["ci_upper"] - seen["observed_rate"]
            ax.errorbar(
                seen["grade"], seen["observed_rate"], yerr=[low, high], fmt="s", capsize=3,
                label="observed rate (Jeffreys interval)",
            )  # fmt: skip
        else:
            ax.plot(seen["grade"], seen["observed_rate"], "s", label="observed default rate")
        ax.set_yscale("log")

    return {
        "roc.png": _png(roc_plot, "ROC, test window", "false positive rate", "true positive rate"),
        "calibration.png": _png(
            calibration_plot, "Calibration, test window", "mean PD", "observed default rate"
        ),
        "grades.png": _png(grades_plot, "Grade back-test, test window", "grade", "rate"),
    }


def data_uri(png: bytes) -> str:
    """A PNG as a data URI, for an ``<img>`` that loads nothing."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def grade_chart(share: pd.Series, previous_share: pd.Series, labels: Sequence[str]) -> bytes:
    """Grouped bars of the share of customers per grade: previous book (grey), now (blue)."""
    fig, ax = _figure(7.2, 2.8)
    x = np.arange(len(share))
    if previous_share.notna().any():
        ax.bar(x - 0.2, 100 * previous_share.to_numpy(float), 0.4, color="#9ca3af")
    ax.bar(x + 0.2, 100 * share.to_numpy(float), 0.4, color="#1d4ed8")
    ax.set_xticks(x, [f"{g}\n{label}" for g, label in zip(share.index, labels, strict=True)])
    ax.tick_params(axis="x", labelsize=7)
    ax.yaxis.set_major_formatter("{x:.0f}%")
    return _save(fig, ax)


def pd_chart(mean_pd: pd.Series, observed: pd.Series) -> bytes:
    """The book's mean PD (blue dots) and observed default rate (red squares) by month."""
    fig, ax = _figure(7.2, 2.4)
    x = np.arange(len(mean_pd))
    ax.plot(x, 100 * mean_pd.to_numpy(float), marker="o", color="#1d4ed8")
    ax.plot(x, 100 * observed.to_numpy(float), marker="s", color="#dc2626")
    ax.set_xticks(x, [f"{m:%Y-%m}" for m in mean_pd.index])
    ax.tick_params(axis="x", labelsize=8)
    ax.yaxis.set_major_formatter("{x:.1f}%")
    ax.margins(y=0.25)
    return _save(fig, ax)


def cash_chart(expected: Sequence[float], low: Sequence[float], high: Sequence[float]) -> bytes:
    """Expected receipts per week (blue bars) with their interval (grey lines), in millions."""
    fig, ax = _figure(7.2, 2.4)
    x = np.arange(1, len(expected) + 1)
    ax.bar(x, np.asarray(expected, float) / 1e6, 0.6, color="#1d4ed8")
    ax.vlines(x, np.asarray(low, float) / 1e6, np.asarray(high, float) / 1e6, color="#6b7280")
    ax.set_xticks(x)
    ax.tick_params(axis="x", labelsize=8)
    ax.yaxis.set_major_formatter("{x:.1f} M")
    return _save(fig, ax)


def sparkline(
    values: Sequence[float], width: int = 96, height: int = 22, min_range: float = 0.1
) -> Markup:
    """A small inline SVG line of ``values``: a missing value is a gap, the last point marked.

    The vertical range is at least ``min_range`` times the largest absolute value, so that a
    change of a few per cent does not fill the box (0: the values' own range). Empty markup
    where no value is known.
    """
    y = np.asarray(values, dtype=float)
    known = np.isfinite(y)
    if not known.any():
        return Markup("")
    low, high = float(y[known].min()), float(y[known].max())
    spread = max(high - low, min_range * max(abs(high), abs(low)), 1e-12)
    px = 3 + (width - 6) * np.arange(len(y)) / max(len(y) - 1, 1)
    py = 3 + (height - 6) * (0.5 - (y - (high + low) / 2) / spread)
    # one polyline per run of known values
    breaks = np.flatnonzero(np.diff(known.astype(int)) != 0) + 1
    runs = [r for r in np.split(np.arange(len(y)), breaks) if known[r[0]]]
    lines = "".join(
        '<polyline fill="none" stroke="#1d4ed8" stroke-width="1.5" points="'
        + " ".join(f"{px[i]:.1f},{py[i]:.1f}" for i in run)
        + '"/>'
        for run in runs
    )
    last = np.flatnonzero(known)[-1]
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-hidden="true">{lines}<circle cx="{px[last]:.1f}" '
        f'cy="{py[last]:.1f}" r="2.2" fill="#1d4ed8"/></svg>'
    )


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="tight")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, ax: Axes) -> bytes:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
