"""Killing only the dvc process stops the stage it runs, and the stage's staged write is dropped.

A stand-in for dvc (a script named ``dvc``) starts a stage the way DVC does, through ``sh -c``
with ``DVC_STAGE`` set; the stage stages a write and waits. The stand-in is then SIGKILLed, as
``kill -9 <dvc pid>`` would: the stage must stop within seconds, leaving no temporary file and
no output.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STAGE = textwrap.dedent(
    """
    import time
    from pathlib import Path
    from pipelines.io.files import atomic_path, run_stage

    def body():
        with atomic_path(Path("out.txt")) as tmp:
            tmp.write_text("half")
            time.sleep(120)

    run_stage(body)
    """
)
DVC = textwrap.dedent(
    """
    import os, subprocess, sys
    env = {**os.environ, "DVC_STAGE": "score"}
    subprocess.Popen(["/bin/sh", "-c", sys.argv[1]], env=env).wait()
    """
)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="the watch reads /proc (Linux)")
def test_killing_dvc_stops_its_stage_and_drops_the_staged_write(tmp_path):
    (tmp_path / "dvc").write_text(DVC)
    (tmp_path / "stage.py").write_text(STAGE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    stage_cmd = f"{sys.executable} stage.py"
    dvc = subprocess.Popen(
        [sys.executable, str(tmp_path / "dvc"), stage_cmd],
        cwd=tmp_path, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (staged := list(tmp_path.glob(".out.txt.*.tmp"))):
            assert time.monotonic() < deadline, "the stage never started its write"
            time.sleep(0.2)
        stage_pid = int(re.fullmatch(r"\.out\.txt\.(\d+)\..+\.tmp", staged[0].name)[1])
        dvc.kill()
        dvc.wait()
        deadline = time.monotonic() + 15
        while not _gone(stage_pid):
            assert time.monotonic() < deadline, "the stage outlived dvc"
            time.sleep(0.2)
        assert not list(tmp_path.glob(".out.txt.*")) and not (tmp_path / "out.txt").exists()
    finally:
        try:
            os.killpg(dvc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
