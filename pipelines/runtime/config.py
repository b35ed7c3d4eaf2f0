"""Configuration: ``configs/params.yaml`` loaded once into frozen, strict pydantic models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.io.files import StageError

M = TypeVar("M", bound=BaseModel)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TableFormat(_Section):
    """One table's file in a folder source; unset keys fall back to the ingest section's."""

    file: str | None = None  # default: <table>.parquet or <table>.csv
    columns: dict[str, str] = {}  # your column name -> contract column name
    date_format: str | None = None
    decimal: str | None = Field(None, min_length=1, max_length=1)
    thousands: str | None = Field(None, min_length=1, max_length=1)
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    encoding: str | None = None


class IngestConfig(_Section):
    """Where the input tables come from."""

    source: Literal[
        "synthetic", "folder", "taiwan_credit_default", "polish_bankruptcy", "ibm_ar_late_payment"
    ] = "synthetic"
    path: str | None = None  # folder source: required; public data sets: ../shared/data/<name>
    file: str | None = None  # public data sets: the file in path (default e.g. 5year.arff)
    industry_index: Literal["source", "industry_cycle"] = "source"  # real FF12/OECD series
    industry_cycle_path: str | None = None  # default ../shared/data/industry_cycle
    as_of_date: str | None = None  # folder data: default is the latest date in the files
    # folder source: how your files are spelled; `tables.<table>` overrides these per table
    date_format: str | None = None  # strptime format, e.g. "%d.%m.%Y"; default ISO 8601
    decimal: str = Field(".", min_length=1, max_length=1)  # "," for most European exports
    thousands: str | None = Field(None, min_length=1, max_length=1)
    delimiter: str = Field(",", min_length=1, max_length=1)  # ";" or "\t" for some exports
    encoding: str = "utf-8"  # a UTF-8 byte-order mark is accepted; e.g. gbk, cp1252
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")  # invoices without a currency column
    attributes_schema: str = "attributes.yaml"  # folder source: your attributes' labels, types
    tables: dict[str, TableFormat] = {}

    @model_validator(mode="after")
    def _folder_needs_path(self) -> IngestConfig:
        if self.source == "folder" and not self.path:
            raise ValueError("ingest.source is 'folder' but ingest.path is not set")
        return self


class SyntheticConfig(_Section):
    """Size and seed of the embedded synthetic book."""

    seed: int = 42
    n_customers: int = Field(5000, ge=20)
    n_months: int = Field(60, ge=24)
    start: str = "2021-01-31"


class ValidateConfig(_Section):
    """Validation reporting and what to do with rows that break a rule."""

    sample_rows: int = Field(5, ge=1)
    on_bad_rows: Literal["fail", "quarantine"] = "fail"  # quarantine: rejects file, rest go on
    # quarantine that would set aside more of a table's rows stops: a format problem (a lower-case
    # currency, a date format) rejects whole tables, and the run must not go on without them
    max_reject_share: float = Field(0.05, ge=0, le=1)


class FeaturesConfig(_Section):
    """Snapshot grid, label horizon, publication lags and the default definition."""

    horizon_months: int = Field(12, ge=1, le=36)
    warmup_months: int = Field(6, ge=0)
    index_publication_lag_months: int = Field(1, ge=0)
    financials_lag_days: int = Field(120, ge=0)
    default_days_past_due: int = Field(90, ge=1)
    default_materiality: float = Field(500.0, ge=0)
    # a customer whose latest fact (invoice, payment, statement, event, attribute row) is older
    # than this at a month end is stale: no snapshot, not scored (listed why); null: no rule
    max_fact_age_months: int | None = Field(24, ge=1)
    # engine pandas: customers built at a time (peak memory); the result does not depend on it
    block_customers: int = Field(10_000, ge=1)
    # build only the month ends after the last build when the data as known at its last month
    # end is unchanged (else everything); the result is the same as a full build
    incremental: bool = True


class SplitConfig(_Section):
    """Out-of-time windows, or a split by customer for data observed at one date."""

    strategy: Literal["auto", "out_of_time", "by_customer"] = "auto"
    test_share: float = Field(0.2, gt=0, lt=1)  # by_customer: share of customers in test
    calibration_share: float = Field(0.2, gt=0, lt=1)  # by_customer, cross_fit_folds 0 only
    # by_customer: no calibration customers are set aside; the booster learns from all the
    # non-test customers and the calibrator from their scores cross-fitted over this many
    # folds (0: hold out calibration_share of the customers instead)
    cross_fit_folds: int = Field(5, ge=0)
    seed: int = 42
    test_months: int = Field(6, ge=1)
    calibration_months: int = Field(12, ge=1)  # a whole year: no one phase sets the level
    # the test window starts this many months after the last calibration month (>= horizon)
    embargo_months: int = Field(12, ge=1)
    # as-of months left out between training and calibration (0: none); only the test
    # figures need the embargo, so training labels may reach into the calibration months
    train_gap_months: int = Field(0, ge=0)


TUNABLE = Literal[
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "reg_lambda",
    "feature_fraction",
    "bagging_fraction",
]
MAX_SEARCH_POINTS = 36


class TrainConfig(_Section):
    """LightGBM hyperparameters, early stopping, the stability screen and the grid search.

    The hyperparameters are the starting point; ``search`` lists values to try for some of
    them (every combination, scored on the early-stopping months of the training window).
    """

    seed: int = 42
    learning_rate: float = Field(0.02, gt=0, le=1)
    num_leaves: int = Field(7, ge=2)
    max_depth: int = Field(6, ge=-1)
    min_child_samples: int = Field(300, ge=1)
    reg_lambda: float = Field(1.0, ge=0)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    num_boost_round: int = Field(1500, ge=1)
    early_stopping_rounds: int = Field(100, ge=1)
    validation_months: int = Field(3, ge=1)
    validation_share: float = Field(0.25, gt=0, lt=1)  # one-date data: customers held out
    # also hold customers out of fitting to stop early (a panel: every company in every period)
    validation_customers: bool = False
    max_feature_psi: float | None = Field(0.25, gt=0)  # None: no stability screen
    psi_bins: int = Field(10, ge=2)
    # catalogue kinds the screen judges (features.catalogue.KINDS); the others always stay in
    screen_kinds: list[Literal["customer", "level", "relative"]] = ["customer", "level"]
    search: dict[TUNABLE, list[int | float]] = {}
    search_auc_tolerance: float = Field(0.005, ge=0, le=0.1)
    # below leaf_reference_rows fitting rows, also try LightGBM's default tree shape
    search_plain: bool = True
    # the leaf sizes above are for this many fitting rows; fewer scale them by the square root
    leaf_reference_rows: int | None = Field(40_000, ge=1)

    @model_validator(mode="after")
    def _search_is_bounded(self) -> TrainConfig:
        points = 1
        for key, values in self.search.items():
            if not values:
                raise ValueError(f"train.search.{key} has no values")
            points *= len(values)
        if points > MAX_SEARCH_POINTS:
            raise ValueError(
                f"train.search has {points} combinations; at most {MAX_SEARCH_POINTS} keep "
                "training within minutes"
            )
        return self


class CalibrateConfig(_Section):
    """Calibration method and PD floor."""

    method: Literal["auto", "platt", "beta", "centred_isotonic"] = "auto"
    criterion: Literal["log_loss", "brier"] = "log_loss"  # what "auto" minimises (cross-validated)
    cv_folds: int = Field(5, ge=2)
    pd_floor: float = Field(0.0003, ge=0, lt=0.5)
    min_step_events: int = Field(5, ge=0)  # centred isotonic: defaults and non-defaults per block


class TermStructureConfig(_Section):
    """The hazard model of the PD's timing (``models.hazard.HazardSettings``, README)."""

    enabled: bool = True
    learning_rate: float = Field(0.03, gt=0, le=1)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(100, ge=1)
    negative_share: float = Field(0.3, gt=0, le=1)
    month_splits: tuple[Annotated[int, Field(ge=1, le=11)], ...] = (1, 3, 6)
    calibration: Literal["platt", "beta", "centred_isotonic"] = "platt"
    grace_days: float = Field(15, ge=0, le=365)
    default_terms_days: float = Field(30, ge=0, le=365)
    min_events: int = Field(50, ge=1)
    seed: int = 42


class BaselineConfig(_Section):
    """The weight-of-evidence logistic scorecard the model is compared with."""

    max_n_bins: int = Field(6, ge=2, le=20)
    min_bin_share: float = Field(0.05, gt=0, lt=0.5)
    min_iv: float = Field(0.02, ge=0)
    C: float = Field(1.0, gt=0)


class EvaluateConfig(_Section):
    """Evaluation settings."""

    calibration_bins: int = Field(10, ge=2)
    bootstrap_samples: int = Field(200, ge=10, le=5000)
    seed: int = 42
    backtest_alpha: float = Field(0.01, gt=0, lt=0.5)
    backtest_min_customers: int = Field(30, ge=1)
    psi_bins: int = Field(10, ge=2)
    horizons: list[int] = Field([1, 3, 6, 12], min_length=1)  # months, each 1..12
    direct_anchors: bool = True

    @model_validator(mode="after")
    def _horizons_within_a_year(self) -> EvaluateConfig:
        if any(not 1 <= h <= 12 for h in self.horizons):
            raise ValueError(f"evaluate.horizons must lie in 1..12 months, got {self.horizons}")
        return self


class RegisterConfig(_Section):
    """MLflow tracking store and registry names."""

    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "trade-credit-pd"
    model_name: str = "trade-credit-pd"
    alias: str = "challenger"


class PromoteConfig(_Section):
    """When the challenger may replace the champion (``python -m pipelines.promote``)."""

    champion_alias: str = "champion"
    min_auc: float = Field(0.6, ge=0.5, lt=1)  # a floor for the first champion too
    auc_tolerance: float = Field(0.005, ge=0, le=0.1)  # the challenger may trail by this much
    max_ece: float = Field(0.02, gt=0, le=0.2)
    max_mean_pd_gap: float = Field(0.25, gt=0, le=1)  # |mean PD / default rate - 1|


class LossDistributionConfig(_Section):
    """The portfolio loss distribution in the score summary (``models.loss_distribution``)."""

    scenarios: int = Field(20_000, ge=100, le=10_000_000)  # Monte Carlo scenarios of one year
    seed: int = Field(0, ge=0, lt=2**32)
    # one asset correlation for every customer; null: the Basel corporate formula (0.12-0.24)
    asset_correlation: float | None = Field(None, ge=0, lt=1)
    sector_correlation: float = Field(1.0, ge=0, le=1)  # between sector factors; 1: one factor
    top_contributors: int = Field(10, ge=1)  # customers listed by contribution to the 99.9 % ES


class OutlookConfig(_Section):
    """The 3- and 6-month outlook by region and sector in the score summary (``models.outlook``).

    Its default correlation is the loss distribution's (``score.loss_distribution``).
    """

    scenarios: int = Field(10_000, ge=100, le=10_000_000)  # Monte Carlo scenarios of the counts
    seed: int = Field(0, ge=0, lt=2**32)
    # one asset correlation for the outlook's interval; null: score.loss_distribution's
    asset_correlation: float | None = Field(None, ge=0, lt=1)
    level: float = Field(0.9, gt=0, lt=1)  # central share of the simulated counts: the interval
    observed_months: int = Field(6, ge=1, le=60)  # the observed rate shown beside the outlook


class ScoreConfig(_Section):
    """Batch scoring, month-over-month monitoring and the scored CSV."""

    n_reasons: int = Field(3, ge=1, le=10)
    # a reason must raise the log-odds by more than this; stored with the registered model
    # (the default is models.reasons.MIN_REASON_LOGODDS: config imports no library code)
    min_reason_logodds: float = Field(0.1, ge=0, le=2)
    as_of_date: str | None = None  # month end to score; default: the latest snapshot date
    language: Literal["en", "zh"] = "en"  # reason sentences, actions, alert messages
    backfill_months: int = Field(5, ge=0, le=36)  # months re-scored into an empty history
    csv_bom: bool = True  # UTF-8 byte-order mark, so that Excel reads non-Latin names
    chunk_rows: int = Field(50_000, ge=1)  # rows scored at a time (memory stays bounded)
    loss_distribution: LossDistributionConfig = LossDistributionConfig()
    outlook: OutlookConfig = OutlookConfig()

    @model_validator(mode="after")
    def _as_of_is_a_month_end(self) -> ScoreConfig:
        if self.as_of_date is not None:
            try:
                date = pd.Timestamp(self.as_of_date)
            except ValueError:
                raise ValueError(f"score.as_of_date {self.as_of_date!r} is not a date") from None
            if not date.is_month_end:
                raise ValueError(f"score.as_of_date {self.as_of_date} is not a month end")
        return self


class CollectionsConfig(_Section):
    """When each open invoice is paid (``models.payment_timing``), the cash-in forecast, DSO."""

    horizon_weeks: int = Field(26, ge=2, le=104)  # weeks of each invoice's payment distribution
    forecast_weeks: int = Field(13, ge=1, le=52)  # the cash-in forecast's weeks
    dso_months: int = Field(3, ge=1, le=12)  # the DSO forecast's month ends
    train_months: int = Field(12, ge=1, le=120)  # month ends the model learns from
    test_months: int = Field(6, ge=1, le=60)  # evaluation: latest month ends with outcomes known
    negative_share: float = Field(0.15, gt=0, le=1)  # non-payment invoice-weeks fitted
    learning_rate: float = Field(0.1, gt=0, le=1)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(200, ge=1)
    seed: int = 42

    @model_validator(mode="after")
    def _forecast_within_horizon(self) -> CollectionsConfig:
        if self.forecast_weeks > self.horizon_weeks:
            raise ValueError(
                f"collections.forecast_weeks ({self.forecast_weeks}) must not exceed "
                f"collections.horizon_weeks ({self.horizon_weeks})"
            )
        return self


class ReportConfig(_Section):
    """The portfolio report."""

    trend_months: int = Field(12, ge=2, le=24)  # month ends in the trends and the risk map
    top_movers: int = Field(10, ge=1)  # customers listed among the largest PD moves
    max_alerts: int = Field(15, ge=1)  # alerted customers listed (all in data/scored/alerts.csv)


class DaskConfig(_Section):
    """Where ``engine: dask`` runs: a scheduler address, or a LocalCluster on this machine.

    A scheduler elsewhere runs whatever its clients send on the workers, so the client talks to
    it over TLS with a certificate (``tls://`` and the three files, README "Scaling out"); plain
    ``tcp://`` only to this machine (``localhost``, ``127.0.0.1``), or with
    ``allow_unencrypted: true`` on a network the team trusts.
    """

    scheduler: str | None = None  # e.g. "tls://10.0.0.5:8786"; null: a LocalCluster here
    n_workers: int = Field(2, ge=1)  # LocalCluster only
    threads_per_worker: int = Field(1, ge=1)  # LocalCluster only
    partitions: int | None = Field(None, ge=1)  # customer partitions; null: 4 per worker
    tls_ca_file: str | None = None  # the CA that signed the scheduler's and workers' certificates
    tls_cert: str | None = None  # this client's certificate (PEM)
    tls_key: str | None = None  # its private key (PEM)
    allow_unencrypted: bool = False  # tcp:// to another machine: only on a trusted network

    @model_validator(mode="after")
    def _secure(self) -> DaskConfig:
        files = (self.tls_ca_file, self.tls_cert, self.tls_key)
        if any(files) and not all(files):
            raise ValueError("dask: give all of tls_ca_file, tls_cert and tls_key, or none")
        address = self.scheduler or ""
        if address.startswith("tls://") and not all(files):
            raise ValueError(f"dask.scheduler {address} is TLS: set tls_ca_file, tls_cert, tls_key")
        host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
        local = host in ("localhost", "127.0.0.1", "::1")
        if address and not address.startswith("tls://") and not local:
            if not self.allow_unencrypted:
                raise ValueError(
                    f"dask.scheduler {address} is not encrypted: anyone who reaches it runs code "
                    "on the workers; use tls:// with certificates (README 'Scaling out'), or set "
                    "dask.allow_unencrypted: true on a network you trust"
                )
        return self


class Config(_Section):
    """The whole params file, one section per stage."""

    engine: Literal["pandas", "dask"] = "pandas"  # dask: features and scoring on a Dask cluster
    dask: DaskConfig = DaskConfig()
    ingest: IngestConfig = IngestConfig()
    synthetic: SyntheticConfig = SyntheticConfig()
    validate_: ValidateConfig = Field(ValidateConfig(), alias="validate")
    features: FeaturesConfig = FeaturesConfig()
    split: SplitConfig = SplitConfig()
    train: TrainConfig = TrainConfig()
    calibrate: CalibrateConfig = CalibrateConfig()
    term_structure: TermStructureConfig = TermStructureConfig()
    baseline: BaselineConfig = BaselineConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    register_: RegisterConfig = Field(RegisterConfig(), alias="register")
    promote: PromoteConfig = PromoteConfig()
    score: ScoreConfig = ScoreConfig()
    collections: CollectionsConfig = CollectionsConfig()
    report: ReportConfig = ReportConfig()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _embargo_covers_horizon(self) -> Config:
        if self.split.embargo_months < self.features.horizon_months:
            raise ValueError(
                f"split.embargo_months ({self.split.embargo_months}) must be at least "
                f"features.horizon_months ({self.features.horizon_months}), or training and "
                "calibration label windows would reach past the first test as-of date"
            )
        return self


def load_config(path: str | Path) -> Config:
    """Read and validate the params file (``configs/params.yaml``)."""
    return load_yaml_model(path, Config, "config")


def load_yaml_model(path: str | Path, model: type[M], what: str) -> M:
    """Read a YAML file into the pydantic ``model``; problems become one ``StageError``.

    Args:
        path: The YAML file.
        model: The pydantic model class to validate it with.
        what: What the file is, for the messages ("config", "credit policy").
    """
    path = Path(path)
    if not path.is_file():
        raise StageError(f"{what} file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        raise StageError(f"invalid {what} {path}:\n  " + "\n  ".join(lines)) from None


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    """Parse the command line every stage shares: ``--config PATH``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default="configs/params.yaml", help="params file")
    return parser.parse_args(argv)
