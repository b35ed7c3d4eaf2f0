"""The portfolio loss distribution (``models.loss_distribution``) on 100k and 1M customers.

Each book is synthetic (seeded: PDs from a beta distribution around 5 %, log-normal exposures,
ten sectors) and simulated with the same scenarios in a fresh process: the simulation's own
peak allocation (tracemalloc, started once the book is built) and the process's peak resident
memory (``VmHWM``). The references, measured or computed in the same run: the smaller book's
peak (the simulation is chunked, so the peak grows with the per-customer arrays only, never
with scenarios x customers), the memory one scenarios x customers float64 matrix would take,
and the smaller book's time per million customer-scenarios.
"""

from __future__ import annotations

import numpy as np

from bench.common import Figure, progress, run_child

SECTION = "portfolio loss distribution (chunked Monte Carlo)"
SCENARIOS = 500
CHILD = """
import time, tracemalloc
from bench.loss_distribution import synthetic_book
from models.loss_distribution import simulate_loss

def main(n, scenarios):
    pds, ead, sector = synthetic_book(int(n))
    tracemalloc.start()
    start = time.perf_counter()
    result = simulate_loss(pds, ead, 0.45, sector, n_scenarios=int(scenarios),
                           sector_correlation=0.5)
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    return {"seconds": seconds, "traced_peak_mb": traced, "hwm_mb": high_water_mb(),
            "es_99_9": result.es[0.999]}
"""


def synthetic_book(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PDs (beta, mean about 5 %), exposures (log-normal, median 20,000) and ten sectors."""
    rng = np.random.default_rng(seed)
    pds = rng.beta(0.8, 15.0, n)
    exposure = np.round(rng.lognormal(np.log(20_000), 1.0, n), 2)
    return pds, exposure, rng.integers(0, 10, n)


def run(sizes: tuple[int, ...] = (100_000, 1_000_000), scenarios: int = SCENARIOS) -> list[Figure]:
    """Simulate each book size in a fresh process; time and memory of each, against the smallest."""
    runs = {}
    for n in sizes:
        progress(f"loss distribution: {n:,} customers x {scenarios:,} scenarios, fresh process")
        runs[n] = run_child(CHILD, str(n), str(scenarios))
    small = min(sizes)
    figures: list[Figure] = []
    for n, out in runs.items():
        label = f"{n // 1000:,}k" if n < 1_000_000 else f"{n // 1_000_000}m"
        cells = n * scenarios / 1e6
        full = n * scenarios * 8 / 2**20
        figures += [
            Figure(SECTION, f"{n:,} customers: simulation's peak allocation", out["traced_peak_mb"],
                   "MB", full, "MB one full float64 matrix", key=f"loss_peak_mb_{label}"),
            Figure(SECTION, f"{n:,} customers: process peak memory", out["hwm_mb"], "MB",
                   key=f"loss_rss_mb_{label}"),
            Figure(SECTION, f"{n:,} customers: seconds per million customer-scenarios",
                   out["seconds"] / cells, "s", runs[small]["seconds"] / (small * scenarios / 1e6),
                   f"s at {small:,}", key=f"loss_s_per_m_cells_{label}"),
        ]  # fmt: skip
    large = max(sizes)
    figures.append(
        Figure(SECTION, f"simulation's peak {large:,} vs {small:,} customers ({large // small}x)",
               runs[large]["traced_peak_mb"], "MB", runs[small]["traced_peak_mb"], "MB",
               key="loss_peak_ratio")
    )  # fmt: skip
    return figures
