"""What it would take: the time to find a customer's cheapest change up one grade.

Uses the default pipeline's outputs (``make run`` first): the registered model (as the score
stage gets it from the pyfunc) and the book at the latest snapshot date. On ``n`` customers of
that book above grade 1, each timed one at a time as the customer page asks
(``models.counterfactual.what_it_would_take``), beside a plain predict of the same row; and all
at once, as the score stage does (``up_one_grade``), beside one predict of the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import Figure, progress
from models.counterfactual import plausible_ranges, up_one_grade, what_it_would_take
from pipelines.io.files import read_json, read_parquet
from pipelines.io.paths import Paths
from pipelines.modelstore.registry import load_model, pd_model
from pipelines.runtime.config import Config

SECTION = "what it would take (counterfactuals)"


def needed(paths: Paths) -> list[Path]:
    """The pipeline outputs this benchmark reads."""
    return [paths.snapshots, paths.registry_record]


def seconds(func: Callable[[], object]) -> float:
    """Wall seconds of one call of ``func``."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def run(cfg: Config, paths: Paths, n: int = 1000, seed: int = 0) -> list[Figure]:
    """Time ``n`` customers' up-one-grade answers, one by one and as a book; return the figures."""
    registry = read_json(paths.registry_record)
    uri = paths.tracking_uri(cfg.register_.tracking_uri)
    model = pd_model(load_model(registry["model_uri"], uri))
    snapshots = read_parquet(paths.snapshots)
    book = snapshots[snapshots["as_of_date"] == snapshots["as_of_date"].max()]
    book = book.reset_index(drop=True)
    ranges = plausible_ranges(model.feature_frame(book))
    grades = model.scale.assign(model.predict_pd(book))
    above = np.flatnonzero(grades > model.scale.grades[0].grade)
    picked = np.sort(np.random.default_rng(seed).choice(above, min(n, len(above)), replace=False))
    rows, targets = book.iloc[picked], grades[picked] - 1
    progress(f"timing the up-one-grade answer of {len(rows):,} customers, one at a time")
    what_it_would_take(model, rows.iloc[[0]], ranges, grade=int(targets[0]))  # warm-up
    one, plain, answered = [], [], 0
    for i in range(len(rows)):
        row = rows.iloc[[i]]
        plain.append(seconds(lambda r=row: model.predict_pd(r)))
        start = time.perf_counter()
        answer, _ = what_it_would_take(model, row, ranges, grade=int(targets[i]))
        one.append(time.perf_counter() - start)
        answered += answer is not None
    progress(f"timing the same {len(rows):,} customers at once, as the score stage does")
    batch = seconds(lambda: up_one_grade(model, rows, grades[picked], ranges))
    predict = seconds(lambda: model.predict_pd(rows))
    ms = 1000 / len(rows)
    return [
        Figure(SECTION, f"median ms per customer, one at a time ({len(rows):,} customers)",
               1000 * float(np.median(one)), "ms", 1000 * float(np.median(plain)),
               "ms plain predict of the row", key="counterfactual_ms_per_customer"),
        Figure(SECTION, "90th percentile ms per customer, one at a time",
               1000 * float(np.percentile(one, 90)), "ms", key="counterfactual_p90_ms"),
        Figure(SECTION, "ms per customer, all at once (score stage)", batch * ms, "ms",
               predict * ms, "ms per row, one predict of all", key="counterfactual_batch_ms"),
        Figure(SECTION, "share of customers with an answer", answered / len(rows), "",
               key="counterfactual_answered_share"),
    ]  # fmt: skip
