"""A tiny repository, its model registered, scored and reported, for the stage tests.

Nine customers at two month ends (2024-11-30, 2024-12-31): C7 defaulted in March, C8 starts
next year, C9 defaults in December (scored in November only). Names include a spreadsheet
formula, Chinese and HTML; invoices and events make limit breaches, overdue amounts and a
legal dispute.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.contract import TABLES
from models.pd_model import PDModel
from pipelines import report, score
from pipelines.io.paths import Paths
from pipelines.modelstore import registry
from pipelines.runtime.config import Config

REPO = Path(__file__).parents[3]
FEATURES = ["days_late_wavg_12m", "n_late_30_12m", "debt_ratio", "current_ratio", "dso_days"]
AS_OF = pd.Timestamp("2024-12-31")
BEFORE = pd.Timestamp("2024-11-30")
D = pd.Timestamp
NAMES = {
    "C3": '=HYPERLINK("http://x","y")',
    "C4": "深圳华强电子有限公司",
    "C5": "+cmd|' /C calc'!A0",
    "C6": "<script>alert(1)</script> & Co",
}


def book() -> pd.DataFrame:
    ids = [f"C{i}" for i in range(1, 10)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": [NAMES.get(i, f"Firm {i}") for i in ids],
            "industry": ["retail"] * 5 + ["energy"] * 4,
            "region": ["north", "south"] * 4 + ["north"],
            "annual_revenue": [5e6, 2e6, 1e6, np.nan, 8e6, 3e6, 1e6, 1e6, 4e6],
            "relationship_start": pd.to_datetime(["2020-01-01"] * 7 + ["2025-02-01", "2020-01-01"]),
            "credit_limit": [2e4, 1e4, 5e3, 4e4, 3e4, 8e3, 1e3, 1e3, 6e3],
            "payment_terms_days": [60, 30, 30, 90, 45, 60, 30, 30, 30],
        }
    )  # fmt: skip


def snapshots(customers: pd.DataFrame) -> pd.DataFrame:
    """C1-C6 at both month ends, C9 in November only; the model's features are seeded noise.

    November is the (labelled) test window, December the unlabelled as-of month.
    """
    rng = np.random.default_rng(1)
    frames = []
    for as_of, ids in (
        (BEFORE, ["C1", "C2", "C3", "C4", "C5", "C6", "C9"]),
        (AS_OF, ["C1", "C2", "C3", "C4", "C5", "C6"]),
    ):
        live = customers.set_index("customer_id").loc[ids].reset_index()
        feats = pd.DataFrame(rng.normal(size=(len(live), len(FEATURES))), columns=FEATURES)
        feats["n_late_30_12m"] = rng.integers(0, 5, len(live))  # an integer column, as stored
        feats.loc[0, "debt_ratio"] = np.nan
        meta = live[["customer_id", "industry", "region"]].copy()
        meta.insert(1, "as_of_date", as_of)
        meta[["label", "default_date"]] = [np.nan, pd.NaT]
        if as_of == BEFORE:  # the test window is labelled: C9 defaults within the horizon
            meta["label"] = [float(c == "C9") for c in ids]
            meta.loc[meta["customer_id"] == "C9", "default_date"] = D("2024-12-15")
        meta["relationship_months"] = 59.0
        # C5 enters three late quarters in December; C6 was there already in November
        late = {"C5": 3.0 if as_of == AS_OF else 2.0, "C6": 3.0}
        meta["consecutive_quarters_late_45"] = [late.get(c, 0.0) for c in ids]
        frames.append(pd.concat([meta, feats], axis=1))
    return pd.concat(frames, ignore_index=True)


def invoices() -> pd.DataFrame:
    rows = [
        ("C1", "2024-12-01", "2025-01-30", 26000.0, None),  # open, above C1's limit of 20,000
        ("C1", "2024-02-01", "2024-04-01", 120000.0, "2024-04-01"),
        ("C2", "2024-10-11", "2024-11-10", 9000.0, None),  # 30 days past due on 2024-12-10
        ("C2", "2024-06-01", "2024-07-01", 30000.0, "2024-07-01"),
        ("C4", "2024-01-15", "2024-04-14", 400000.0, "2024-04-10"),
        ("C4", "2024-12-10", "2025-03-10", 30000.0, None),
        ("C9", "2024-09-01", "2024-10-01", 4000.0, None),
    ]
    frame = pd.DataFrame(
        rows, columns=["customer_id", "issue_date", "due_date", "amount", "paid_date"]
    )
    frame.insert(0, "invoice_id", [f"I{i}" for i in range(len(frame))])
    for col in ("issue_date", "due_date", "paid_date"):
        frame[col] = pd.to_datetime(frame[col])
    return frame.assign(currency="EUR", paid_amount=np.nan, disputed=False)


def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C2", "C3", "C1"],
            "event_date": pd.to_datetime(["2024-12-05", "2024-12-20", "2024-06-01"]),
            "event_type": ["legal_dispute", "ownership_change", "legal_dispute"],
            "description": ["Legal dispute reported", "Ownership change reported", "old"],
        }
    )


def repo_paths(root: Path) -> Paths:
    """The paths of a tiny repository at ``root``, reading the project's own configs."""
    return Paths(root, configs=REPO / "configs")


def write_fake_repo(paths: Paths, model: PDModel) -> PDModel:
    """Write the inputs of register, score and report under ``paths.root``."""
    for folder in (paths.raw, paths.validated, paths.snapshots.parent, paths.split.parent,
                   paths.booster.parent, paths.plots, paths.validation):  # fmt: skip
        folder.mkdir(parents=True)
    model.booster.save_model(str(paths.booster))
    paths.calibrator.write_text(json.dumps(model.calibrator.to_dict()))
    paths.hazard.write_text(json.dumps({"fitted": False, "reason": "a fake repository"}))
    metrics = {"test": {"auc": 0.7, "gini": 0.4, "brier": 0.05}, "grades": {"5": {"count": 3}}}
    paths.metrics.write_text(json.dumps(metrics))
    paths.calibration_report.write_text(json.dumps({"method": "platt"}))
    paths.plot("calibration").write_text("bin,mean_pd,observed_rate,count\n1,0.02,0.0,3\n")
    paths.validation_summary.write_text('{"success": true, "tables": {}}')
    customers = book()
    customers.to_parquet(paths.raw_table("customers"))
    for table in (paths.raw_table, paths.validated_table):  # validation kept every row
        invoices().to_parquet(table("invoices"))
        events().to_parquet(table("events"))
    paths.manifest.write_text(json.dumps({"as_of_date": "2024-12-31"}))
    snaps = snapshots(customers)
    snaps.to_parquet(paths.snapshots)
    paths.features_summary.write_text(json.dumps({"rows": len(snaps), "horizon_months": 12}))
    window = np.where(snaps["as_of_date"] == AS_OF, "unlabeled", "test")
    split = snaps[["customer_id", "as_of_date"]].assign(window=window)
    split.to_parquet(paths.split)
    defaults = pd.DataFrame(
        {
            "customer_id": ["C7", "C9"],
            "default_date": pd.to_datetime(["2024-03-15", "2024-12-15"]),
            "default_trigger": ["days_past_due", "insolvency_filing"],
        }
    )
    defaults.to_parquet(paths.default_dates)
    return model


def register_model(model: PDModel, paths: Paths) -> dict:
    """Register ``model`` as the register stage does, write its record and make it champion.

    The champion alias is set directly, as the promote stage does once its gate passes.
    """
    cfg = Config().register_
    uri = paths.tracking_uri(cfg.tracking_uri)
    record = registry.log_and_register(
        model,
        tracking_uri=uri,
        experiment=cfg.experiment,
        model_name=cfg.model_name,
        alias=cfg.alias,
        params={},
        metrics={},
        artifacts=[],
        tags={},
        input_example=pd.read_parquet(paths.snapshots)[FEATURES].head(2).astype(float),
    )
    paths.registry_record.write_text(json.dumps(record))
    champion = Config().promote.champion_alias
    registry.set_alias(cfg.model_name, champion, record["model_version"], uri)
    return record


@pytest.fixture(scope="session")
def staged(tmp_path_factory, tiny_pd_model):
    """The tiny repository after register, score and report (``paths``, ``model``, ``record``)."""
    paths = repo_paths(tmp_path_factory.mktemp("repo"))
    model = write_fake_repo(paths, tiny_pd_model(FEATURES, nan_every=None)[0])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        record = register_model(model, paths)
        score.run(Config(), paths)
        report.run(Config(), paths)
    return {"paths": paths, "model": model, "record": record}


@pytest.fixture
def staged_copy(staged, tmp_path) -> Paths:
    """The paths of a copy of the staged repository (``tmp_path/repo``), to change at will."""
    root = tmp_path / "repo"
    shutil.copytree(staged["paths"].root, root)
    return replace(staged["paths"], root=root)


@pytest.fixture(scope="session")
def read_scored(staged):
    """``read_scored(name)``: a scored CSV of the staged repo (``scores``, ``rejects``,
    ``alerts``: the :class:`Paths` property), read as a person's tool would."""

    def read(name: str) -> pd.DataFrame:
        path = getattr(staged["paths"], name)
        return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)

    return read


def _clean_tables() -> dict[str, pd.DataFrame]:
    """A small, contract-conforming set of every table (fresh frames on each call)."""
    ids = ["C1", "C2", "C3"]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "name": ["Alpha", "Beta", "Gamma"],
            "country": ["DE", "FR", "IT"],
            "region": ["EU"] * 3,
            "industry": ["retail", "steel", "retail"],
            "annual_revenue": [1e6, None, 5e5],
            "relationship_start": [D("2019-01-01"), D("2020-06-30"), D("2021-03-31")],
            "credit_limit": [1e4, 5e4, 0.0],
            "payment_terms_days": [30, 60, 90],
        }
    )
    invoices = pd.DataFrame(
        {
            "invoice_id": ["INV-1", "INV-2", "INV-3", "INV-4"],
            "customer_id": ["C1", "C1", "C2", "C3"],
            "issue_date": [D("2024-01-05"), D("2024-02-05"), D("2024-03-01"), D("2024-12-31")],
            "due_date": [D("2024-02-04"), D("2024-03-06"), D("2024-04-30"), D("2025-03-31")],
            "amount": [100.0, 250.5, 1000.0, 0.01],
            "currency": ["EUR"] * 4,
            "paid_date": [D("2024-02-01"), D("2024-02-05"), pd.NaT, pd.NaT],
            "paid_amount": [100.0, 250.5, None, None],
            "disputed": [False, False, True, False],
        }
    )
    financials = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2"],
            "period_end": [D("2022-12-31"), D("2023-12-31"), D("2023-12-31")],
            "available_date": [D("2023-04-30"), D("2024-04-30"), pd.NaT],
            **{
                c.name: [10.0, 20.0, None]
                for c in TABLES["financials"].columns
                if c.kind == "float"
            },
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C2", "C3"],
            "event_date": [D("2023-05-01"), D("2024-07-15")],
            "event_type": ["legal_dispute", "rating_downgrade"],
            "description": ["court case", None],
        }
    )
    industry_index = pd.DataFrame(
        {
            "industry": ["retail", "retail", "steel"],
            "month": [D("2024-10-31"), D("2024-11-30"), D("2024-11-30")],
            "value": [101.0, -3.5, 98.0],
        }
    )
    defaults = pd.DataFrame(
        {"customer_id": ["C2"], "default_date": [D("2024-09-30")], "default_type": ["write_off"]}
    )
    attributes = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C3"],
            "known_date": [D("2024-01-31"), D("2024-06-30"), D("2024-06-30")],
            "bureau_score": [610.0, 630.0, 480.0],
        }
    )
    payments = pd.DataFrame(
        {
            "invoice_id": ["INV-1", "INV-2", "INV-2", "INV-3"],
            "customer_id": ["C1", "C1", "C1", "C2"],
            "payment_date": [D("2024-02-01"), D("2024-02-05"), D("2024-02-05"), D("2024-05-31")],
            "amount": [100.0, 200.0, 50.5, 400.0],  # INV-2 in two parts, INV-3 a part only
        }
    )
    payment_plans = pd.DataFrame(
        {
            "customer_id": ["C2", "C2"],
            "agreed_date": [D("2024-06-30"), D("2024-10-31")],
            "amount": [600.0, None],
            "instalments": pd.array([3, None], dtype="Int64"),
            "end_date": [D("2024-09-30"), pd.NaT],
            "status": ["broken", "open"],
            "broken_date": [D("2024-07-31"), pd.NaT],
        }
    )
    return {
        "customers": customers,
        "invoices": invoices,
        "payments": payments,
        "payment_plans": payment_plans,
        "financials": financials,
        "events": events,
        "industry_index": industry_index,
        "defaults": defaults,
        "attributes": attributes,
    }


@pytest.fixture(scope="session")
def clean_tables():
    """Factory of a small, contract-conforming set of all seven tables (fresh frames each call)."""
    return _clean_tables


@pytest.fixture(scope="session")
def ledger():
    """Factory of the clean customers and invoices only: fewer suites, faster tests."""
    return lambda: {k: v for k, v in _clean_tables().items() if k in ("customers", "invoices")}
