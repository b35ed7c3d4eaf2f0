"""Report stage: the portfolio report, one self-contained HTML page for the risk team.

Headline figures, their trend over the months of the history, grades now and last month, the
migration matrix, concentration (top exposures, by customer, sector and region) with expected
loss, the 12-month loss distribution (VaR, expected shortfall and their contributions, as the
score stage simulated them), the lifetime expected credit loss and the provision matrix by ageing
bucket, a risk map (region x month: mean PD and observed default rate), the
outlook 3 and 6 months ahead by region and sector with its back-test, the largest PD moves,
the alerts by rule and severity and a model summary; in ``score.language``, printable on A4,
linked to the customer pages.

Inputs:
    data/scored/summary.json (as-of and previous dates; the language; the loss distribution;
    the lifetime ECL and the provision matrix),
    data/scored/history/ (the books of the last ``report.trend_months`` month ends and of the
    previous run; the book's currency), data/scored/alerts.csv,
    data/features/snapshots.parquet (labels: observed default rates), configs/policy.yaml
    (high-risk grades), configs/master_scale.yaml (grade labels), data/features/summary.json
    (the label horizon), data/reports/registry.json,
    data/reports/metrics.json and data/reports/calibration.json (model summary; the outlook's
    back-test).
Outputs:
    data/reports/portfolio.html.
Params:
    report (trend_months, top_movers, max_alerts).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipelines.book.history import history_dates, read_book
from pipelines.io.artifacts import load_master_scale, load_policy
from pipelines.io.files import StageError, read_json, read_parquet, run_stage, write_bytes
from pipelines.io.paths import Paths
from pipelines.render.portfolio import page_context, render
from pipelines.runtime.config import Config, load_config, parse_args

LABELS = ["customer_id", "as_of_date", "region", "label"]
TOP_INVOICES = 20  # the collections worklist's first rows in the report

log = logging.getLogger("pipelines.report")


def run(cfg: Config, paths: Paths) -> None:
    """Render the portfolio report of the latest scoring run."""
    summary = read_json(paths.scored_summary)
    as_of = pd.Timestamp(summary["as_of_date"])
    months = [d for d in history_dates(paths.history) if d <= as_of][-cfg.report.trend_months :]
    if as_of not in months:
        raise StageError(f"no scored book of {as_of:%Y-%m-%d} in the history: rerun score")
    before = summary.get("previous_as_of_date")
    snapshots = read_parquet(paths.snapshots)
    context = page_context(
        summary=summary,
        books={m: read_book(m, paths.history) for m in months},
        previous=read_book(pd.Timestamp(before), paths.history) if before else None,
        alerts=_read_csv(paths.alerts),
        labels=snapshots[[c for c in LABELS if c in snapshots.columns]],
        scale=load_master_scale(paths.master_scale),
        high_risk_grade=load_policy(paths.policy).high_risk_grade,
        horizon_months=int(read_json(paths.features_summary)["horizon_months"]),
        model=model_summary(paths, summary["model_version"], cfg.promote.champion_alias),
        top_movers=cfg.report.top_movers,
        max_alerts=cfg.report.max_alerts,
        language=summary.get("language", "en"),
        collections=collections_inputs(paths, as_of),
    )
    write_bytes(render(context).encode("utf-8"), paths.portfolio)
    log.info(
        "wrote %s (as of %s, %d months of history)",
        *(paths.portfolio, summary["as_of_date"], len(months)),
    )


def collections_inputs(paths: Paths, as_of: pd.Timestamp) -> dict | None:
    """The collections stage's figures and worklist of ``as_of``; ``None``: none (logged)."""
    report = _optional_json(paths.payment_timing)
    if report.get("as_of_date") != f"{as_of:%Y-%m-%d}" or not paths.collections.is_file():
        log.warning("no collections figures of %s: the report leaves the section out",
                    f"{as_of:%Y-%m-%d}")  # fmt: skip
        return None
    if report.get("skipped"):
        log.warning("no collections figures: %s; the report leaves the section out",
                    report["skipped"])  # fmt: skip
        return None
    return {
        "report": report,
        "worklist": _read_csv(paths.collections),
        "top": TOP_INVOICES,
        "missed_after_days": load_policy(paths.policy).collections.missed_after_days,
    }


def model_summary(paths: Paths, version: int, alias: str) -> dict:
    """The scoring model (``version``), the gate's decision and the latest evaluation.

    The test-window metrics and calibration are those of the latest registered version
    (``metrics_version``), which is the scoring one unless the gate refused it.
    """
    registry = read_json(paths.registry_record)
    gate = _optional_json(paths.promotion)
    metrics = _optional_json(paths.metrics)
    calibration = _optional_json(paths.calibration_report)
    grades = metrics.get("grades", {}) if isinstance(metrics.get("grades"), dict) else {}
    return {
        "name": registry.get("model_name", ""),
        "version": version,
        "alias": alias,
        "gate": gate,
        "metrics_version": registry.get("model_version", ""),
        "test": metrics.get("test", {}) if isinstance(metrics.get("test"), dict) else {},
        "calibration_method": calibration.get("method", "n/a"),
        "grades": [
            {"grade": int(g), **v} for g, v in sorted(grades.items(), key=lambda i: int(i[0]))
        ],
        "monitoring": monitoring_summary(metrics.get("monitoring")),
        # the 3- and 6-month outlook's back-test (the report's outlook section)
        "outlook_backtest": metrics.get("outlook_backtest"),
    }


def monitoring_summary(found: object) -> dict:
    """The evaluation's month-over-month figures (``monitoring``), one table row per month.

    Empty where the metrics have none (an evaluation from before they were added).
    """
    if not isinstance(found, dict) or not isinstance(found.get("alerts"), dict):
        return {}
    alerts, plain = found["alerts"], found.get("alerts_without_hysteresis", {})
    limits = found.get("limits", {})
    months = [
        {
            "as_of_date": date,
            **row,
            "alerts_without_hysteresis": plain.get("by_month", {}).get(date, {}).get("alerts"),
            **{
                f"reduce_{name}": limits[name]["by_month"].get(date, {})
                for name in ("shipped", "on_month_grade", "truth")
                if isinstance(limits.get(name), dict)
            },
        }
        for date, row in alerts.get("by_month", {}).items()
    ]
    return {**found, "months": months}


def _optional_json(path: Path) -> dict:
    if not path.is_file():
        log.warning("%s not found: the model summary leaves it out", path)
        return {}
    found = read_json(path)
    return found if isinstance(found, dict) else {}


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise StageError(f"missing input {path}: run the score stage first (dvc repro)")
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.report --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
