"""A book known at one date: customers, their attributes at that date and the defaults after it.

The shape of a loan-application book or of company ratios at one date. Through the real ingest,
validate and featurize stages with nothing but ``ingest.source: folder`` and its path: one
snapshot at the attributes' date, labelled by the defaults of the horizon after it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pipelines import featurize, ingest, validate
from pipelines.io.paths import Paths
from pipelines.runtime.config import Config

N = 300


def write_book(folder) -> None:
    rng = np.random.default_rng(5)
    ids = [f"A{i:04d}" for i in range(N)]
    score = rng.normal(600, 60, N).round()
    customers = pd.DataFrame(
        {
            "customer_id": ids, "name": [f"Applicant {i}" for i in ids], "country": "DE",
            "region": "DACH", "industry": "retail", "annual_revenue": 1e6,
            "relationship_start": "2023-01-01", "credit_limit": 10_000,
            "payment_terms_days": 30,
        }
    )  # fmt: skip
    attributes = pd.DataFrame(
        {"customer_id": ids, "known_date": "2023-12-15", "bureau_score": score,
         "utilisation": rng.uniform(0, 1, N).round(3)}
    )  # fmt: skip
    bad = rng.random(N) < 1 / (1 + np.exp((score - 520) / 25))
    defaults = pd.DataFrame(
        {
            "customer_id": np.array(ids)[bad],
            "default_date": pd.Timestamp("2024-01-31")
            + pd.to_timedelta(rng.integers(0, 330, bad.sum()), unit="D"),
            "default_type": "write_off",
        }
    )
    folder.mkdir()
    for name, frame in (("customers", customers), ("attributes", attributes),
                        ("defaults", defaults)):  # fmt: skip
        frame.to_csv(folder / f"{name}.csv", index=False)


def test_one_snapshot_at_the_attributes_date_labelled_by_the_year_after(tmp_path):
    write_book(tmp_path / "in")
    cfg = Config.model_validate({"ingest": {"source": "folder", "path": str(tmp_path / "in")}})
    paths = Paths(tmp_path)
    ingest.run(cfg, paths)
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["snapshot_dates"] == ["2023-12-31"]
    assert manifest["as_of_date"] == "2024-12-31"  # the 12-month label window after it
    assert "one-date data" in manifest["notes"][0]
    validate.run(cfg, paths)
    featurize.run(cfg, paths)
    snapshots = pd.read_parquet(paths.snapshots)
    assert set(snapshots["as_of_date"]) == {pd.Timestamp("2023-12-31")}
    assert len(snapshots) == N and snapshots["label"].notna().all()
    assert 0 < snapshots["label"].mean() < 0.5
    assert {"attr_bureau_score", "attr_utilisation"} <= set(snapshots.columns)
