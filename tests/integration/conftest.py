"""One real ``dvc repro`` of a tiny synthetic book, shared by the integration tests of a session.

``tiny_repo`` is a copy of the repository (tracked and untracked-but-not-ignored files) as a
fresh git repository with a tiny config, after ``dvc repro`` (about a minute); tests that run
dvc in it again take it. ``tiny_run`` is a copy of that working tree taken right after the
repro, without ``.git`` and ``.dvc``: tests that only read a complete run (the notebooks) take
it, so that whatever the ``tiny_repo`` tests re-run, in whichever order, they see a complete one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TINY = {
    "synthetic": {"n_customers": 400, "n_months": 60},
    "train": {"learning_rate": 0.05, "min_child_samples": 50, "num_boost_round": 300},
    # 400 customers leave ~100 test defaults: calibration error that noisy says little
    "promote": {"max_ece": 0.05},
    # a whole year of calibration (the default book's) leaves 400 customers' training window
    # too short for the top grades: the gate refused grade 10 (PD 85 %, observed 56 %)
    "split": {"calibration_months": 6},
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0 or not check, (
        f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def _copy_repository(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


@pytest.fixture(scope="session")
def _tiny_repro(tmp_path_factory) -> tuple[Path, Path]:
    """``dvc repro`` once in a tiny copy of the repo; returns it and a copy of the run."""
    dest = tmp_path_factory.mktemp("repo")
    _copy_repository(dest)
    params = yaml.safe_load((dest / "configs/params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    (dest / "configs/params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(cmd, cwd=dest, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"],
        cwd=dest, check=True,
    )  # fmt: skip
    _run(["dvc", "repro"], dest)
    run = tmp_path_factory.mktemp("run")
    shutil.copytree(dest, run, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", ".dvc"))
    return dest, run


@pytest.fixture(scope="session")
def tiny_repo(_tiny_repro) -> Path:
    """The git + dvc repository of the tiny run; tests may re-run dvc in it."""
    return _tiny_repro[0]


@pytest.fixture(scope="session")
def tiny_run(_tiny_repro) -> Path:
    """The tiny run's files as ``dvc repro`` left them (code, configs, data/); read only."""
    return _tiny_repro[1]


@pytest.fixture(scope="session")
def run_command() -> Callable[[list[str], Path], subprocess.CompletedProcess]:
    """``run_command(cmd, cwd, check=True)``: run with this interpreter's tools first on PATH;
    must pass unless ``check`` is false."""
    return _run
