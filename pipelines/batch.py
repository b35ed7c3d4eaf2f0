"""Score a feature book of any size with a registered model: streamed, here or on Dask.

The score stage scores the book of the pipeline's own snapshots; this command is for books
too large to hold in memory, or kept elsewhere (a service's nightly run, a portfolio bought
in). It reads the book in chunks of ``score.chunk_rows`` rows and writes each chunk's PD,
grade and reason codes as it goes, so memory stays the same however many customers there
are. With ``engine: dask`` the partitions are scored on the cluster's workers.

Usage:
    python -m pipelines.batch --config configs/params.yaml --book BOOK --out FOLDER
        [--model MODEL_URI]   (default: the champion, models:/trade-credit-pd@champion)
        [--force]             (replace FOLDER even if this command did not write it)

BOOK is a Parquet file, or a folder of them, holding the model's feature columns (the
``data/features/snapshots.parquet`` layout); ``customer_id`` and ``as_of_date`` are carried
over where present. FOLDER receives ``part-00000.parquet``, ... (one per partition of the
book: a run of its row groups) and ``summary.json``; it is replaced whole when all parts are
written, so a failed run leaves the previous result. FOLDER must be new, empty, or a folder this
command wrote before (it leaves ``.batch-output`` in it): any other folder is refused, as
replacing it would delete what it holds, unless ``--force``. On a cluster, BOOK and FOLDER
must be on storage every worker can reach under the same path.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.book.rows import predict_frame
from pipelines.io.files import (
    StageError,
    atomic_folder,
    atomic_path,
    check_replaceable,
    run_stage,
    write_json,
)
from pipelines.io.paths import BATCH_MARKER, BATCH_SUMMARY, Paths
from pipelines.modelstore.champion import champion
from pipelines.modelstore.registry import input_names, load_model
from pipelines.runtime.cluster import engine_client
from pipelines.runtime.config import Config, load_config

KEEP = ("customer_id", "as_of_date")  # carried from the book into the output when present

log = logging.getLogger("pipelines.batch")


@dataclass(frozen=True)
class Part:
    """A run of row groups of one Parquet file, scored as one task into one output file."""

    number: int
    file: Path
    row_groups: tuple[int, ...]
    rows: int


def plan_parts(book: Path, rows_per_part: int) -> list[Part]:
    """Cut ``book`` (a Parquet file or folder) into parts of about ``rows_per_part`` rows.

    A part is a run of whole row groups of one file (a row group is never split), so the
    plan, and with it the output, depends only on the files.

    Raises:
        StageError: The book is missing, holds no Parquet file, or has no rows.
    """
    files = sorted(book.glob("*.parquet")) if book.is_dir() else [book]
    if not book.exists() or not files:
        raise StageError(f"{book}: no Parquet book there (a .parquet file or a folder of them)")
    parts: list[Part] = []
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, pa.ArrowInvalid) as err:
            raise StageError(f"{path}: not a readable Parquet file ({err})") from None
        groups: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if n == 0:
                continue
            groups.append(g)
            rows += n
            if rows >= rows_per_part:
                parts.append(Part(len(parts), path, tuple(groups), rows))
                groups, rows = [], 0
        if groups:
            parts.append(Part(len(parts), path, tuple(groups), rows))
    if not parts:
        raise StageError(f"{book}: the book has no rows")
    return parts


def score_part(part: Part, model: Any, folder: Path, chunk_rows: int) -> int:
    """Score one part ``chunk_rows`` at a time into ``folder/part-NNNNN.parquet``.

    Returns:
        The number of rows scored.
    """
    source = pq.ParquetFile(part.file)
    names = input_names(model)
    present = set(source.schema_arrow.names)
    missing = [n for n in names if n not in present]
    if missing:
        raise StageError(f"{part.file} lacks the model's feature columns {missing}")
    keep = [c for c in KEEP if c in present]
    writer = None
    done = 0
    with atomic_path(folder / f"part-{part.number:05d}.parquet") as tmp:
        try:
            batches = source.iter_batches(
                batch_size=chunk_rows, row_groups=list(part.row_groups), columns=keep + names
            )
            for batch in batches:
                frame = batch.to_pandas()
                scored = pd.concat([frame[keep], predict_frame(frame[names], model)], axis=1)
                table = pa.Table.from_pandas(scored, preserve_index=False)
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
                done += len(frame)
        finally:
            if writer is not None:
                writer.close()
    return done


def score_book(
    model: Any, book: Path, out: Path, chunk_rows: int, client: Any = None
) -> dict[str, Any]:
    """Score every part of ``book`` into the folder ``out`` (replaced whole at the end).

    Args:
        model: The loaded pyfunc.
        book: Parquet file or folder of the feature rows.
        out: Output folder.
        chunk_rows: Rows per prediction call; also the size of a part.
        client: A ``distributed.Client`` to score the parts on; ``None``: here, one by one.

    Returns:
        The run's summary (also written to ``out/summary.json``).
    """
    parts = plan_parts(book, chunk_rows)
    total = sum(p.rows for p in parts)
    start = time.perf_counter()
    with atomic_folder(out) as staging:
        if client is None:
            scored = 0
            for part in parts:
                scored += score_part(part, model, staging, chunk_rows)
                log.info("scored %d of %d rows (%d parts)", scored, total, len(parts))
        else:
            from pipelines.runtime.cluster import map_partitions

            shared = {"model": model, "folder": staging, "chunk_rows": chunk_rows}
            scored = sum(map_partitions(client, score_part, parts, shared, "book parts"))
        if scored != total:
            raise StageError(f"scored {scored} rows of {total} in {book}")
        seconds = time.perf_counter() - start
        summary = {
            "book": str(book),
            "rows": total,
            "parts": len(parts),
            "seconds": round(seconds, 2),
            "rows_per_s": round(total / seconds, 1) if seconds else None,
            "engine": "pandas" if client is None else "dask",
        }
        write_json(summary, staging / BATCH_SUMMARY)
        (staging / BATCH_MARKER).write_text(
            "written by python -m pipelines.batch; the next run into this folder replaces it\n"
        )
    return summary


def run(
    cfg: Config, book: Path, out: Path, model_uri: str | None, paths: Paths, force: bool = False
) -> dict[str, Any]:
    """Load the model (default: the champion) and score the book into ``out``.

    ``out`` is checked first (:func:`pipelines.io.files.check_replaceable`): a folder this
    command did not write is refused unless ``force``.
    """
    check_replaceable(out, BATCH_MARKER, force)
    tracking = paths.tracking_uri(cfg.register_.tracking_uri)
    names = (cfg.register_.model_name, cfg.promote.champion_alias)
    uri = model_uri or champion(*names, tracking, paths)["model_uri"]
    model = load_model(uri, tracking)
    log.info("scoring %s with %s (engine %s)", book, uri, cfg.engine)
    with engine_client(cfg) as client:
        summary = score_book(model, book, out, cfg.score.chunk_rows, client)
    log.info(
        "%d rows in %.1f s: %.0f rows/s", summary["rows"], summary["seconds"], summary["rows_per_s"]
    )
    return summary


def main(argv: list[str] | None = None) -> None:
    """Command line entry (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/params.yaml", help="params file")
    parser.add_argument("--book", required=True, type=Path, help="Parquet file or folder")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--model", default=None, help="model URI; default: the champion")
    parser.add_argument(
        "--force", action="store_true", help="replace --out even if this command did not write it"
    )
    args = parser.parse_args(argv)
    run_stage(
        lambda: run(load_config(args.config), args.book, args.out, args.model, Paths(), args.force)
    )


if __name__ == "__main__":
    main()
