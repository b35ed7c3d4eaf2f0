"""The model card's Markdown, section by section, from the run's DVC outputs and version tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from features.catalogue import spec_for
from pipelines.runtime.config import Config

HEADLINE = [
    ("AUC", ("auc",), "{:.3f}"),
    ("AUC 95% interval", ("auc_ci_low", "auc_ci_high"), "[{:.3f}, {:.3f}]"),
    ("Gini", ("gini",), "{:.3f}"),
    ("KS", ("ks",), "{:.3f}"),
    ("PR-AUC", ("pr_auc",), "{:.3f}"),
    ("Brier", ("brier",), "{:.4f}"),
    ("ECE", ("ece",), "{:.4f}"),
    ("Top-decile lift", ("top_decile_lift",), "{:.2f}"),
    ("Top-decile capture", ("top_decile_capture",), "{:.1%}"),
    ("Mean PD", ("mean_pd",), "{:.2%}"),
]
TUNED = ("max_depth", "num_leaves", "min_child_samples", "learning_rate")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Return the lines of a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _fmt(values: dict, keys: tuple[str, ...], pattern: str) -> str:
    if not all(k in values for k in keys):
        return "n/a"
    return pattern.format(*(values[k] for k in keys))


def header(d: dict, tags: dict[str, str], cfg: Config) -> list[str]:
    """Identity of the version, purpose and intended use, the default definition."""
    reg, f, manifest = d["registry"], cfg.features, d["manifest"]
    horizon = d["features"]["horizon_months"]
    return [
        f"# Model card: {reg['model_name']} version {reg['model_version']}",
        "",
        f"- Registered as `{reg['model_uri']}` with alias `{reg['alias']}`; this card is "
        "logged to the version's MLflow run",
        (
            f"- Git commit: `{tags['git_commit']}`"
            + (" with uncommitted changes" if tags.get("git_dirty") == "true" else "")
            if "git_commit" in tags
            else "- Git commit: the version's `git_commit` tag in MLflow, and the copy of this "
            "card logged to its run"
        ),
        f"- Data: source `{manifest.get('source', 'unknown')}`"
        + (
            f" (file `{manifest['source_file']}`, MD5 `{manifest.get('source_md5', '?')}`)"
            if "source_file" in manifest
            else ""
        )
        + f", as of {manifest.get('as_of_date', 'unknown')}",
        "",
        "## Purpose and intended use",
        "",
        f"The probability that a business customer defaults within {horizon} months "
        "(PD), its grade on the master scale and the reasons, for every customer of a "
        "trade-credit book at each month end. It supports the credit-risk team's decisions on "
        "limits, payment terms and collection, within the credit policy. It is not meant for "
        "consumers, for customers without a trading history, or for pricing and capital "
        "figures without a validation of its own.",
        "",
        "## Default definition and horizon",
        "",
        "A customer defaults on the first date it has a non-disputed invoice "
        f"{f.default_days_past_due}+ days past due with at least {f.default_materiality:,.0f} "
        "overdue, files for insolvency, or is reported in the defaults table. A month-end "
        f"snapshot is labelled 1 when the customer defaults within the next {horizon} "
        "months; customers already in default are not scored.",
    ]


def data_section(d: dict, tags: dict[str, str], cfg: Config) -> list[str]:
    """Windows and their sizes, data hashes, the validation result."""
    w, v = d["windows"], d["validation"]
    windows = [
        (name, w[name].get("as_of", "-"), w[name]["rows"], w[name].get("customers", "n/a"),
         w[name]["defaults"])
        for name in ("train", "calibration", "test")
        if w.get(name, {}).get("rows")  # a cross-fitted split has no calibration window
    ]  # fmt: skip
    if w.get("strategy") == "by_customer":
        how = "Data observed at one as-of date: the windows are disjoint sets of customers."
        if w.get("cross_fit_folds"):
            how += (
                " No calibration customers are set aside: the model learns from every training "
                f"customer and its calibrator from their scores cross-fitted over "
                f"{w['cross_fit_folds']} folds of customers."
            )
    else:
        gap = w.get("train_gap_months")
        how = (
            "Out-of-time windows of month-end snapshots"
            + (
                f", {gap} months left out between training and calibration"
                if gap is not None
                else ""
            )
            + f", and {w.get('embargo_months')} months of embargo before the test window, so "
            "that no training or calibration label window reaches past the first test as-of date."
        )
    hashes = [(k.removeprefix("data_md5."), f"`{v}`") for k, v in tags.items() if "md5" in k]
    return [
        "## Data",
        "",
        how,
        "",
        *table(["window", "as-of dates", "rows", "customers", "defaults"], windows),
        "",
        f"Customers with snapshots: {d['features'].get('customers', 'n/a')}. Defaults by "
        f"trigger: {d['features'].get('defaults_by_trigger', 'n/a')}. Data validation: success "
        f"`{v.get('success')}`, {v.get('rows_rejected', 0)} rows rejected.",
        "",
        "Data hashes (MD5 of the ingested tables, also tags of the version):",
        "",
        *table(["table", "MD5"], sorted(hashes)),
    ]


def features_section(d: dict) -> list[str]:
    """Features by family, the features the stability screen left out, the baseline's."""
    used = d["train"]["features"]
    families: dict[str, list[str]] = {}
    for name in used:
        families.setdefault(spec_for(name).family, []).append(f"`{name}`")
    excluded = d["train"].get("excluded_features", {})
    card = d["baseline"]["scorecard"]
    return [
        "## Features",
        "",
        *table(["family", "features"], [(f, ", ".join(n)) for f, n in families.items()]),
        "",
        f"Left out by the stability screen ({_screened(d['train'])} features whose PSI between "
        "the fitting months and the early-stopping months of the training window is above the "
        "threshold: "
        "their effect is tied to the months they were seen in): "
        + (", ".join(f"`{n}` ({p:.2f})" for n, p in excluded.items()) or "none")
        + ".",
        "",
        f"The baseline scorecard uses {len(card['features'])} of them after its information-"
        f"value screen; left out for a wrongly signed coefficient: "
        f"{', '.join(card.get('dropped_sign', [])) or 'none'}.",
    ]


def training_section(d: dict) -> list[str]:
    """The chosen hyperparameters, the search, the calibration."""
    t, c = d["train"], d["calibration"]
    search = t.get("search", {})
    trials = pd.DataFrame(search.get("trials", []))
    rows = [
        (*(r.get(k, "") for k in TUNED), r["best_iteration"], f"{r['valid_auc']:.4f}",
         "**chosen**" if r["chosen"] else "")
        for r in trials.to_dict("records")
    ]  # fmt: skip
    lgb_name = {"min_child_samples": "min_data_in_leaf"}  # LightGBM's name of the setting
    chosen = {k: t["params"].get(lgb_name.get(k, k)) for k in TUNED}
    folds = t.get("cross_fit_folds")
    if folds:
        stopped = (
            f"the iteration of the best AUC cross-validated over {folds} folds of customers, "
            f"{t['valid_auc']:.4f}; refitted on every training row"
        )
        calibrated = f"on the training rows' {folds}-fold cross-fitted scores"
    else:
        stopped = f"early stopping, AUC {t['valid_auc']:.4f} on the latest training months"
        calibrated = "on the calibration window"
    return [
        "## Training and calibration",
        "",
        f"LightGBM with the catalogue's monotone constraints: {chosen}, "
        f"{t['best_iteration']} trees ({stopped}).",
        "",
        f"Search on the training window only: grid {search.get('grid', {})}; rule: "
        f"{search.get('rule', 'n/a')} (tolerance {search.get('auc_tolerance', 'n/a')}).",
        "",
        *table(
            [*TUNED, "trees", "cross-validated AUC" if folds else "early-stopping AUC", ""], rows
        ),
        "",
        f"Calibration {calibrated}: {c['method']}, the lowest cross-validated "
        f"{c.get('criterion', 'brier').replace('_', ' ')} ({_cross_validation(c)}), PD floor "
        f"{d['calibrator'].get('pd_floor', 0):.2%}.",
    ]


def performance_section(d: dict) -> list[str]:
    """Headline metrics of the model and the baseline on the test window."""
    m = d["metrics"]
    test, base = m["test"], m["baseline"]["test"]
    oracle = "oracle_auc" in test
    rows = []
    for name, keys, pattern in HEADLINE:
        row = [name, _fmt(test, keys, pattern), _fmt(base, keys, pattern)]
        if oracle:
            row.append(_fmt(test, tuple(f"oracle_{k}" for k in keys), pattern))
        rows.append(row)
    cmp = m["comparison"]
    return [
        "## Performance on the test window",
        "",
        f"{test['n_rows']} snapshots, {test['n_defaults']} defaults "
        f"({test['default_rate']:.2%}). Intervals: customer-level bootstrap.",
        "",
        *table(["metric", "model", "baseline", *(["oracle (true PD)"] if oracle else [])], rows),
        "",
        f"AUC of the model minus the baseline: {cmp['auc_difference']:+.3f} "
        f"[{cmp['auc_difference_ci_low']:+.3f}, {cmp['auc_difference_ci_high']:+.3f}].",
    ]


def backtest_section(d: dict, cfg: Config) -> list[str]:
    """The grade back-test table and its verdicts."""
    g, bt = d["grades"], d["metrics"]["backtest"]
    level = 1 - cfg.evaluate.backtest_alpha
    rows = [
        (r.grade, r.label, f"{r.pd_lower:.2%}-{r.pd_upper:.2%}", r.count, r.customers,
         r.defaults, f"{r.observed_rate:.2%}", f"{r.mean_pd:.2%}",
         f"[{r.ci_lower:.2%}, {r.ci_upper:.2%}]", f"{r.p_value:.3f}",
         ("pass" if r.passed else "**FAIL**") + (" (few)" if r.few_customers else ""))
        for r in g.itertuples()
    ]  # fmt: skip
    headers = ["grade", "label", "PD band", "rows", "customers", "defaults", "observed",
               "mean PD", f"{level:.0%} interval", "p-value", "verdict"]  # fmt: skip
    return [
        "## Grade back-test (test window)",
        "",
        f"Two-sided Jeffreys test of each grade's observed default rate against its mean PD at "
        f"the {cfg.evaluate.backtest_alpha:.0%} level, on the effective sample (distinct "
        "customers; a customer's monthly snapshots share their outcome window). Grades with "
        f"fewer than {cfg.evaluate.backtest_min_customers} customers are marked *few* and not "
        "judged for monotonicity.",
        "",
        *table(headers, rows),
        "",
        f"Verdict: {'passed' if bt['passed'] else 'FAILED'}; grades failing: "
        f"{bt['grades_failed'] or 'none'}; observed rates monotone over the judged grades: "
        f"{'yes' if bt['monotone'] else 'no (' + bt['monotonicity_breaks'] + ')'}. "
        f"Baseline: {'passed' if d['metrics']['baseline']['backtest']['passed'] else 'failed'}.",
    ]


def term_structure_section(d: dict) -> list[str]:
    """The PD within 1..12 months per horizon: the served curve, the hazard's own, the anchors."""
    h = d["metrics"].get("horizons")
    if not h or not h.get("fitted"):
        why = (h or {}).get("reason") or "no term structure in this model's evaluation"
        return ["## PD term structure", "", f"Not fitted: {why}."]
    names = {"model": "served", "hazard": "hazard model's own",
             "direct": "direct classifier", "oracle": "oracle (true PD)"}  # fmt: skip
    rows = []
    by_months = sorted(h["per_horizon"].items(), key=lambda item: int(item[0].rstrip("m")))
    for horizon, row in by_months:  # the JSON file keeps its keys sorted as text
        for key, label in names.items():
            if key in row:
                m = row[key]
                verdict = "pass" if m["backtest"]["passed"] else (
                    f"fail {m['backtest']['grades_failed']}"
                )  # fmt: skip
                rows.append((horizon, label, f"{m['auc']:.4f}", f"{m['brier']:.5f}",
                             f"{m['ece']:.4f}", f"{m['mean_pd']:.2%}",
                             f"{row['default_rate']:.2%}", verdict))  # fmt: skip
    gaps = [
        f"{key}: {g['mean']:+.4f} [{g['interval_95'][0]:+.4f}, {g['interval_95'][1]:+.4f}]"
        for key, g in h["auc_differences"].items()
    ]
    fit = h["fit"]
    return [
        "## PD term structure",
        "",
        "The PD within 1..12 months: a discrete-time hazard model on customer-months "
        f"({fit['person_periods']:,} of them, {fit['events']:,} defaults, every month observed by "
        f"{fit['observed_until']}), calibrated per horizon; served with the 12-month PD: the "
        "hazard's own at 1 month, moving log-linearly onto `pd_12m x F(k) / F(12)` at 12. Test "
        "window, out of time; the direct classifier is the usual recipe trained on "
        '"default within h months" (at 12 months: this model).',
        "",
        *table(
            ["horizon", "model", "AUC", "Brier", "ECE", "mean PD", "observed", "back-test"], rows
        ),  # fmt: skip
        "",
        "AUC differences (paired customer bootstrap, 95 %): " + "; ".join(gaps) + ".",
    ]


def stability_section(d: dict) -> list[str]:
    """PSI of the score and of the features, training window to test window."""
    s, psi = d["metrics"]["stability"], d["psi"]
    moved = psi[psi["band"] != "stable"]
    rows = [(f"`{r.feature}`", f"{r.psi:.3f}", r.band) for r in moved.itertuples()]
    return [
        "## Stability (training window -> test window)",
        "",
        f"Score PSI: model {s['model_score_psi']:.3f} ({s['model_score_band']}), baseline "
        f"{s['baseline_score_psi']:.3f} ({s['baseline_score_band']}). Features: "
        f"{s['features_stable']} stable (< 0.1), {s['features_watch']} to watch (0.1-0.25), "
        f"{s['features_shift']} shifted (> 0.25).",
        "",
        *(table(["feature", "PSI", "band"], rows) if rows else ["No feature outside 0.1."]),
    ]


def limitations(d: dict, cfg: Config) -> list[str]:
    """Known limitations, some of them read from this run's results."""
    m, t, c = d["metrics"], d["train"], d["calibration"]
    items = [
        f"{_screened(t).capitalize()} features whose distribution moved inside the training "
        f"window are left out ({', '.join(t.get('excluded_features', {})) or 'none this run'}); "
        "the industry cycle's relative features (index changes, the index against its own "
        "history, the sector's default rate against the book's) mean the same in every phase, "
        "but the model has learnt them only from the phases of the training window.",
        "The back-test treats customers as independent: a downturn makes defaults cluster and "
        "can fail a well-calibrated grade; a calm year can hide an optimistic one.",
        _calibration_limitation(c, m.get("grade_usage", {}).get("test", {})),
    ]
    months = _months(d["windows"].get("train", {}).get("as_of", ""))
    if months:
        horizon = d["features"]["horizon_months"]
        items.insert(
            0,
            f"The training window is {months} months of snapshots: with a "
            f"{horizon}-month horizon and an embargo before the test window, "
            "much of the history serves as gaps.",
        )
    if d["manifest"].get("source") == "synthetic":
        items.insert(0, "Trained and tested on the embedded synthetic book, not on real data.")
    if m["comparison"]["auc_difference_ci_low"] <= 0:
        items.append("The model's AUC lead over the baseline is within the bootstrap interval.")
    return ["## Known limitations", "", *(f"- {item}" for item in items)]


def _screened(train: dict) -> str:
    """The catalogue kinds the training record's stability screen judged, as words."""
    kinds = train.get("screen_kinds")  # records from before the kinds: every feature
    return "all" if kinds is None else " and ".join(kinds) or "no"


def _cross_validation(c: dict) -> str:
    """Each calibration method's cross-validated log loss (where recorded) and Brier, as words."""
    losses = c.get("cv_log_loss", {})
    return "; ".join(
        f"{m}: " + (f"log loss {losses[m]:.5f}, " if m in losses else "") + f"Brier {b:.5f}"
        for m, b in c.get("cv_brier", {}).items()
    )


def _calibration_limitation(c: dict, usage: dict) -> str:
    """What the calibration cannot know, and the grades the test window's PDs leave empty."""
    text = (
        f"The calibration ({c['method'].replace('_', ' ')}) is fitted on one window: strictly "
        "increasing in the score, so every distinct score has its own PD above the floor, but "
        "beyond that window's scores the PD is extrapolated along a logistic tail that no "
        "observed default confirms."
    )
    covered = usage.get("covered", [])
    beyond = sorted((g for g in usage.get("rows", {}) if int(g) not in covered), key=int)
    if usage.get("unused"):
        unused = ", ".join(map(str, usage["unused"]))
        text += f" Grades within the range of the test window's PDs that no row reaches: {unused}."
    if covered and beyond:
        text += f" Grades outside the range of the test window's PDs: {', '.join(beyond)}."
    return text


def _months(as_of: str) -> int | None:
    """Months spanned by an ``"first .. last"`` as-of range; None without one."""
    if " .. " not in as_of:
        return None
    first, last = (pd.Timestamp(x) for x in as_of.split(" .. "))
    return (last.year - first.year) * 12 + last.month - first.month + 1


def render(d: dict, tags: dict[str, str], cfg: Config) -> str:
    """The whole card as Markdown."""
    sections = [
        header(d, tags, cfg),
        data_section(d, tags, cfg),
        features_section(d),
        training_section(d),
        performance_section(d),
        backtest_section(d, cfg),
        term_structure_section(d),
        stability_section(d),
        limitations(d, cfg),
    ]
    return "\n\n".join("\n".join(s) for s in sections) + "\n"
