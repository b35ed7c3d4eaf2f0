"""Evaluate stage: discrimination and calibration of the calibrated PD model, out of time.

Inputs:
    data/features/snapshots.parquet: labelled snapshots with the model features.
    data/splits/split.parquet: the window of each (customer_id, as_of_date).
    data/models/booster.txt, data/models/calibrator.json, configs/master_scale.yaml: the model.
    data/raw/truth.parquet: only where it exists (synthetic data): the true PDs, for the
        oracle metrics on exactly the same rows.
Outputs:
    data/reports/metrics.json: DVC metrics of the test and calibration windows and per grade.
    data/reports/plots/{roc,pr,calibration,grades,lift}.csv: DVC plots of the test window.
    data/reports/figures/{roc,calibration,grades}.png: the same as pictures.
Params:
    evaluate.calibration_bins
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from models import metrics
from pipelines.artifacts import load_pd_model
from pipelines.config import Config, load_config, parse_args
from pipelines.io import (
    FEATURES,
    RAW,
    REPORTS,
    SPLITS,
    StageError,
    read_parquet,
    run_stage,
    write_bytes,
    write_csv,
    write_json,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SNAPSHOTS = FEATURES / "snapshots.parquet"
SPLIT = SPLITS / "split.parquet"
TRUTH = RAW / "truth.parquet"
METRICS = REPORTS / "metrics.json"
PLOTS = REPORTS / "plots"
FIGURES = REPORTS / "figures"
KEYS = ["customer_id", "as_of_date"]
WINDOWS = ("test", "calibration")
GRADE_METRICS = ("count", "defaults", "observed_rate", "mean_pd")

log = logging.getLogger("pipelines")


def _keyed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Select ``KEYS + columns`` with key dtypes made equal, so that merges line up."""
    out = frame[KEYS + columns].copy()
    out["customer_id"] = out["customer_id"].astype(str)
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).astype("datetime64[ns]")
    return out


def load_windows() -> pd.DataFrame:
    """Snapshots of the test and calibration windows, with the true PD where it exists."""
    snapshots = read_parquet(SNAPSHOTS)
    split = _keyed(read_parquet(SPLIT), ["window"])
    rows = _keyed(snapshots, [c for c in snapshots.columns if c not in KEYS])
    rows = rows.merge(split[split["window"].isin(WINDOWS)], on=KEYS, validate="one_to_one")
    if TRUTH.is_file():
        truth = _keyed(read_parquet(TRUTH), ["true_pd_12m"])
        rows = rows.merge(truth, on=KEYS, how="left", validate="one_to_one")
        if rows["true_pd_12m"].isna().any():
            raise StageError(
                f"{TRUTH} lacks the true PD of {rows['true_pd_12m'].isna().sum()} rows"
            )
    for window in WINDOWS:
        labels = rows.loc[rows["window"] == window, "label"]
        if labels.empty or labels.isna().any():
            raise StageError(
                f"the {window} window has {len(labels)} rows, "
                f"{labels.isna().sum()} unlabelled; it needs labelled rows"
            )
    return rows


def window_metrics(rows: pd.DataFrame, n_bins: int) -> dict[str, float | int]:
    """Scalar metrics of ``pd_12m`` and, with the truth, of the oracle on the same rows."""
    y = rows["label"].to_numpy(float)
    try:
        result = metrics.summarize(y, rows["pd_12m"].to_numpy(float), n_bins)
        if "true_pd_12m" in rows:
            oracle = metrics.summarize(y, rows["true_pd_12m"].to_numpy(float), n_bins)
            result |= {f"oracle_{k}": oracle[k] for k in ("auc", "gini", "brier", "ece")}
            result["auc_vs_oracle"] = result["auc"] / oracle["auc"]
    except ValueError as err:
        raise StageError(f"cannot evaluate the {rows['window'].iat[0]} window: {err}") from err
    return result


def _png(draw: Callable[[Axes], None], title: str, xlabel: str, ylabel: str) -> bytes:
    """Render one chart with the Agg canvas (no pyplot, no global backend) to PNG bytes."""
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
    roc: pd.DataFrame, calibration: pd.DataFrame, grades: pd.DataFrame, auc: float
) -> dict[str, bytes]:
    """Draw the ROC curve, the calibration curve and the grade table as PNG images."""

    def roc_plot(ax: Axes) -> None:
        ax.plot(roc["fpr"], roc["tpr"], label=f"model (AUC {auc:.3f})")
        ax.plot([0, 1], [0, 1], "--", color="grey", label="random")

    def calibration_plot(ax: Axes) -> None:
        top = max(calibration["mean_pd"].max(), calibration["observed_rate"].max())
        ax.plot([0, top], [0, top], "--", color="grey", label="perfect calibration")
        ax.plot(calibration["mean_pd"], calibration["observed_rate"], "o-", label="model")

    def grades_plot(ax: Axes) -> None:
        floor = 1e-4  # log scale, and grade 1's band starts at 0
        band = (grades["pd_lower"].clip(lower=floor), grades["pd_upper"])
        ax.vlines(grades["grade"], *band, color="lightgrey", linewidth=10, label="PD band")
        ax.plot(grades["grade"], grades["mean_pd"], "o-", label="mean PD")
        seen = grades[grades["observed_rate"] > 0]  # a zero rate has no place on a log axis
        ax.plot(seen["grade"], seen["observed_rate"], "s", label="observed default rate")
        ax.set_yscale("log")

    return {
        "roc.png": _png(roc_plot, "ROC, test window", "false positive rate", "true positive rate"),
        "calibration.png": _png(
            calibration_plot, "Calibration, test window", "mean PD", "observed default rate"
        ),
        "grades.png": _png(grades_plot, "Default rate by grade, test window", "grade", "rate"),
    }


def summary_text(report: dict) -> str:
    """A few human-readable lines of the headline test metrics."""
    t = report["test"]
    lines = [
        f"test window: {t['n_rows']} rows, {t['n_defaults']} defaults ({t['default_rate']:.2%})",
        f"  AUC {t['auc']:.3f}  Gini {t['gini']:.3f}  KS {t['ks']:.3f}  PR-AUC {t['pr_auc']:.3f}",
        f"  Brier {t['brier']:.4f}  ECE {t['ece']:.4f}  mean PD {t['mean_pd']:.2%}",
    ]
    if "oracle_auc" in t:
        lines.append(
            f"  oracle AUC {t['oracle_auc']:.3f}  Brier {t['oracle_brier']:.4f}  "
            f"model/oracle AUC {t['auc_vs_oracle']:.3f}"
        )
    return "\n".join(lines)


def run(cfg: Config) -> dict:
    """Evaluate the model on the test and calibration windows and write the reports."""
    n_bins = cfg.evaluate.calibration_bins
    model = load_pd_model()
    rows = load_windows()
    log.info("evaluate: scoring %d rows of the test and calibration windows", len(rows))
    try:
        rows["pd_12m"] = model.predict_pd(rows)
    except ValueError as err:  # the features table does not match the trained model
        raise StageError(f"{SNAPSHOTS}: {err}") from err
    report = {w: window_metrics(rows[rows["window"] == w], n_bins) for w in WINDOWS}
    test = rows[rows["window"] == "test"]
    y, p = test["label"].to_numpy(float), test["pd_12m"].to_numpy(float)
    scale = model.scale
    tables = {
        "roc": metrics.roc_points(y, p),
        "pr": metrics.pr_points(y, p),
        "calibration": metrics.calibration_curve(y, p, n_bins),
        "grades": metrics.grade_table(y, p, scale.assign(p), scale),
        "lift": metrics.lift_table(y, p),
    }
    # labels and bands are static (grades.csv has them); keep `dvc metrics diff` to what moves
    grade_rows = tables["grades"].set_index("grade")[list(GRADE_METRICS)]
    report["grades"] = {str(g): row for g, row in grade_rows.to_dict("index").items()}
    write_json(report, METRICS)
    for name, table in tables.items():
        write_csv(table, PLOTS / f"{name}.csv")
    figures = render_figures(
        tables["roc"], tables["calibration"], tables["grades"], report["test"]["auc"]
    )
    for name, png in figures.items():
        write_bytes(png, FIGURES / name)
    log.info(
        "evaluate: wrote %s, %d plot tables and %d figures", METRICS, len(tables), len(figures)
    )
    print(summary_text(report))
    return report


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.evaluate --config configs/params.yaml``."""
    args = parse_args(argv, description=__doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
