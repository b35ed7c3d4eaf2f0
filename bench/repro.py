"""``dvc repro`` end to end at the default size, in a fresh clone of the committed code."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Figure, progress

SECTION = "pipeline"


def run() -> list[Figure]:
    """Clone HEAD, run ``dvc repro`` with this environment's tools, time it."""
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("MLFLOW_TRACKING_URI", None)
    with tempfile.TemporaryDirectory(prefix="bench-repro-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        progress("dvc repro in a fresh clone of HEAD (default size)")
        start = time.perf_counter()
        done = subprocess.run(
            ["dvc", "repro"], cwd=clone, env=env, capture_output=True, text=True, timeout=3600
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"dvc repro failed:\n{done.stderr[-3000:]}")
    return [Figure(SECTION, "dvc repro, default book, fresh clone", seconds, "s",
                   key="repro_s")]  # fmt: skip
