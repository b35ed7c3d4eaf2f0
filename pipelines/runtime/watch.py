"""A stage that ``dvc repro`` runs stops when that dvc process dies.

DVC starts a stage as its child (through ``$SHELL -c``) and waits for it. Killing only the dvc
process (``kill <pid>``, a closed terminal, an OOM kill) would leave the stage running as an
orphan that keeps writing outputs DVC no longer records. :func:`stop_with_dvc` watches the dvc
process the stage runs under (Linux: ``/proc``) and, once it is gone, sends the stage SIGTERM,
which (like Ctrl-C) unwinds it so that its staged writes are discarded; a stage stuck in native
code is ended after a grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

log = logging.getLogger("pipelines")

POLL_S = 1.0
GRACE_S = 30.0  # after the interrupt, for the stage to unwind before it is ended
PROC = Path("/proc")


def stop_with_dvc(environ: dict[str, str] | None = None) -> int | None:
    """Under ``dvc repro`` (``DVC_STAGE`` set), watch the dvc process and stop when it dies.

    Returns:
        The dvc process id watched; ``None``: not under dvc, or no ``/proc`` to watch with.
    """
    environ = os.environ if environ is None else environ
    if "DVC_STAGE" not in environ or not PROC.is_dir():
        return None
    pid = dvc_ancestor(os.getpid())
    if pid is None:
        return None
    started = _start_time(pid)
    signal.signal(signal.SIGTERM, _interrupt)  # the watch's signal, and a scheduler's stop too
    threading.Thread(target=_watch, args=(pid, started), daemon=True, name="dvc-watch").start()
    return pid


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def dvc_ancestor(pid: int) -> int | None:
    """The nearest ancestor of ``pid`` that runs dvc (``dvc ...`` or ``python .../dvc ...``)."""
    seen = set()
    current = _parent(pid)
    while current and current > 1 and current not in seen:
        seen.add(current)
        if _runs_dvc(current):
            return current
        current = _parent(current)
    return None


def _watch(pid: int, started: str | None) -> None:
    while _start_time(pid) == started:  # a reused pid has another start time
        time.sleep(POLL_S)
    log.error("dvc (pid %d), which ran this stage, is gone: stopping the stage", pid)
    os.kill(os.getpid(), signal.SIGTERM)  # a real signal: it also breaks a sleep or a wait
    time.sleep(GRACE_S)
    os._exit(1)


def _runs_dvc(pid: int) -> bool:
    try:
        args = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(os.path.basename(a.decode(errors="replace")) == "dvc" for a in args[:3])


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after the command name


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19] if fields else None  # field 22 of proc(5): start time
