"""Every artifact path of the pipeline, spelled once.

Stages, commands and tests take their paths from a :class:`Paths` rooted at the repository
(``Paths()``: the working directory, as under ``dvc repro``) or at any folder (``Paths(tmp)`` in
tests). ``dvc.yaml`` names the same files; a test holds its ``outs`` against this module.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def page_name(customer_id: str) -> str:
    """A customer page's file name: the id where it is a safe file name, else a readable form.

    ``C001897`` -> ``C001897.html``; ``ACME/01 Ltd`` -> ``ACME_01_Ltd-<8 hex>.html`` (the hash
    keeps two ids that differ only in unsafe characters apart).
    """
    text = str(customer_id)
    safe = _UNSAFE.sub("_", text)
    if safe == text and not text.startswith("."):
        return f"{text}.html"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{safe.lstrip('.')[:80]}-{digest}.html"


@dataclass(frozen=True)
class Paths:
    """The pipeline's files under ``root`` (data) and ``configs`` (the YAML the risk team owns).

    Args:
        root: The repository root (or a test's temporary folder).
        configs: The folder of ``policy.yaml`` and ``master_scale.yaml``; default
            ``root/configs``.
    """

    root: Path = Path(".")
    configs: Path | None = None

    def _data(self, *parts: str) -> Path:
        return Path(self.root, "data", *parts)

    def _config(self, name: str) -> Path:
        return Path(self.configs if self.configs is not None else Path(self.root, "configs"), name)

    # ingest -> data/raw
    @property
    def raw(self) -> Path:
        """The typed input tables, one Parquet file per table, and the manifest."""
        return self._data("raw")

    def raw_table(self, table: str) -> Path:
        """One typed input table."""
        return self.raw / f"{table}.parquet"

    @property
    def manifest(self) -> Path:
        """What ingest read: source, tables, as-of date, skipped lines."""
        return self.raw / "manifest.json"

    @property
    def unparsed(self) -> Path:
        """Cells ingest could not parse, for validation to report."""
        return self.raw / "unparsed.parquet"

    @property
    def truth(self) -> Path:
        """The synthetic book's true PDs and distress curves (synthetic source only)."""
        return self.raw / "truth.parquet"

    @property
    def invoice_truth(self) -> Path:
        """The synthetic ledger's true payment timing per invoice (synthetic source only)."""
        return self.raw / "invoice_truth.parquet"

    # validate -> data/validated, data/reports/validation
    @property
    def validated(self) -> Path:
        """The rows of data/raw that passed validation."""
        return self._data("validated")

    def validated_table(self, table: str) -> Path:
        """One validated table."""
        return self.validated / f"{table}.parquet"

    @property
    def validated_manifest(self) -> Path:
        """The manifest of the validated tables."""
        return self.validated / "manifest.json"

    @property
    def validation(self) -> Path:
        """The validation report folder: summary, rejected rows, Data Docs."""
        return self._data("reports", "validation")

    @property
    def validation_summary(self) -> Path:
        """The validation result per table and rule."""
        return self.validation / "summary.json"

    def validation_rejects(self, table: str) -> Path:
        """The rows of one table that validation set aside."""
        return self.validation / f"rejects_{table}.csv"

    @property
    def data_docs(self) -> Path:
        """Great Expectations Data Docs; not a DVC output (GX time-stamps every build)."""
        return self._data("reports", "data_docs")

    # featurize -> data/features
    @property
    def snapshots(self) -> Path:
        """Point-in-time feature rows, one per customer and month end."""
        return self._data("features", "snapshots.parquet")

    @property
    def features_cache(self) -> Path:
        """The last feature build's per-customer rows and state (not a DVC output)."""
        return self._data("features", "cache")

    @property
    def default_dates(self) -> Path:
        """Each customer's first default date and what triggered it."""
        return self._data("features", "default_dates.parquet")

    @property
    def features_summary(self) -> Path:
        """Rows, labels, horizon and skipped families of the feature build."""
        return self._data("features", "summary.json")

    # split -> data/splits
    @property
    def split(self) -> Path:
        """The window of each snapshot row."""
        return self._data("splits", "split.parquet")

    @property
    def windows(self) -> Path:
        """The windows' dates and sizes."""
        return self._data("splits", "windows.json")

    # train, calibrate, baseline -> data/models
    @property
    def booster(self) -> Path:
        """The LightGBM model."""
        return self._data("models", "booster.txt")

    @property
    def train_record(self) -> Path:
        """Features, parameters and search of the training."""
        return self._data("models", "train.json")

    @property
    def importance(self) -> Path:
        """Gain importance per feature."""
        return self._data("models", "importance.csv")

    @property
    def calibrator(self) -> Path:
        """The fitted calibrator."""
        return self._data("models", "calibrator.json")

    @property
    def hazard_booster(self) -> Path:
        """The term structure's monthly-hazard LightGBM model."""
        return self._data("models", "hazard.txt")

    @property
    def hazard(self) -> Path:
        """The term structure's settings, calibrators and fit record (``hazard.txt`` beside)."""
        return self._data("models", "hazard.json")

    @property
    def baseline(self) -> Path:
        """The weight-of-evidence scorecard and its calibrator."""
        return self._data("models", "baseline.json")

    @property
    def scorecard(self) -> Path:
        """The scorecard as a table."""
        return self._data("models", "scorecard.csv")

    # calibrate, evaluate, register, model_card, report -> data/reports
    @property
    def reports(self) -> Path:
        """The reports folder."""
        return self._data("reports")

    @property
    def calibration_report(self) -> Path:
        """The calibration's method choice and effect."""
        return self.reports / "calibration.json"

    @property
    def metrics(self) -> Path:
        """The evaluation's figures (``dvc metrics show``)."""
        return self.reports / "metrics.json"

    @property
    def plots(self) -> Path:
        """The evaluation's plot tables (``dvc plots show``)."""
        return self.reports / "plots"

    def plot(self, name: str) -> Path:
        """One plot table."""
        return self.plots / f"{name}.csv"

    @property
    def figures(self) -> Path:
        """The evaluation's PNG figures."""
        return self.reports / "figures"

    @property
    def registry_record(self) -> Path:
        """The version the register stage logged."""
        return self.reports / "registry.json"

    @property
    def promotion(self) -> Path:
        """The gate's decision: champion, challenger, promoted or refused and why."""
        return self.reports / "promotion.json"

    @property
    def model_card(self) -> Path:
        """The model card."""
        return self.reports / "model_card.md"

    @property
    def portfolio(self) -> Path:
        """The portfolio report."""
        return self.reports / "portfolio.html"

    @property
    def customer_pages(self) -> Path:
        """The customer credit reports: one page per customer, ``index.html`` lists them."""
        return self.reports / "customers"

    def customer_page(self, customer_id: str) -> Path:
        """One customer's credit report (:func:`page_name`)."""
        return self.customer_pages / page_name(customer_id)

    @property
    def bench(self) -> Path:
        """The benchmark figures (``make bench``)."""
        return self.reports / "bench.json"

    # score -> data/scored
    @property
    def scored(self) -> Path:
        """The scored book's folder."""
        return self._data("scored")

    @property
    def scores(self) -> Path:
        """Every scored customer."""
        return self.scored / "scores.csv"

    @property
    def defaulted(self) -> Path:
        """Every customer in default: its exposure in recovery, expected loss and actions."""
        return self.scored / "defaulted.csv"

    @property
    def rejects(self) -> Path:
        """Every customer that could not be scored (nor is in default), with the reason."""
        return self.scored / "rejects.csv"

    @property
    def alerts(self) -> Path:
        """The month's alerts."""
        return self.scored / "alerts.csv"

    @property
    def scored_summary(self) -> Path:
        """Dates and totals of the score run."""
        return self.scored / "summary.json"

    @property
    def workbook(self) -> Path:
        """The month's tables in one workbook for the risk team."""
        return self.scored / "book.xlsx"

    @property
    def history(self) -> Path:
        """The books of earlier runs."""
        return self.scored / "history"

    # collections -> data/scored, data/reports
    @property
    def open_invoices(self) -> Path:
        """Every open invoice of a scored customer: when it will be paid."""
        return self.scored / "invoices.csv"

    @property
    def collections(self) -> Path:
        """The collections worklist: open invoices by expected loss, with the action."""
        return self.scored / "collections.csv"

    @property
    def cash_forecast(self) -> Path:
        """The book's expected receipts per week, with an interval."""
        return self.scored / "cash_forecast.csv"

    @property
    def cash_forecast_customers(self) -> Path:
        """Each customer's expected receipts per week."""
        return self.scored / "cash_forecast_customers.csv"

    @property
    def payment_timing(self) -> Path:
        """The payment-timing model's evaluation, the cash back-test, the DSO forecast."""
        return self.reports / "payment_timing.json"

    # the MLflow tracking store and registry
    def tracking_uri(self, configured: str) -> str:
        """The registry's URI (``register.tracking_uri``): a relative sqlite file is in ``root``.

        Every stage and command that talks to the registry takes the URI from here, so that the
        same configured value reaches the same database from any working directory.
        """
        prefix = "sqlite:///"
        if configured.startswith(prefix) and not Path(configured[len(prefix) :]).is_absolute():
            return prefix + str(Path(self.root, configured[len(prefix) :]).resolve())
        return configured

    # the risk team's YAML
    @property
    def policy(self) -> Path:
        """The credit policy and alert rules."""
        return self._config("policy.yaml")

    @property
    def master_scale(self) -> Path:
        """The master scale."""
        return self._config("master_scale.yaml")


BATCH_SUMMARY = "summary.json"  # beside the parts of a pipelines.batch output folder
BATCH_MARKER = ".batch-output"  # left in every folder pipelines.batch writes; others it refuses


def staged(path: Path, folder: Path, staging: Path) -> Path:
    """Where ``path``, a file of ``folder``, goes in ``staging`` (the folder's atomic stand-in)."""
    return Path(staging) / Path(path).relative_to(folder)
