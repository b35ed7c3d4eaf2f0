"""Promote stage and command: the gate between a registered challenger and the champion.

As the pipeline's stage (``dvc repro`` runs ``python -m pipelines.promote --gate``) it judges
the version the register stage has just logged; by hand, ``python -m pipelines.promote`` does
the same. Both score the same rows with the challenger and the current ``champion``: the
labelled test window of the current data. The challenger becomes champion only if

* it carries every governance tag register writes (an interrupted register leaves an
  incomplete version, which is never promoted);
* it does not lose to the transparent baseline scorecard: the upper end of the 95% interval of
  its AUC lead over the baseline (``comparison.auc_difference_ci_high``) is not below 0;
* its AUC is not below the champion's by more than ``promote.auc_tolerance``, nor below the
  floor ``promote.min_auc``;
* it is calibrated: expected calibration error at most ``promote.max_ece`` and mean PD within
  ``promote.max_mean_pd_gap`` (relative) of the observed default rate;
* it passes the grade back-test (``models.backtest``: every grade consistent with its PD at
  ``evaluate.backtest_alpha``, the judged grades monotone in their default rate).

With no champion yet, the first challenger that passes becomes champion. Otherwise the champion
keeps scoring the book and the decision says which challenger waits and why; by hand the
command then exits with status 1 (``--gate``: 0, the refusal is the recorded outcome). Every
decision is written as tags of the challenger's version (``promotion.*``), of the champion it
replaces, and to ``data/reports/promotion.json`` (read by the score and report stages).

Under ``dvc exp run`` (``DVC_EXP_NAME`` set) nothing is promoted: the decision the gate would
take is recorded, and the champion and the production history stay as they are.

``python -m pipelines.promote --rollback [VERSION]`` points the champion back at VERSION (by
default the champion the current one replaced) and tags both versions (``rollback.*``).

Inputs:
    data/reports/registry.json (the version to judge), data/features/snapshots.parquet,
    data/splits/split.parquet, configs/master_scale.yaml, the MLflow registry.
Outputs:
    data/reports/promotion.json; the registry's ``champion`` alias and ``promotion.*`` tags.
Params:
    promote, register (tracking_uri, model_name), evaluate (calibration_bins,
    backtest_alpha, backtest_min_customers)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from pipelines.io.files import StageError, read_json, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.modelstore import registry
from pipelines.modelstore.gate import (
    assess,
    baseline_lead,
    decide,
    decision_tags,
    incomplete,
    test_rows,
)
from pipelines.runtime.config import Config, load_config

log = logging.getLogger("pipelines.promote")


def run(cfg: Config, paths: Paths, experiment: str | None = None) -> dict[str, Any]:
    """Judge the registered challenger against the champion; move the alias if allowed.

    Args:
        cfg: The config.
        paths: Where the registry record, the test window and the decision are.
        experiment: The DVC experiment's name: judge, record, never promote.

    Returns:
        The decision record (also written to ``paths.promotion``).
    """
    r, champion_alias = cfg.register_, cfg.promote.champion_alias
    uri = paths.tracking_uri(r.tracking_uri)
    new = int(read_json(paths.registry_record)["model_version"])
    old = registry.aliases(r.model_name, uri).get(champion_alias)
    if new == old:
        return _record(paths, "unchanged", new, old, old, [], experiment)
    reasons = incomplete(registry.version_tags(r.model_name, new, uri))
    found: dict[str, dict] = {}
    n_rows = 0
    if not reasons:
        rows = test_rows(paths)
        n_rows = len(rows)
        for name, version in (("challenger", new), ("champion", old)):
            if version is None:
                continue
            model = registry.load_model(f"models:/{r.model_name}/{version}", uri)
            try:
                found[name] = assess(model, rows, cfg, paths)
            except StageError as err:  # e.g. an old champion needs features the data lacks now
                what = f"the {name}, version {version}, cannot score the test window"
                raise StageError(f"{what}: {err}") from None
        found["challenger"]["baseline"] = baseline_lead(
            registry.version_tags(r.model_name, new, uri)
        )
        reasons = decide(found["challenger"], found.get("champion"), cfg)
    decision = "refused" if reasons else "promoted"
    if experiment is not None:
        decision = f"not promoted: experiment {experiment} (the gate would have {decision} it)"
        return _record(paths, decision, new, old, old, reasons, experiment)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if found:
        tags = decision_tags(decision, reasons, found, old, n_rows, now)
    else:
        tags = {"promotion.decision": decision, "promotion.reasons": "; ".join(reasons)}
    registry.set_version_tags(r.model_name, new, tags, uri)
    if reasons:
        return _record(paths, decision, new, old, old, reasons, experiment)
    registry.set_alias(r.model_name, champion_alias, new, uri)
    if old is not None:
        replaced = {"promotion.replaced_by": new, "promotion.replaced_at": now}
        registry.set_version_tags(r.model_name, old, replaced, uri)
    return _record(paths, decision, new, old, new, reasons, experiment)


def _record(
    paths: Paths, decision: str, version: int, before: int | None, champion: int | None,
    reasons: list[str], experiment: str | None,
) -> dict[str, Any]:  # fmt: skip
    record = {
        "decision": decision,
        "version": version,
        "champion_before": before,
        "champion": champion,
        "reasons": reasons,
        "experiment": experiment,
    }
    write_json(record, paths.promotion)
    return record


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
        "--gate",
        action="store_true",
        help="run as the pipeline's gate (dvc repro): a refusal is recorded, not an error",
    )
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
            outcome.update(run(cfg, Paths(), os.environ.get("DVC_EXP_NAME") or None))
        else:
            target = None if args.rollback == "previous" else int(args.rollback)
            outcome.update(rollback(cfg, target, Paths()))

    run_stage(body)
    report(outcome, strict=not args.gate)


def report(outcome: dict[str, Any], strict: bool = True) -> None:
    """Print the outcome; exit with status 1 when the challenger was refused and ``strict``."""
    decision, version = outcome.get("decision"), outcome.get("version")
    if decision == "promoted":
        print(
            f"promoted version {version} to champion (was {outcome['champion_before'] or 'none'})"
        )
    elif decision == "rolled back":
        print(f"champion rolled back to version {version} (was {outcome['champion_before']})")
    elif decision == "unchanged":
        print(f"version {version} is already the champion; nothing to do")
    elif decision == "refused":
        reasons = "\n  ".join(outcome["reasons"])
        print(f"refused: version {version} stays challenger:\n  {reasons}", file=sys.stderr)
        if strict:
            raise SystemExit(1)
    elif decision is not None:
        print(f"version {version}: {decision}")


if __name__ == "__main__":
    main()
