"""The features stage's month end at 1,000,000 customers, built in blocks on one machine.

A whole month-end run at that size does not fit a 23 GB machine: the snapshot table of every
month (about 54 million rows of some 60 features, ~24 GB as float64) is what the features stage
writes and what the incremental build reuses. What is measured is the work that grows with the
book each month: for each block of customers (the default synthetic book repeated with new ids,
generated block by block), the fingerprints of the data as known at last month's end (to reuse
last month's rows) and at this one's (for next month), and the new month end's per-customer
features (``build_customer_features(..., first_new_month)``); then the sector comparisons across
the new month's rows of every block. Left out, and said so in the figure's name: reading the
cached rows and assembling and writing the full table.

:func:`end_to_end` measures the whole month-end run on a smaller book (default 50,000 customers):
the stages ingest (folder source), validate, featurize (incremental), score and report, with the
trained pipeline's champion (``make run`` first), after last month's run of the same stages on the
data as known a month earlier (its features cache and its scored book are what this month
finds). The reference, in the same run: the features stage rebuilt in full on this month's data,
put in place of the incremental one.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from bench.common import CONFIG, ROOT, Figure, progress, run_child
from bench.feature_speed import ORACLES, SECTION, tile
from features.build import FeatureSettings
from features.incremental import known_at
from pipelines.io.files import write_parquet
from pipelines.io.paths import Paths
from pipelines.sources.synthetic import generate

STAGES = ("ingest", "validate", "featurize", "score", "report")
# the trained pipeline's records the score and report stages read, and its registry
RECORDS = ("promotion", "registry_record", "metrics", "calibration_report")
END_TO_END = """
import time
from pathlib import Path
from pipelines import featurize, ingest, report, score, validate
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config

STAGES = (ingest, validate, featurize, score, report)

def month(config, paths):
    times = {}
    for stage in STAGES:
        start = time.perf_counter()
        stage.run(load_config(Path(config)), paths)
        times[stage.__name__.split('.')[-1]] = time.perf_counter() - start
    return times

def main(root, configs, last_month, this_month, full_rebuild):
    paths = Paths(Path(root), configs=Path(configs))
    month(last_month, paths)  # last month's run: the features cache and the scored history
    times = month(this_month, paths)
    start = time.perf_counter()
    featurize.run(load_config(Path(full_rebuild)), paths)  # the reference: features in full
    return {'times': times, 'full_featurize_s': time.perf_counter() - start}
"""

CHILD = """
import time
from pathlib import Path
import pandas as pd
from bench.feature_speed import tile
from features.build import (FeatureSettings, add_cross_sectional_features,
                            build_customer_features, snapshot_months)
from features.partitions import customer_codes, decoded
from features.incremental import History
from features.timeline import month_index

def main(folder, copies, blocks, as_of):
    base = {p.stem: pd.read_parquet(p) for p in Path(folder).glob('*.parquet')}
    settings, as_of = FeatureSettings(), pd.Timestamp(as_of)
    previous = as_of - pd.offsets.MonthEnd(1)
    new_month = int(month_index(pd.DatetimeIndex([as_of]))[0])
    fresh, defaults, customers, build_s, rows = [], [], [], 0.0, 0
    for block in range(int(blocks)):
        tables = tile(base, int(copies), first=block * int(copies))  # this block's customers
        start = time.perf_counter()
        history = History(tables, settings)
        history.fingerprint(previous)  # does last month's build still hold?
        history.fingerprint(as_of)  # what next month compares with
        months = snapshot_months(tables, as_of, settings)
        coded, ids = customer_codes(tables)
        built = build_customer_features(coded, as_of, settings, months, new_month)
        new_rows, block_defaults, every_row = decoded(built, ids)
        build_s += time.perf_counter() - start
        fresh.append(new_rows)
        defaults.append(block_defaults)
        customers.append(tables['customers'])
        rows += len(every_row)
        del tables, coded, built, every_row, history
    start = time.perf_counter()
    fresh = pd.concat(fresh, ignore_index=True)
    out = add_cross_sectional_features(fresh, pd.concat(defaults, ignore_index=True),
                                       pd.concat(customers, ignore_index=True))
    build_s += time.perf_counter() - start
    return {'build_s': build_s, 'new_rows': len(out), 'rows': rows,
            'customers': sum(len(c) for c in customers)}
"""


def run(
    customers: int = 1_000_000, block: int = 50_000, base_customers: int = 5000
) -> list[Figure]:
    """The month end's per-customer work at ``customers``, in blocks of ``block`` customers."""
    n_months, start = 60, "2021-01-31"
    progress(f"the month end at {customers:,} customers, in blocks of {block:,}")
    base = generate(base_customers, n_months, start, seed=42)
    for oracle in ORACLES:  # the generator's truth: not input data
        base.pop(oracle, None)
    as_of = (pd.Timestamp(start) + pd.offsets.MonthEnd(n_months - 1)).date().isoformat()
    copies, blocks = block // base_customers, customers // block
    with tempfile.TemporaryDirectory(prefix="bench-month-end-") as folder:
        for name, frame in base.items():
            write_parquet(frame, Path(folder) / f"{name}.parquet")
        out = run_child(CHILD, folder, str(copies), str(blocks), as_of, timeout=7200)
    label = f"{out['customers']:,} customers"
    return [
        Figure(SECTION, f"{label}: month end, new month only (fingerprints, features of "
               f"{out['new_rows']:,} rows, sector comparisons; no full table)", out["build_s"],
               "s", key=f"features_month_end_new_rows_s_{out['customers']}"),
        Figure(SECTION, f"{label}: month end peak memory (blocks of {block:,})",
               out["peak_mb"], "MB", key=f"features_month_end_peak_mb_{out['customers']}"),
    ]  # fmt: skip


def needed(paths: Paths) -> list[Path]:
    """The trained pipeline's outputs :func:`end_to_end` reads (``make run`` first)."""
    return [getattr(paths, name) for name in RECORDS] + [paths.booster]


def end_to_end(customers: int = 50_000, base_customers: int = 5000) -> list[Figure]:
    """The month-end run (ingest -> validate -> featurize -> score -> report) at ``customers``."""
    n_months, start = 60, "2021-01-31"
    progress(f"the month-end run end to end at {customers:,} customers")
    base = generate(base_customers, n_months, start, seed=42)
    for oracle in ORACLES:  # the generator's truth: not input data
        base.pop(oracle, None)
    tables = tile(base, max(1, customers // base_customers))
    as_of = pd.Timestamp(start) + pd.offsets.MonthEnd(n_months - 1)
    previous = as_of - pd.offsets.MonthEnd(1)
    with tempfile.TemporaryDirectory(prefix="bench-end-to-end-") as folder:
        root = Path(folder)
        configs = {
            name: _month_config(root, name, tables, when, incremental)
            for name, when, incremental in (
                ("last", previous, True), ("this", as_of, True), ("full", as_of, False)
            )
        }  # fmt: skip
        _trained_pipeline(Paths(ROOT), Paths(root))
        out = run_child(
            END_TO_END, folder, str(ROOT / "configs"), *map(str, configs.values()), timeout=7200
        )
    times, n = out["times"], f"{len(tables['customers']):,} customers"
    total = sum(times.values())
    reference = total - times["featurize"] + out["full_featurize_s"]
    figures = [
        Figure(SECTION, f"{n}: month end end to end ({', '.join(STAGES)}), incremental features",
               total, "s", reference, "s with the features rebuilt in full",
               key=f"month_end_end_to_end_s_{len(tables['customers'])}"),
        Figure(SECTION, f"{n}: month end end to end, peak memory", out["peak_mb"], "MB",
               key=f"month_end_end_to_end_peak_mb_{len(tables['customers'])}"),
    ]  # fmt: skip
    figures += [
        Figure(SECTION, f"{n}: month end, {stage} stage", times[stage], "s", total,
               "s end to end", key=f"month_end_{stage}_s_{len(tables['customers'])}")
        for stage in STAGES
    ]  # fmt: skip
    return figures


def _month_config(
    root: Path, name: str, tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, incremental: bool
) -> Path:
    """The stages' params for a month: the book as known at ``as_of``, as a folder source."""
    folder = root / f"input-{as_of.date()}"
    if not folder.is_dir():
        folder.mkdir()
        for table, frame in known_at(tables, as_of, FeatureSettings()).items():
            write_parquet(frame, folder / f"{table}.parquet")
    params = yaml.safe_load(CONFIG.read_text())
    params["ingest"] |= {"source": "folder", "path": str(folder), "as_of_date": str(as_of.date())}
    params["features"]["incremental"] = incremental
    path = root / f"params-{name}.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _trained_pipeline(source: Paths, target: Paths) -> None:
    """The champion's records and the model registry, copied beside the month's data."""
    shutil.copytree(source.booster.parent, target.booster.parent)
    for name in RECORDS:
        getattr(target, name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(getattr(source, name), getattr(target, name))
    shutil.copy(source.root / "mlflow.db", target.root / "mlflow.db")
