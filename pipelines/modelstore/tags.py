"""The tags a registered version carries: provenance (git, data hashes), validation, metrics."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelines.io.files import StageError, file_md5, read_json

HEADLINE = ("auc", "auc_ci_low", "auc_ci_high", "gini", "ks", "brier", "ece", "mean_pd")
# what a version must carry before the gate judges it (register writes them all, alias last)
GOVERNANCE = (
    "git_commit", "data_md5.manifest", "validation.success", "metrics.test.auc",
    "metrics.baseline.test.auc", "comparison.auc_difference_ci_high", "backtest.passed",
)  # fmt: skip


def data_tags(raw_dir: Path, manifest_path: Path) -> dict[str, str]:
    """Return an MD5 tag per raw table, the manifest's hash and its as-of date."""
    manifest = read_json(manifest_path)
    tables = sorted(Path(raw_dir).glob("*.parquet"))
    if not tables:
        raise StageError(f"no tables (*.parquet) in {raw_dir}: run the ingest stage first")
    tags = {f"data_md5.{path.stem}": file_md5(path) for path in tables}
    tags["data_md5.manifest"] = file_md5(manifest_path)
    if isinstance(manifest, dict) and "as_of_date" in manifest:
        tags["data.as_of_date"] = str(manifest["as_of_date"])
    return tags


def metric_tags(metrics: dict) -> dict[str, str]:
    """Version tags of the headline test metrics, the back-test verdict and the stability."""
    tags = {}
    sources = {"test": metrics.get("test", {}), "baseline.test": _get(metrics, "baseline", "test")}
    for prefix, values in sources.items():
        tags |= {f"metrics.{prefix}.{k}": f"{values[k]:.6g}" for k in HEADLINE if k in values}
    for key in ("auc_difference", "auc_difference_ci_low", "auc_difference_ci_high"):
        if key in metrics.get("comparison", {}):
            tags[f"comparison.{key}"] = f"{metrics['comparison'][key]:.6g}"
    for key in ("passed", "grades_failed", "monotone", "min_p_value"):
        if key in metrics.get("backtest", {}):
            tags[f"backtest.{key}"] = str(metrics["backtest"][key])
    for key in ("model_score_psi", "model_score_band", "features_shift"):
        if key in metrics.get("stability", {}):
            tags[f"stability.{key}"] = str(metrics["stability"][key])
    return tags


def validation_tags(path: Path) -> dict[str, str]:
    """Version tags of the data validation result (success and the rules that failed)."""
    summary = read_json(path)
    if not isinstance(summary, dict):
        raise StageError(f"{path} must hold a JSON object")
    tables = summary.get("tables", {})
    failed = sum(int(t.get("rules_failed", 0)) for t in tables.values() if isinstance(t, dict))
    tags = {
        "validation.success": str(summary.get("success", "unknown")).lower(),
        "validation.rules_failed": str(failed),
    }
    if "rows_rejected" in summary:
        tags["validation.rows_rejected"] = str(summary["rows_rejected"])
    return tags


def _get(tree: dict, *keys: str) -> dict:
    for key in keys:
        tree = tree.get(key, {}) if isinstance(tree, dict) else {}
    return tree


def git_commit() -> str:
    """Return the checked-out git commit, or ``"unknown"`` outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def git_dirty() -> str:
    """``"true"`` when tracked files differ from the commit, ``"unknown"`` outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return str(bool(out.stdout.strip())).lower()
