"""What every benchmark shares: a figure with its reference, the table, child-process runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "params.yaml"  # the stages' default --config


@dataclass(frozen=True)
class Figure:
    """One measured figure, and the reference it is judged against (measured in the same run).

    ``ratio`` is value / reference; ``key`` names it in the written figures (``Paths.bench``).
    """

    section: str
    what: str
    value: float
    unit: str
    reference: float | None = None
    reference_what: str = ""
    key: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.reference in (None, 0):
            return None
        return self.value / self.reference


def table(figures: list[Figure]) -> str:
    """The figures as a fixed-width table, grouped by section."""
    width = max([len(f.what) for f in figures] + [44]) + 2
    lines = [
        f"{'figure':<{width}} {'value':>14}  {'reference':<40} {'ratio':>8}",
        "-" * (width + 66),
    ]
    section = None
    for f in figures:
        if f.section != section:
            section = f.section
            lines.append(f"[{section}]")
        ref = "" if f.reference is None else f"{_num(f.reference)} {f.reference_what}"
        ratio = "" if f.ratio is None else f"{f.ratio:.3g}x"
        value = f"{_num(f.value)} {f.unit}"
        lines.append(f"  {f.what:<{width - 2}} {value:>14}  {ref:<40} {ratio:>8}")
    return "\n".join(lines)


def _num(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def high_water_mb() -> float:
    """This process's peak resident memory since it started (Linux ``VmHWM``), in MB.

    Not ``ru_maxrss``: on Linux a child started from a large parent reports the parent's
    resident memory at the fork until it exceeds it (the benchmark's own ~300 MB, or more
    after an earlier measurement), which hid the smaller figures.
    """
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def run_child(code: str, *args: str, timeout: int = 3600) -> dict:
    """Run ``code`` in a fresh Python; it prints one JSON line last. Adds its peak RSS in MB.

    A separate process per measurement keeps one measurement's memory out of the next's
    peak (:func:`high_water_mb` of the child itself).
    """
    wrapper = (
        "import json, sys\n"
        "from bench.common import high_water_mb\n"
        f"{code}\n"
        "out = main(*sys.argv[1:])\n"
        "out['peak_mb'] = high_water_mb()\n"
        "print(json.dumps(out))\n"
    )
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", PYTHONWARNINGS="ignore")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - start
    return out


def missing(needed: list[Path]) -> list[str]:
    """The files of ``needed`` (pipeline outputs a benchmark reads) that are not there."""
    return [str(path) for path in needed if not Path(path).exists()]


def progress(message: str) -> None:
    """One progress line on stderr (the table goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} bench: {message}", file=sys.stderr, flush=True)
