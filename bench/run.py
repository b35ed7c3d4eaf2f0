"""Speed and memory benchmarks: ``make bench`` (``python -m bench.run``).

Prints one table -- each figure beside the reference measured in the same run, and their
ratio -- and writes every figure to data/reports/bench.json. Needs the default pipeline's
outputs (``make run``). Benchmarks are not tests: nothing here fails on a slow machine.

    python -m bench.run                      # everything (about 10 minutes on 2 cores)
    python -m bench.run --quick              # smaller sizes, no dvc repro (about 2 minutes)
    python -m bench.run --only scoring memory
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from bench import feature_speed, memory, repro, scoring
from bench.common import ROOT, Figure, progress, table
from pipelines.io.files import write_json

OUT = ROOT / "data/reports/bench.json"
SECTIONS = ("features", "scoring", "memory", "repro")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no dvc repro")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    started = time.perf_counter()
    figures: list[Figure] = []
    if "features" in args.only:
        sizes = [2000, 4000, 8000] if args.quick else [5000, 20_000, 50_000]
        base = 2000 if args.quick else 5000
        figures += feature_speed.run(sizes, base_customers=base)
    if "scoring" in args.only:
        figures += scoring.run(n_rows=20_000 if args.quick else 100_000, with_dask=True)
    if "memory" in args.only:
        figures += memory.run((20_000, 200_000) if args.quick else (100_000, 1_000_000))
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


if __name__ == "__main__":
    main()
