"""Peak memory of scoring a 100,000-row and a 1,000,000-row book (``pipelines.batch``).

Each book is written in row groups of 50,000 rows drawn from the snapshot table; each run is
a fresh process whose own peak resident memory is measured.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import Figure, progress, run_child
from bench.scoring import sample_rows
from pipelines.io.paths import Paths

SECTION = "scoring memory (streamed book)"
GROUP = 50_000
CHILD = """
from pathlib import Path
from pipelines.batch import run
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config

def main(book, out, config, root):
    return run(load_config(config), Path(book), Path(out), None, Paths(Path(root)))
"""


def needed(paths: Paths) -> list[Path]:
    """The pipeline outputs this benchmark reads (the rows, and the model to load)."""
    return [paths.snapshots, paths.registry_record]


def write_book(paths: Paths, path: Path, n_rows: int) -> None:
    """A Parquet book of ``n_rows`` snapshot rows, written one row group at a time."""
    base = sample_rows(paths, GROUP)
    writer = None
    for start in range(0, n_rows, GROUP):
        part = base.iloc[: min(GROUP, n_rows - start)].copy()
        part["customer_id"] = [f"B{i:08d}" for i in np.arange(start, start + len(part))]
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=GROUP)
    writer.close()


def run(config: Path, paths: Paths, sizes: tuple[int, ...] = (100_000, 1_000_000)) -> list[Figure]:
    """Score each book size in a fresh process; peak memory and speed of each.

    Scored by ``pipelines.batch`` with the params file ``config`` and the model the register
    stage logged (``paths.registry_record``).
    """
    figures: list[Figure] = []
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for n in sizes:
            book = Path(tmp) / f"book-{n}.parquet"
            write_book(paths, book, n)
            progress(f"scoring a {n:,}-row book in a fresh process")
            scored = Path(tmp) / f"scored-{n}"
            out = run_child(CHILD, str(book), str(scored), str(config), str(paths.root))
            peaks[n] = out["peak_mb"]
            label = f"{n // 1000:,}k" if n < 1_000_000 else f"{n // 1_000_000}m"
            figures += [
                Figure(SECTION, f"{n:,} rows: peak memory", out["peak_mb"], "MB",
                       key=f"score_peak_mb_{label}"),
                Figure(SECTION, f"{n:,} rows: rows/s end to end", out["rows_per_s"], "rows/s",
                       key=f"batch_rows_per_s_{label}"),
            ]  # fmt: skip
    small, large = min(peaks), max(peaks)
    figures.append(
        Figure(SECTION, f"peak memory {large:,} vs {small:,} rows", peaks[large], "MB",
               peaks[small], "MB", key="score_peak_ratio")
    )  # fmt: skip
    return figures
