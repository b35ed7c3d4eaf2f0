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
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from bench.common import Figure, progress, run_child
from bench.feature_speed import ORACLES, SECTION
from pipelines.io.files import write_parquet
from pipelines.sources.synthetic import generate

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
