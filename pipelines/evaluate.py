"""Evaluate stage: the calibrated PD model against the baseline scorecard, out of time.

Both models are scored on the same rows. On the test window: AUC with a customer-level
bootstrap interval (and the interval of the model's lead over the baseline), Gini, KS, PR-AUC,
Brier, calibration error and curve, lift and capture of the riskiest decile; the grade back-test
(``models.backtest``); the population stability of the score and of every model feature from the
training window to the test window. On synthetic data also the oracle (true PDs), same rows.

Inputs:
    data/features/snapshots.parquet: labelled snapshots with the model features.
    data/splits/split.parquet: the window of each (customer_id, as_of_date).
    data/models/booster.txt, data/models/calibrator.json, configs/master_scale.yaml: the model.
    data/models/baseline.json: the baseline scorecard and its calibrator.
    data/raw/truth.parquet: only where it exists (synthetic data): the true PDs.
    data/validated/industry_index.parquet: only where it exists: the index of the stress test.
    data/models/hazard.txt, hazard.json: the term structure (``term_structure`` stage).
    data/features/default_dates.parquet: the outlook back-test's realised defaults.
    configs/policy.yaml, data/raw/customers.parquet, data/validated/invoices.parquet: the alert
        rules and the credit limit replayed month by month on the test window.
Outputs:
    data/reports/metrics.json: DVC metrics: ``test`` and ``calibration`` (the model),
        ``baseline``, ``comparison``, ``backtest``, ``stability``, ``grades``, and the model's
        ``distinct_pds`` and ``grade_usage`` on the test window and its latest month, and
        ``industry_cycle``: each industry feature's gain and mean contribution on the test
        window, and with an index the mean PD per sector when every sector's latest index is
        one standard deviation lower (``models.cycle``), and ``monitoring``: month over month on
        the test window, the model's grade changes against the true PDs', the PD and grade
        alerts with their precision, the share told to reduce the limit (``pipelines.book.replay``),
        and ``horizons``: the term structure per horizon (``evaluate.horizons``) on the test
        window, the served curve (``model``: ``models.term_curve.served_curve``), the hazard model's
        own (``hazard``), a direct classifier per horizon trained by the usual recipe on
        "defaults within h months" (``direct``; at 12 months the model itself) and the oracle:
        AUC, Brier, ECE, the grade back-test, the AUC differences with their intervals and the
        targets (``models.horizons``), and ``outlook_backtest``: the region and sector
        outlook's forecasts made at every month end from the test window's first on (out of
        time for the served model) against the default rates realised 3 and 6 months later,
        beside the naive forecasts "the last 6 / 12 months' rate", mean absolute errors and the
        interval's coverage at ``score.outlook``'s correlation (``models.outlook``).
    data/reports/plots/*.csv: DVC plots: ROC, PR, calibration, lift, grades (with the
        back-test), the baseline's ROC and calibration, and the feature PSI table.
    data/reports/figures/{roc,calibration,grades}.png: pictures of the same.
Params:
    evaluate, features.index_publication_lag_months (the stress test recomputes index features),
    train and calibrate (the direct classifier per horizon is trained by their recipe),
    score.outlook and score.loss_distribution (the outlook interval's simulation)
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from models import backtest, bootstrap, cycle, horizons, metrics, outlook
from models.master_scale import MasterScale, grade_usage
from models.pd_model import PDModel
from models.recipe import fit_pd_model, model_features
from models.stability import feature_stability, population_stability, stability_band
from pipelines.book.replay import account_tables, monitoring_figures
from pipelines.io.artifacts import (
    load_attribute_specs,
    load_baseline,
    load_pd_model,
    load_policy,
)
from pipelines.io.files import (
    StageError,
    read_json,
    read_parquet,
    run_stage,
    write_bytes,
    write_csv,
    write_json,
)
from pipelines.io.paths import Paths
from pipelines.io.windows import keyed, present_windows, window_rows
from pipelines.render.figures import render_figures
from pipelines.runtime.config import Config, EvaluateConfig, load_config, parse_args
from pipelines.runtime.recipe import booster_settings, calibrator_settings

WINDOWS = ("test", "calibration", "train")
SCORES = {"model": "pd_12m", "baseline": "baseline_pd"}
GRADE_METRICS = ("count", "customers", "defaults", "observed_rate", "mean_pd", "p_value")
STRESS_SD = -1.0  # the stress scenario: every sector's latest index one standard deviation lower

log = logging.getLogger("pipelines")


def window_metrics(rows: pd.DataFrame, n_bins: int, column: str = "pd_12m") -> dict:
    """Scalar metrics of ``column`` and, with the truth, of the oracle on the same rows."""
    y = rows["label"].to_numpy(float)
    try:
        result = metrics.summarize(y, rows[column].to_numpy(float), n_bins)
        result |= metrics.top_decile(y, rows[column].to_numpy(float))
        if "true_pd_12m" in rows and column == SCORES["model"]:
            oracle = metrics.summarize(y, rows["true_pd_12m"].to_numpy(float), n_bins)
            result |= {f"oracle_{k}": oracle[k] for k in ("auc", "gini", "brier", "ece")}
            result["auc_vs_oracle"] = result["auc"] / oracle["auc"]
    except ValueError as err:
        raise StageError(f"cannot evaluate the {rows['window'].iat[0]} window: {err}") from err
    return result


def auc_intervals(test: pd.DataFrame, e: EvaluateConfig) -> dict[str, dict[str, float]]:
    """95% customer-level bootstrap intervals of each model's AUC and of model minus baseline."""
    y = test["label"].to_numpy(float)
    draws = bootstrap.bootstrap_auc(
        y,
        [test[c].to_numpy(float) for c in SCORES.values()],
        n_boot=e.bootstrap_samples,
        seed=e.seed,
        groups=test["customer_id"].to_numpy(),
    )
    out = {}
    for i, name in enumerate(SCORES):
        low, high = bootstrap.percentile_interval(draws[:, i])
        out[name] = {"auc_ci_low": low, "auc_ci_high": high}
    low, high = bootstrap.percentile_interval(draws[:, 0] - draws[:, 1])
    out["comparison"] = {"auc_difference_ci_low": low, "auc_difference_ci_high": high}
    return out


def grade_backtest(
    test: pd.DataFrame, column: str, scale: MasterScale, e: EvaluateConfig
) -> pd.DataFrame:
    """The grade back-test table of ``column`` on the test rows."""
    p = test[column].to_numpy(float)
    return backtest.grade_backtest(
        test["label"].to_numpy(float),
        p,
        scale.assign(p),
        scale,
        test["customer_id"].to_numpy(),
        alpha=e.backtest_alpha,
        min_customers=e.backtest_min_customers,
    )


def stability(rows: pd.DataFrame, features: list[str], n_bins: int) -> tuple[pd.DataFrame, dict]:
    """PSI of every model feature and of both scores, training window -> test window."""
    train, test = rows[rows["window"] == "train"], rows[rows["window"] == "test"]
    table = feature_stability(train[features], test[features], n_bins)
    summary = {}
    for name, column in SCORES.items():
        psi = population_stability(train[column], test[column], n_bins)
        summary[f"{name}_score_psi"] = psi
        summary[f"{name}_score_band"] = stability_band(psi)
    for band in ("stable", "watch", "shift"):
        summary[f"features_{band}"] = int((table["band"] == band).sum())
    summary["least_stable_feature"] = str(table["feature"].iat[0]) if len(table) else ""
    return table, summary


def pd_resolution(test: pd.DataFrame, scale: MasterScale) -> dict:
    """Distinct model PDs and grade usage on the test window and in its latest month."""
    latest_date = test["as_of_date"].max()
    out: dict = {"distinct_pds": {}, "grade_usage": {}}
    for name, rows in (("test", test), ("latest_month", test[test["as_of_date"] == latest_date])):
        p = rows[SCORES["model"]].to_numpy(float)
        out["distinct_pds"][name] = {"rows": len(rows), "distinct": len(np.unique(p))}
        out["grade_usage"][name] = grade_usage(scale, p, rows["customer_id"].to_numpy())
    out["grade_usage"]["latest_month"]["as_of_date"] = str(pd.Timestamp(latest_date).date())
    return out


def industry_cycle(
    test: pd.DataFrame, model: PDModel, index: pd.DataFrame | None, lag_months: int
) -> dict:
    """Industry features' weight on the test window and, with the index, the stress per sector.

    Args:
        test: The test window's rows.
        model: The PD model.
        index: The validated industry index (``None``: the data has none, no stress test).
        lag_months: The index's publication lag the features were built with.
    """
    gains = cycle.industry_gains(model, test).set_index("feature")
    out: dict = {"gains": gains.to_dict("index")}
    if index is not None:
        stress = cycle.industry_stress(model, test, index, lag_months, STRESS_SD)
        sectors = stress.set_index("industry").to_dict("index")
        out["stress"] = {"shock_sd": STRESS_SD, "sectors": sectors}
        top = stress.iloc[0]
        log.info(
            "stress: index %+.0f sd -> mean PD %+.2f pp in %s (most), %+.2f pp in %s (least)",
            *(STRESS_SD, 100 * top["pd_change"], top["industry"]),
            *(100 * stress["pd_change"].iat[-1], stress["industry"].iat[-1]),
        )
    return out


def build_report(
    rows: pd.DataFrame, model: PDModel, cfg: Config
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """All metrics and plot tables of both models."""
    e = cfg.evaluate
    n_bins = e.calibration_bins
    # a cross-fitted split has no calibration window
    by_window = {w: r for w in ("test", "calibration") if len(r := rows[rows["window"] == w])}
    report = {w: window_metrics(r, n_bins) for w, r in by_window.items()}
    report["baseline"] = {
        w: window_metrics(r, n_bins, SCORES["baseline"]) for w, r in by_window.items()
    }
    test = by_window["test"]
    intervals = auc_intervals(test, e)
    report["test"] |= intervals["model"]
    report["baseline"]["test"] |= intervals["baseline"]
    difference = report["test"]["auc"] - report["baseline"]["test"]["auc"]
    report["comparison"] = {"auc_difference": difference, **intervals["comparison"]}
    # a lead is claimed only when the whole 95% interval is above 0; below 0: it loses
    low, high = (
        intervals["comparison"]["auc_difference_ci_low"],
        intervals["comparison"]["auc_difference_ci_high"],
    )
    report["comparison"]["model_beats_baseline"] = bool(low > 0)
    report["comparison"]["verdict"] = "beats" if low > 0 else "loses" if high < 0 else "tied"
    grades = grade_backtest(test, SCORES["model"], model.scale, e)
    report["backtest"] = backtest.summarize_backtest(grades, e.backtest_alpha)
    baseline_grades = grade_backtest(test, SCORES["baseline"], model.scale, e)
    report["baseline"]["backtest"] = backtest.summarize_backtest(baseline_grades, e.backtest_alpha)
    psi_table, report["stability"] = stability(rows, model.feature_names, e.psi_bins)
    by_grade = grades.set_index("grade")[list(GRADE_METRICS)].to_dict("index")
    report["grades"] = {str(g): row for g, row in by_grade.items()}  # plain Python numbers
    report |= pd_resolution(test, model.scale)
    tables = plot_tables(test, grades, n_bins) | {"stability": psi_table}
    return report, tables


def plot_tables(test: pd.DataFrame, grades: pd.DataFrame, n_bins: int) -> dict[str, pd.DataFrame]:
    """The DVC plot tables of the test window."""
    y = test["label"].to_numpy(float)
    p, b = (test[c].to_numpy(float) for c in SCORES.values())
    return {
        "roc": metrics.roc_points(y, p),
        "pr": metrics.pr_points(y, p),
        "calibration": metrics.calibration_curve(y, p, n_bins),
        "grades": grades,
        "lift": metrics.lift_table(y, p),
        "roc_baseline": metrics.roc_points(y, b),
        "calibration_baseline": metrics.calibration_curve(y, b, n_bins),
    }


def summary_text(report: dict) -> str:
    """The model and the baseline side by side, and the verdicts, as printable lines."""
    t, b = report["test"], report["baseline"]["test"]
    rows = [
        ("AUC", "{auc:.3f} [{auc_ci_low:.3f}, {auc_ci_high:.3f}]"),
        ("Gini", "{gini:.3f}"),
        ("KS", "{ks:.3f}"),
        ("PR-AUC", "{pr_auc:.3f}"),
        ("Brier", "{brier:.4f}"),
        ("ECE", "{ece:.4f}"),
        ("top-decile lift", "{top_decile_lift:.2f}"),
        ("top-decile capture", "{top_decile_capture:.1%}"),
        ("mean PD", "{mean_pd:.2%}"),
    ]
    lines = [
        f"test window: {t['n_rows']} rows, {t['n_defaults']} defaults ({t['default_rate']:.2%})",
        f"  {'':<20}{'model':<24}baseline",
        *(f"  {name:<20}{fmt.format(**t):<24}{fmt.format(**b)}" for name, fmt in rows),
    ]
    c, bt, s = report["comparison"], report["backtest"], report["stability"]
    lines.append(
        f"  AUC model - baseline {c['auc_difference']:+.3f} "
        f"[{c['auc_difference_ci_low']:+.3f}, {c['auc_difference_ci_high']:+.3f}]: "
        f"{c['verdict']} the baseline"
    )
    if "oracle_auc" in t:
        lines.append(
            f"  oracle AUC {t['oracle_auc']:.3f}  Brier {t['oracle_brier']:.4f}  "
            f"model/oracle AUC {t['auc_vs_oracle']:.3f}"
        )
    verdict = {True: "passed", False: "FAILED"}
    lines.append(
        f"grade back-test (Jeffreys, alpha {bt['alpha']}): {verdict[bt['passed']]}; grades "
        f"failing: {bt['grades_failed'] or 'none'}; monotone: {'yes' if bt['monotone'] else 'NO'}"
        f" (baseline: {verdict[report['baseline']['backtest']['passed']].lower()})"
    )
    lines.append(
        f"stability train -> test: score PSI {s['model_score_psi']:.3f} ({s['model_score_band']}); "
        f"features stable/watch/shift {s['features_stable']}/{s['features_watch']}/"
        f"{s['features_shift']}"
    )
    return "\n".join(lines)


def run(cfg: Config, paths: Paths) -> dict:
    """Evaluate both models and write the reports."""
    model = load_pd_model(paths)
    baseline = load_baseline(paths.baseline)
    rows = window_rows(paths, present_windows(paths, WINDOWS), truth=True)
    log.info("evaluate: scoring %d rows of the test, calibration and training windows", len(rows))
    try:
        rows["pd_12m"] = model.predict_pd(rows)
        rows["baseline_pd"] = baseline.predict_pd(rows)
    except ValueError as err:  # the features table does not match the trained models
        raise StageError(f"{paths.snapshots}: {err}") from err
    report, tables = build_report(rows, model, cfg)
    index_path = paths.validated_table("industry_index")
    index = read_parquet(index_path) if index_path.is_file() else None
    report["industry_cycle"] = industry_cycle(
        rows[rows["window"] == "test"], model, index, cfg.features.index_publication_lag_months
    )
    test, policy = rows[rows["window"] == "test"], load_policy(paths.policy)
    report["monitoring"] = monitoring_figures(test, model.scale, policy, *account_tables(paths))
    report["horizons"] = horizons_report(rows, model, cfg, paths)
    report["outlook_backtest"] = outlook_backtest(model, cfg, paths)
    write_json(report, paths.metrics)
    for name, table in tables.items():
        write_csv(table, paths.plot(name))
    figures = render_figures(
        {"model": tables["roc"], "baseline": tables["roc_baseline"]},
        {"model": tables["calibration"], "baseline": tables["calibration_baseline"]},
        tables["grades"],
        {"model": report["test"]["auc"], "baseline": report["baseline"]["test"]["auc"]},
    )
    for name, png in figures.items():
        write_bytes(png, paths.figures / name)
    log.info(
        "evaluate: wrote %s, %d plot tables, %d figures", paths.metrics, len(tables), len(figures)
    )
    print(summary_text(report))
    return report


def horizons_report(rows: pd.DataFrame, model: PDModel, cfg: Config, paths: Paths) -> dict:
    """The term structure per horizon on the test window (``metrics.json`` ``horizons``).

    ``rows``: the windows' rows with the model's ``pd_12m`` (and the true PDs, synthetic data).
    """
    if model.term_structure is None:
        return {"fitted": False, "reason": read_json(paths.hazard).get("reason")}
    opts = cfg.evaluate
    test = rows[rows["window"] == "test"].reset_index(drop=True)
    y = horizons.outcomes(test, opts.horizons, horizons.labels_known_until(test))
    X = model.feature_frame(test)
    served = model.term_frame(test, X, test["pd_12m"].to_numpy())
    own = model.term_structure.predict_cumulative(X)
    predictions: dict[str, dict[int, np.ndarray]] = {
        "model": {h: served[f"pd_{h}m"].to_numpy() for h in opts.horizons},
        "hazard": {h: own[:, h - 1] for h in opts.horizons},
    }
    direct = direct_anchors(rows, model, cfg, paths) if opts.direct_anchors else {}
    if direct:
        predictions["direct"] = {h: fitted.predict_pd(test) for h, fitted in direct.items()}
        if 12 in opts.horizons:  # at 12 months the served PD is the direct classifier
            predictions["direct"][12] = test["pd_12m"].to_numpy()
    truth = {h: f"true_pd_{h}m" for h in opts.horizons if f"true_pd_{h}m" in test}
    if truth:
        predictions["oracle"] = {h: test[c].to_numpy(float) for h, c in truth.items()}
    table = horizons.per_horizon(
        test, y, predictions, model.scale, opts.calibration_bins, opts.backtest_alpha
    )
    pairs = {h: [("model", "hazard")] + ([("model", "direct")] if h in direct else []) for h in y}
    return {
        "fitted": True,
        "fit": model.term_structure.fit_record_,
        "per_horizon": table,
        "auc_differences": horizons.auc_differences(
            test, y, predictions, pairs, opts.bootstrap_samples, opts.seed
        ),
        "targets": horizons.targets(table, "model", "direct"),
        "pd_terms_mean": float(served["pd_terms"].mean()),
    }


def outlook_predictions(
    model: PDModel, paths: Paths
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """The served term structure from the test window on, every snapshot's keys, the start.

    Predictions: ``customer_id``, ``as_of_date``, the groupings and ``pd_1m`` .. of every
    snapshot of the test and unlabelled windows; the population (every snapshot's keys) is
    what the naive rates count; the start is the test window's first as-of date.
    """
    windows = present_windows(paths, ["test", "unlabeled"])
    rows = window_rows(paths, windows, labelled=False).reset_index(drop=True)
    start = rows.loc[rows["window"] == "test", "as_of_date"].min()
    keys = ["customer_id", "as_of_date", *outlook.GROUPINGS]
    predictions = rows[keys].join(model.term_frame(rows))
    return predictions, keyed(read_parquet(paths.snapshots))[keys], start


def outlook_backtest(model: PDModel, cfg: Config, paths: Paths) -> dict:
    """The region and sector outlook back-tested from the test window on (``models.outlook``).

    Forecasts: the served term structure of every snapshot from the test window's first
    as-of date on (test and unlabelled windows); the naive rates from every snapshot.
    """
    if model.term_structure is None:
        return {"fitted": False, "reason": "the model has no term structure"}
    predictions, population, start = outlook_predictions(model, paths)
    opts, loss = cfg.score.outlook, cfg.score.loss_distribution
    rho = loss.asset_correlation if opts.asset_correlation is None else opts.asset_correlation
    interval = {
        "level": opts.level, "n_scenarios": min(opts.scenarios, 2_000), "seed": opts.seed,
        "asset_correlation": rho, "sector_correlation": loss.sector_correlation,
    }  # fmt: skip
    return outlook.backtest_outlook(
        predictions, read_parquet(paths.default_dates), population["as_of_date"].max(),
        interval=interval, population=population, start=start,
    )  # fmt: skip


def direct_anchors(
    rows: pd.DataFrame, model: PDModel, cfg: Config, paths: Paths
) -> dict[int, PDModel]:
    """A classifier per horizon below 12 months, by the train and calibrate stages' recipe.

    Fitted on "defaults within h months" of the training window, calibrated on the
    calibration window; none where the split has no calibration window.
    """
    windows = {w: rows[rows["window"] == w] for w in ("train", "calibration")}
    if windows["calibration"].empty:
        log.warning("no calibration window: no direct classifier per horizon to compare with")
        return {}
    end = horizons.labels_known_until(rows)
    features = model_features(windows["train"])
    fitted = {}
    for h in (h for h in cfg.evaluate.horizons if h != 12):
        labelled = {
            w: part.assign(label=horizons.default_within(part, h, end).to_numpy())
            for w, part in windows.items()
        }
        fitted[h], _ = fit_pd_model(
            labelled["train"], labelled["calibration"], features, booster_settings(cfg),
            calibrator_settings(cfg), model.scale, attributes=load_attribute_specs(paths),
        )  # fmt: skip
        log.info("evaluate: direct classifier of %d months fitted", h)
    return fitted


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.evaluate --config configs/params.yaml``."""
    args = parse_args(argv, description=__doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
