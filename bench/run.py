"""Speed and memory benchmarks: ``make bench`` (``python -m bench.run``).

Prints one table -- each figure beside the reference measured in the same run, and their
ratio -- and writes every figure to ``Paths().bench`` (in the reports folder). The scoring and
memory sections need the default pipeline's outputs (``make run``); without them the command
stops with one line naming the missing files. Benchmarks are not tests: nothing here fails on
a slow machine.

    python -m bench.run                      # everything (about 10 minutes on 2 cores)
    python -m bench.run --quick              # smaller sizes, no dvc repro (about 2 minutes)
    python -m bench.run --only scoring memory
    python -m bench.run --only counterfactual   # what it would take: ms per customer
    python -m bench.run --only loss          # loss distribution: 100k and 1M customers
    python -m bench.run --only end_to_end    # the month-end run, ingest to report, at 50k
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench import (
    counterfactual,
    feature_speed,
    loss_distribution,
    memory,
    month_end,
    repro,
    scoring,
)
from bench.common import CONFIG, ROOT, Figure, missing, progress, table
from pipelines.io.files import StageError, run_stage, write_json
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config

SECTIONS = ("features", "end_to_end", "scoring", "counterfactual", "memory", "loss", "repro")


def measure(args: argparse.Namespace, paths: Paths) -> None:
    """Run the chosen sections, print the table and write the figures to ``args.out``."""
    needed = {
        "scoring": scoring.needed(paths),
        "counterfactual": counterfactual.needed(paths),
        "memory": memory.needed(paths),
        "end_to_end": month_end.needed(paths),
    }
    absent = sorted({p for s in args.only for p in missing(needed.get(s, []))})
    if absent:
        raise StageError(
            f"the benchmark needs the pipeline's outputs, missing: {', '.join(absent)}; "
            "run `make run` first (or `--only features`)"
        )
    cfg = load_config(args.config)
    os.chdir(ROOT)  # the registry record's tracking URI is relative to the repository
    started = time.perf_counter()
    figures: list[Figure] = []
    if "features" in args.only:
        sizes = [2000, 4000, 8000] if args.quick else [5000, 20_000, 50_000]
        base = 2000 if args.quick else 5000
        figures += feature_speed.run(args.config, sizes, base_customers=base)
        big, block = (40_000, 20_000) if args.quick else (1_000_000, 50_000)
        figures += month_end.run(big, block, base_customers=base)
    if "end_to_end" in args.only:
        base = 2000 if args.quick else 5000
        figures += month_end.end_to_end(4000 if args.quick else 50_000, base_customers=base)
    if "scoring" in args.only:
        figures += scoring.run(cfg, paths, n_rows=20_000 if args.quick else 100_000)
    if "counterfactual" in args.only:
        figures += counterfactual.run(cfg, paths, n=200 if args.quick else 1000)
    if "memory" in args.only:
        sizes = (20_000, 200_000) if args.quick else (100_000, 1_000_000)
        figures += memory.run(args.config, paths, sizes)
    if "loss" in args.only:
        sizes = (20_000, 200_000) if args.quick else (100_000, 1_000_000)
        figures += loss_distribution.run(sizes)
    if "repro" in args.only and not args.quick:
        figures += repro.run()
    print(table(figures))
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "figures": [
            {"key": f.key, "section": f.section, "what": f.what, "value": f.value,
             "unit": f.unit, "reference": f.reference, "reference_what": f.reference_what,
             "ratio": f.ratio}
            for f in figures
        ],
    }  # fmt: skip
    result |= {f.key: f.value for f in figures if f.key}
    write_json(result, args.out)
    progress(f"wrote {args.out} in {result['seconds']:.0f} s")


def main(argv: list[str] | None = None) -> None:
    """Command line entry (see the module docstring)."""
    paths = Paths(ROOT)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no dvc repro")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--config", type=Path, default=CONFIG, help="params file")
    parser.add_argument("--out", type=Path, default=paths.bench, help="figures (JSON)")
    args = parser.parse_args(argv)
    args.config, args.out = args.config.resolve(), args.out.resolve()  # before the chdir
    run_stage(lambda: measure(args, paths))


if __name__ == "__main__":
    main()
