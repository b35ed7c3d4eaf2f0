"""Shared test fixtures.

``tiny_pd_model`` gives a factory for a small but real PD model (LightGBM booster + Platt
calibrator + the project's master scale) trained on seeded toy data in well under a second.
"""

import pickle
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import yaml

from features.catalogue import monotone_constraints
from features.timeline import month_index
from models.calibration import PDCalibrator
from models.hazard import HazardModel, HazardSettings
from models.master_scale import MasterScale
from models.pd_model import PDModel
from pipelines.io.paths import Paths

MASTER_SCALE = Path(__file__).resolve().parents[1] / "configs" / "master_scale.yaml"
TINY_FEATURES = (
    "days_late_wavg_12m",
    "on_time_rate_12m",
    "debt_ratio",
    "current_ratio",
    "dso_days",
)


def project_master_scale() -> MasterScale:
    """The master scale of ``configs/master_scale.yaml``."""
    return MasterScale.from_records(yaml.safe_load(MASTER_SCALE.read_text())["grades"])


def toy_rows(
    features: tuple[str, ...] | list[str], seed: int, n: int, nan_every: int | None
) -> tuple[pd.DataFrame, pd.Series]:
    """Standard-normal features; the default risk rises with ``days_late_wavg_12m``."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(features))), columns=list(features))
    if nan_every and "debt_ratio" in X:
        X.loc[::nan_every, "debt_ratio"] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(2 - 1.5 * X["days_late_wavg_12m"]))).astype(int)
    return X, y


def build_tiny_pd_model(
    features: tuple[str, ...] | list[str] = TINY_FEATURES,
    *,
    seed: int = 0,
    n: int = 300,
    nan_every: int | None = 7,
    train: tuple[pd.DataFrame, pd.Series] | None = None,
    calibrate: tuple[pd.DataFrame, pd.Series] | None = None,
    num_boost_round: int = 10,
    min_data_in_leaf: int = 10,
    monotone: bool = False,
    n_reasons: int = 3,
    term_structure: bool = False,
) -> tuple[PDModel, pd.DataFrame]:
    """A real booster + Platt calibrator + the project's master scale.

    Args:
        features: Catalogue feature names (toy data only; ignored when ``train`` is given).
        seed: Seed of the toy data and of LightGBM.
        n: Toy rows.
        nan_every: Every n-th toy ``debt_ratio`` is missing (None: none).
        train: ``(X, y)`` to train on instead of the toy data.
        calibrate: ``(X, y)`` to calibrate on (default: the training rows).
        num_boost_round: Trees.
        min_data_in_leaf: LightGBM's ``min_data_in_leaf``.
        monotone: Train with the catalogue's monotone constraints.
        n_reasons: Reason codes per row.
        term_structure: Add a term structure: a small hazard model on the same rows, each
            default dated a seeded 1..12 months after one as-of date.

    Returns:
        The model and the training features.
    """
    X, y = train if train is not None else toy_rows(features, seed, n, nan_every)
    params = {
        "objective": "binary",
        "num_leaves": 4,
        "min_data_in_leaf": min_data_in_leaf,
        "seed": seed,
        "num_threads": 1,  # on a few hundred rows, thread start-up costs more than the work
        "verbose": -1,
    }
    if monotone:
        params["monotone_constraints"] = monotone_constraints(list(X.columns))
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=num_boost_round)
    X_cal, y_cal = calibrate if calibrate is not None else (X, y)
    calibrator = PDCalibrator("platt").fit(
        booster.predict(X_cal, raw_score=True), np.asarray(y_cal, dtype=float)
    )
    hazard = tiny_hazard(X, y, seed) if term_structure else None
    scale = project_master_scale()
    return PDModel(booster, calibrator, scale, n_reasons=n_reasons, term_structure=hazard), X


def tiny_hazard(X: pd.DataFrame, y: pd.Series, seed: int) -> HazardModel:
    """A small hazard model on ``X``: a default (``y``) falls in a seeded month 1..12."""
    as_of = pd.Timestamp("2023-01-31")
    months = np.random.default_rng(seed).integers(1, 13, len(X))
    dates = as_of + pd.to_timedelta(months * 30, "D")
    rows = X.assign(
        customer_id=[f"C{i}" for i in range(len(X))], as_of_date=as_of,
        month=month_index(pd.Series([as_of]))[0],
        default_date=pd.Series(dates).where(np.asarray(y) == 1).to_numpy(),
    )  # fmt: skip
    settings = HazardSettings(num_boost_round=20, min_child_samples=5, seed=seed)
    return HazardModel(settings, list(X.columns)).fit(rows, pd.Timestamp("2024-01-31"))


@pytest.fixture(scope="session")
def tiny_pd_model() -> Callable[..., tuple[PDModel, pd.DataFrame]]:
    """Factory ``tiny_pd_model(features=..., seed=0, ...) -> (PDModel, X)``; see the module."""
    return build_tiny_pd_model


@pytest.fixture(scope="session")
def tiny_pyfunc(tmp_path_factory, tiny_pd_model) -> dict:
    """The tiny PD model saved and loaded as the pipeline's pyfunc (no registry needed).

    Returns ``{"model": loaded pyfunc, "path": its folder, "X": the rows it was built on}``.
    """
    import mlflow

    from pipelines.modelstore.registry import PDPyfunc, model_signature

    root = tmp_path_factory.mktemp("pyfunc")
    model, X = tiny_pd_model()
    pickled = root / "pd_model.pkl"
    pickled.write_bytes(pickle.dumps(model))
    path = root / "pyfunc"
    mlflow.pyfunc.save_model(
        path,
        python_model=PDPyfunc(),
        artifacts={"pd_model": str(pickled)},
        signature=model_signature(model),
        input_example=X.head(2)[model.feature_names],
    )
    return {"model": mlflow.pyfunc.load_model(str(path)), "path": path, "X": X}


@pytest.fixture
def command_at(monkeypatch) -> Callable[[ModuleType, Paths], None]:
    """``command_at(stage_module, paths)``: the module's ``main`` works on ``paths``.

    A command line takes its paths from ``Paths()``, the working directory (the repository
    root under ``dvc repro``); this points it at a test's folder without changing directory.
    """

    def point(module: ModuleType, paths: Paths) -> None:
        monkeypatch.setattr(module, "Paths", lambda: paths)

    return point


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class Chromium:
    """Headless Chromium on a local page, offline: its DOM, console errors and printed pages."""

    FLAGS = (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--enable-logging=stderr", "--v=0",
    )  # fmt: skip

    def __init__(self, executable: str, profile: Path) -> None:
        self.executable, self.profile = executable, profile

    def run(self, page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
        profile = f"--user-data-dir={self.profile}"
        done = subprocess.run(
            [self.executable, *self.FLAGS, profile, *flags, page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    def dom(self, page: Path) -> str:
        """The page's DOM after loading; fails on any console message (an error, a blocked load)."""
        done = self.run(page, "--dump-dom")
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        assert not console, console
        return done.stdout

    def pdf_pages(self, page: Path) -> int:
        """How many A4 pages the page prints to (the page's own @page size, no header/footer)."""
        pdf = self.profile.with_name(self.profile.name + ".pdf")
        self.run(page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
        return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.fixture
def chromium(tmp_path) -> Chromium:
    """Headless Chromium, or a skip saying how to get it (``.ci/run`` installs it)."""
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("no headless Chromium: install Debian's `chromium` package (.ci/run does)")
    return Chromium(found, tmp_path / "chromium-profile")
