"""Promote the challenger to champion when it is at least as good, or roll the champion back.

``python -m pipelines.promote`` loads the ``challenger`` and the current ``champion`` from the
registry and scores the same rows with both: the labelled test window of the current data. The
challenger becomes champion only if

* its AUC is not below the champion's by more than ``promote.auc_tolerance``, nor below the
  floor ``promote.min_auc``;
* it is calibrated: expected calibration error at most ``promote.max_ece`` and mean PD within
  ``promote.max_mean_pd_gap`` (relative) of the observed default rate;
* it passes the grade back-test (``models.backtest``: every grade consistent with its PD at
  ``evaluate.backtest_alpha``, the judged grades monotone in their default rate).

With no champion yet, the first challenger that passes the last two becomes champion. Otherwise
the command says why and exits with status 1. Every decision is written as tags of the
challenger's version (``promotion.*``) and of the champion it replaces.

``python -m pipelines.promote --rollback [VERSION]`` points the champion back at VERSION (by
default the champion the current one replaced) and tags both versions (``rollback.*``).

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet, the MLflow registry.
Params:
    promote, register (tracking_uri, model_name, alias), evaluate (calibration_bins,
    backtest_alpha, backtest_min_customers)
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from models import backtest, metrics
from pipelines.book.rows import score_rows
from pipelines.io.artifacts import load_master_scale
from pipelines.io.files import StageError, run_stage
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.modelstore import registry
from pipelines.runtime.config import Config, load_config

log = logging.getLogger("pipelines.promote")


def test_rows(paths: Paths) -> pd.DataFrame:
    """The labelled snapshots of the current test window, with defaults and non-defaults."""
    rows = window_rows(paths, ["test"])
    if rows["label"].nunique() < 2:
        raise StageError("the test window needs labelled rows with defaults and non-defaults")
    return rows


def assess(model: Any, rows: pd.DataFrame, cfg: Config, paths: Paths) -> dict[str, Any]:
    """Score ``rows`` with a registered pyfunc; return its AUC, calibration and back-test."""
    out = score_rows(rows, model)
    y, p = rows["label"].to_numpy(float), out["pd_12m"].to_numpy(float)
    e = cfg.evaluate
    table = backtest.grade_backtest(
        y,
        p,
        out["grade"].to_numpy(int),
        load_master_scale(paths.master_scale),
        rows["customer_id"].to_numpy(),
        alpha=e.backtest_alpha,
        min_customers=e.backtest_min_customers,
    )
    return {
        "auc": metrics.auc(y, p),
        "ece": metrics.expected_calibration_error(y, p, e.calibration_bins),
        "mean_pd_gap": float(p.mean() / y.mean() - 1),
        "backtest": backtest.summarize_backtest(table, e.backtest_alpha),
    }


def decide(challenger: dict, champion: dict | None, cfg: Config) -> list[str]:
    """Reasons to refuse the challenger; empty when it may become champion."""
    rules, reasons = cfg.promote, []
    if challenger["auc"] < rules.min_auc:
        reasons.append(f"AUC {challenger['auc']:.4f} is below the floor {rules.min_auc}")
    if champion is not None and challenger["auc"] < champion["auc"] - rules.auc_tolerance:
        reasons.append(
            f"AUC {challenger['auc']:.4f} is below the champion's {champion['auc']:.4f} by more "
            f"than the tolerance {rules.auc_tolerance}"
        )
    if challenger["ece"] > rules.max_ece:
        reasons.append(f"calibration error {challenger['ece']:.4f} exceeds {rules.max_ece}")
    if abs(challenger["mean_pd_gap"]) > rules.max_mean_pd_gap:
        reasons.append(
            f"mean PD is {challenger['mean_pd_gap']:+.1%} off the observed default rate "
            f"(bound {rules.max_mean_pd_gap:.0%})"
        )
    bt = challenger["backtest"]
    if not bt["grades_consistent"]:
        reasons.append(f"grade back-test fails in grades {bt['grades_failed']}")
    if not bt["monotone"]:
        reasons.append(f"observed default rates are not monotone: {bt['monotonicity_breaks']}")
    return reasons


def run(cfg: Config, paths: Paths) -> dict[str, Any]:
    """Compare challenger and champion on the test window; move the alias if allowed."""
    r, champion_alias = cfg.register_, cfg.promote.champion_alias
    uri = paths.tracking_uri(r.tracking_uri)
    current = registry.aliases(r.model_name, uri)
    if r.alias not in current:
        raise StageError(f"model {r.model_name!r} has no {r.alias!r} version: run dvc repro")
    new, old = current[r.alias], current.get(champion_alias)
    if new == old:
        print(f"version {new} is already the {champion_alias}; nothing to do")
        return {"decision": "unchanged", "version": new}
    rows = test_rows(paths)
    found = {}
    for name, version in (("challenger", new), ("champion", old)):
        if version is None:
            continue
        model = registry.load_model(f"models:/{r.model_name}/{version}", uri)
        try:
            found[name] = assess(model, rows, cfg, paths)
        except StageError as err:  # e.g. an old champion needs features the data lacks now
            what = f"the {name}, version {version}, cannot score the test window"
            raise StageError(f"{what}: {err}") from None
    reasons = decide(found["challenger"], found.get("champion"), cfg)
    decision = "refused" if reasons else "promoted"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    tags = decision_tags(decision, reasons, found, old, len(rows), now)
    registry.set_version_tags(r.model_name, new, tags, uri)
    if not reasons:
        registry.set_alias(r.model_name, champion_alias, new, uri)
        if old is not None:
            replaced = {"promotion.replaced_by": new, "promotion.replaced_at": now}
            registry.set_version_tags(r.model_name, old, replaced, uri)
    return {"decision": decision, "version": new, "champion_before": old, "reasons": reasons}


def decision_tags(
    decision: str, reasons: list[str], found: dict, old: int | None, n_rows: int, now: str
) -> dict[str, str]:
    """The ``promotion.*`` tags of one decision."""
    c = found["challenger"]
    tags = {
        "promotion.decision": decision,
        "promotion.reasons": "; ".join(reasons) or "all checks passed",
        "promotion.decided_at": now,
        "promotion.champion_before": "none" if old is None else str(old),
        "promotion.test_rows": str(n_rows),
        "promotion.auc": f"{c['auc']:.6f}",
        "promotion.ece": f"{c['ece']:.6f}",
        "promotion.mean_pd_gap": f"{c['mean_pd_gap']:.6f}",
        "promotion.backtest_passed": str(c["backtest"]["passed"]).lower(),
    }
    if "champion" in found:
        tags["promotion.champion_auc"] = f"{found['champion']['auc']:.6f}"
    return tags


def rollback(cfg: Config, version: int | None, paths: Paths) -> dict[str, Any]:
    """Point the champion at ``version`` (default: the one the current champion replaced)."""
    r, alias = cfg.register_, cfg.promote.champion_alias
    uri = paths.tracking_uri(r.tracking_uri)
    current = registry.aliases(r.model_name, uri).get(alias)
    if current is None:
        raise StageError(f"model {r.model_name!r} has no {alias}: nothing to roll back")
    if version is None:
        before = registry.version_tags(r.model_name, current, uri)
        previous = before.get("promotion.champion_before", "none")
        if not previous.isdigit():
            raise StageError(f"version {current} replaced no earlier {alias}; name a version")
        version = int(previous)
    if version == current:
        raise StageError(f"version {version} is already the {alias}")
    registry.version_tags(r.model_name, version, uri)  # fails if there is none
    now = datetime.now(UTC).isoformat(timespec="seconds")
    registry.set_alias(r.model_name, alias, version, uri)
    restored = {"rollback.restored_at": now, "rollback.replaced": current}
    registry.set_version_tags(r.model_name, version, restored, uri)
    rolled_back = {"rollback.rolled_back_at": now, "rollback.restored": version}
    registry.set_version_tags(r.model_name, current, rolled_back, uri)
    return {"decision": "rolled back", "version": version, "champion_before": current}


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.promote [--config PATH] [--rollback [VERSION]]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/params.yaml", help="params file")
    parser.add_argument(
        "--rollback",
        nargs="?",
        const="previous",
        metavar="VERSION",
        help="point the champion back at VERSION (default: the champion it replaced)",
    )
    args = parser.parse_args(argv)
    if args.rollback not in (None, "previous") and not str(args.rollback).isdigit():
        parser.error(f"--rollback takes a version number, got {args.rollback!r}")
    outcome: dict[str, Any] = {}

    def body() -> None:
        cfg = load_config(args.config)
        if args.rollback is None:
            outcome.update(run(cfg, Paths()))
        else:
            target = None if args.rollback == "previous" else int(args.rollback)
            outcome.update(rollback(cfg, target, Paths()))

    run_stage(body)
    report(outcome)


def report(outcome: dict[str, Any]) -> None:
    """Print the outcome; exit with status 1 when the challenger was refused."""
    decision, version = outcome.get("decision"), outcome.get("version")
    if decision == "promoted":
        print(
            f"promoted version {version} to champion (was {outcome['champion_before'] or 'none'})"
        )
    elif decision == "rolled back":
        print(f"champion rolled back to version {version} (was {outcome['champion_before']})")
    elif decision == "refused":
        reasons = "\n  ".join(outcome["reasons"])
        print(f"refused: version {version} stays challenger:\n  {reasons}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
