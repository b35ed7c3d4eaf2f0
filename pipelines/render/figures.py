"""PNG pictures of the evaluation, for reading offline (DVC's own plots need a CDN).

Matplotlib's Agg canvas is used directly: no pyplot, no global backend.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

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
