"""MLflow: this module and `serving` (the HTTP app) are the only ones that import it.

The registered model is one pyfunc that maps a feature row to the 12-month PD, the master-scale
grade and the reason codes (:class:`PDPyfunc` around a pickled :class:`models.pd_model.PDModel`).
It words the reason sentences itself, from optional ``median__<feature>`` input columns (the
sector medians) and the ``language`` param (``en`` or ``zh``), so that a caller over HTTP gets
the sentence the score stage writes.
Serve it with ``mlflow models serve -m models:/<name>@<alias> --env-manager local`` from the
repo root; the project's packages must be importable there (they are installed editable).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import math
import pickle
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema

from models.pd_model import PDModel
from pipelines.io.files import StageError
from pipelines.modelstore import store
from pipelines.modelstore.tags import git_commit, git_dirty

ARTIFACT_DIR = "mlartifacts"
MODEL_NAME_IN_RUN = "model"
_PICKLE = "pd_model.pkl"
_SQLITE = "sqlite:///"
_REQUIREMENTS = ("mlflow", "lightgbm", "numba", "numpy", "pandas", "scikit-learn", "cloudpickle")
_BAD_KEY_CHARS = re.compile(r"[^\w\-. /]")
FINGERPRINT_TAG = "registration.fingerprint"  # run tag: registration_fingerprint()

log = logging.getLogger("pipelines.modelstore")


class PDPyfunc(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper of a pickled :class:`PDModel`: feature rows in; PD, grade, reasons out."""

    DEFAULT_LANGUAGE = "en"

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Unpickle the PD model from the model's ``pd_model`` artifact."""
        with open(context.artifacts["pd_model"], "rb") as fh:
            self.model: PDModel = pickle.load(fh)

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Return PD, grade and reason codes of each row (see :meth:`PDModel.predict`).

        ``params["language"]`` is the sentences' language; ``median__<feature>`` columns of
        ``model_input``, where present, add the sector median to the sentences.

        Raises:
            MlflowException: The input or the language does not fit (a 400 over HTTP).
        """
        language = (params or {}).get("language") or self.DEFAULT_LANGUAGE
        # a pd.DataFrame hint makes MLflow 3 infer nothing from it: the explicit signature rules
        try:
            return self.model.predict(pd.DataFrame(model_input), language=language)
        except ValueError as err:  # PDModel refuses what the caller sent: say so, not a 500
            raise MlflowException.invalid_parameter_value(str(err)) from None


def model_signature(model: PDModel) -> ModelSignature:
    """Signature: features, sector medians, the ``language`` param; PDs, grade, reason texts.

    Every feature is a required double (NaN allowed), a categorical attribute a required string
    (its level); each feature's ``median__<feature>`` is an optional double, and so are the
    payment terms where the term structure needs them and they are no feature
    (``PDModel.optional_inputs``); ``language`` is a string param, ``en`` unless given. The
    outputs: ``pd_12m``, ``grade``, the term structure's PDs (``PDModel.term_columns``) and
    the reasons.
    """
    features = [
        ColSpec("string" if name in model.levels else "double", name)
        for name in model.feature_names
    ]
    medians = [ColSpec("double", name, required=False) for name in model.optional_inputs]
    types = {"grade": "long"} | {c: "double" for c in ["pd_12m", *model.term_columns]}
    outputs = Schema([ColSpec(types.get(c, "string"), c) for c in model.output_columns])
    params = ParamSchema([ParamSpec("language", "string", PDPyfunc.DEFAULT_LANGUAGE)])
    return ModelSignature(inputs=Schema(features + medians), outputs=outputs, params=params)


def log_and_register(
    model: PDModel,
    *,
    tracking_uri: str,
    experiment: str,
    model_name: str,
    alias: str | None,
    params: dict,
    metrics: dict,
    artifacts: list[Path],
    tags: dict,
    input_example: pd.DataFrame,
) -> dict:
    """Log ``model`` as a pyfunc in a new run, register it and point ``alias`` at the version.

    A version already registered with the same model, tags, parameters and metrics (a repeated
    run, or one killed before its tags or alias were set) is completed and reused, not
    registered again (:func:`registration_fingerprint`).

    Args:
        model: The PD model to log.
        tracking_uri: MLflow tracking (and registry) URI, e.g. ``sqlite:///mlflow.db``.
        experiment: Experiment name; created with its artifacts beside a sqlite database.
        model_name: Registered model name.
        alias: Alias set on the new version once it is complete (e.g. ``challenger``);
            ``None``: none (an experiment's version).
        params: Run parameters; nested mappings are flattened to dotted keys.
        metrics: Run metrics; nested mappings flattened, non-numeric leaves skipped.
        artifacts: Files or folders logged with the run (missing ones are skipped).
        tags: Tags for the run and the model version (e.g. data hashes).
        input_example: A few feature rows stored with the model.

    Returns:
        ``tracking_uri``, ``run_id``, ``model_name``, ``model_version``, ``model_uri``
        (``models:/name/version``) and ``alias``.
    """
    all_tags = {
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        **{str(k): str(v) for k, v in tags.items()},
    }
    client = _client(tracking_uri, write=True)
    experiment_id = _ensure_experiment(client, experiment, tracking_uri)
    pickled = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    fingerprint = registration_fingerprint(pickled, all_tags, params, metrics)
    found = _registered_before(client, model_name, experiment_id, fingerprint)
    if found is not None:  # a repeated or interrupted run's version: finish it, add none
        version, run_id = found
        log.info("version %d already holds this model and record: completing it", version)
    else:
        run_tags = {**all_tags, FINGERPRINT_TAG: fingerprint}
        with mlflow.start_run(experiment_id=experiment_id, tags=run_tags) as run:
            mlflow.log_params(_flatten(params))
            mlflow.log_metrics(_numeric(_flatten(metrics)))
            for path in map(Path, artifacts):
                if path.is_dir():
                    mlflow.log_artifacts(str(path), artifact_path=path.name)
                elif path.is_file():
                    mlflow.log_artifact(str(path))
            info = _log_pyfunc(pickled, model, model_name, input_example)
        version, run_id = int(info.registered_model_version), run.info.run_id
    # the tags first, the alias last: a crash in between leaves no alias on an untagged version
    for key, value in all_tags.items():
        client.set_model_version_tag(model_name, str(version), key, value)
    if alias is not None:
        client.set_registered_model_alias(model_name, alias, str(version))
    return {
        "tracking_uri": tracking_uri,
        "run_id": run_id,
        "model_name": model_name,
        "model_version": version,
        "model_uri": f"models:/{model_name}/{version}",
        "alias": alias,
    }


def registration_fingerprint(
    pickled_model: bytes, tags: Mapping[str, str], params: Mapping, metrics: Mapping
) -> str:
    """SHA-256 of what a registration records: the model, its tags, parameters and metrics.

    The git state is left out: the same model and record registered from another commit is the
    same version. Stored as a tag of the run, which exists before the version does.
    """
    record = {k: v for k, v in tags.items() if k not in ("git_commit", "git_dirty")}
    text = json.dumps([record, _flatten(params), _flatten(metrics)], sort_keys=True, default=str)
    return hashlib.sha256(pickled_model + text.encode()).hexdigest()


def _registered_before(
    client: MlflowClient, model_name: str, experiment_id: str, fingerprint: str
) -> tuple[int, str] | None:
    """The oldest version whose run carries ``fingerprint``, with the run id; ``None``: none."""
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{FINGERPRINT_TAG}` = '{fingerprint}'"
    )
    versions = [
        (int(v.version), v.run_id)
        for run in runs
        for v in client.search_model_versions(f"run_id = '{run.info.run_id}'")
        if v.name == model_name
    ]
    return min(versions) if versions else None


def load_model(model_uri: str, tracking_uri: str) -> mlflow.pyfunc.PyFuncModel:
    """Load a registered model (``models:/name/version`` or ``models:/name@alias``) as pyfunc."""
    _client(tracking_uri)
    return mlflow.pyfunc.load_model(model_uri)


def predict(pyfunc: mlflow.pyfunc.PyFuncModel, frame: pd.DataFrame, params: dict) -> Any:
    """The pyfunc's answer for ``frame``; a refusal (a bad value) is a one-line ``StageError``."""
    try:
        return pyfunc.predict(frame, params=params)
    except MlflowException as err:
        raise StageError(f"the model refused rows: {err.message}") from None


def pd_model(pyfunc: mlflow.pyfunc.PyFuncModel) -> PDModel:
    """The :class:`PDModel` a loaded pyfunc serves (its booster, calibrator and master scale)."""
    return pyfunc.unwrap_python_model().model


def input_names(pyfunc: mlflow.pyfunc.PyFuncModel) -> list[str]:
    """Return the required input columns of a loaded pyfunc's signature (its features), in order."""
    return _input_schema(pyfunc).required_input_names()


def optional_input_names(pyfunc: mlflow.pyfunc.PyFuncModel) -> list[str]:
    """Return the optional input columns of a loaded pyfunc (sector medians, terms), in order."""
    return _input_schema(pyfunc).optional_input_names()


def text_input_names(pyfunc: mlflow.pyfunc.PyFuncModel) -> list[str]:
    """Return the input columns of a loaded pyfunc that take text (categorical attributes)."""
    return [spec.name for spec in _input_schema(pyfunc).inputs if spec.type == DataType.string]


def _input_schema(pyfunc: mlflow.pyfunc.PyFuncModel) -> Schema:
    schema = pyfunc.metadata.get_input_schema()
    if schema is None:
        raise StageError("the registered model has no input signature")
    return schema


def output_names(pyfunc: mlflow.pyfunc.PyFuncModel) -> list[str]:
    """Return the output columns of a loaded pyfunc's signature, in order."""
    schema = pyfunc.metadata.get_output_schema()
    if schema is None:
        raise StageError("the registered model has no output signature")
    return schema.input_names()


def set_alias(model_name: str, alias: str, version: int | str, tracking_uri: str) -> None:
    """Point ``alias`` of ``model_name`` at ``version`` (moving it from any other version)."""
    _client(tracking_uri, write=True).set_registered_model_alias(model_name, alias, str(version))


def get_version_by_alias(model_name: str, alias: str, tracking_uri: str) -> int:
    """Return the version number ``alias`` of ``model_name`` points at."""
    return int(_client(tracking_uri).get_model_version_by_alias(model_name, alias).version)


def version_run_id(model_name: str, version: int | str, tracking_uri: str) -> str:
    """The id of the MLflow run that logged one version."""
    client = _client(tracking_uri)
    try:
        return str(client.get_model_version(model_name, str(version)).run_id)
    except MlflowException:
        raise StageError(f"model {model_name!r} has no version {version}") from None


def aliases(model_name: str, tracking_uri: str) -> dict[str, int]:
    """Return every alias of ``model_name`` with the version it points at."""
    client = _client(tracking_uri)
    try:
        model = client.get_registered_model(model_name)
    except MlflowException as err:
        raise StageError(
            f"no registered model {model_name!r} in {tracking_uri}: run the register stage "
            f"first ({err.message})"
        ) from None
    return {alias: int(version) for alias, version in model.aliases.items()}


def version_tags(model_name: str, version: int | str, tracking_uri: str) -> dict[str, str]:
    """Return the tags of one model version."""
    client = _client(tracking_uri)
    try:
        return dict(client.get_model_version(model_name, str(version)).tags)
    except MlflowException:
        raise StageError(f"model {model_name!r} has no version {version}") from None


def set_version_tags(
    model_name: str, version: int | str, tags: Mapping[str, Any], tracking_uri: str
) -> None:
    """Set tags (values as strings) on one model version."""
    client = _client(tracking_uri, write=True)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, str(version), key, str(value))


def log_run_file(run_id: str, path: Path, tracking_uri: str) -> None:
    """Log one more file as an artifact of an existing run (e.g. the model card)."""
    _client(tracking_uri, write=True).log_artifact(run_id, str(path))


def artifact_root(tracking_uri: str) -> Path | None:
    """Return the artifact folder beside a sqlite tracking database, else ``None``."""
    if not tracking_uri.startswith(_SQLITE):
        return None
    return _sqlite_path(tracking_uri).parent / ARTIFACT_DIR


def absolute_uri(tracking_uri: str) -> str:
    """Return ``tracking_uri`` with a relative sqlite path made absolute (against the cwd).

    MLflow caches one store per URI string, so a relative ``sqlite:///mlflow.db`` would keep
    pointing at the first working directory's database in a process that changes directory.
    """
    if not tracking_uri.startswith(_SQLITE):
        return tracking_uri
    return f"{_SQLITE}{_sqlite_path(tracking_uri)}"


def _sqlite_path(tracking_uri: str) -> Path:
    return Path(unquote(tracking_uri[len(_SQLITE) :])).resolve()


def _client(tracking_uri: str, write: bool = False) -> MlflowClient:
    """Point MLflow at ``tracking_uri`` and return a client for it.

    A sqlite registry is checked first (``pipelines.modelstore.store``), and backed up before
    the process's first write (``write``).

    The fluent API (start_run, log_model, load_model) reads the process-wide URIs, so they are
    set here, on every call, rather than once at import.
    """
    uri = absolute_uri(tracking_uri)
    if uri.startswith(_SQLITE):
        store.check(_sqlite_path(uri))
        if write:
            store.backup(_sqlite_path(uri))
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _ensure_experiment(client: MlflowClient, name: str, tracking_uri: str) -> str:
    """Return the experiment id, creating it with artifacts beside a sqlite database.

    With a sqlite backend MLflow's default artifact root is ``./mlruns`` of whatever the working
    directory is; pinning it next to the database keeps a run's files inside the repo.
    """
    root = artifact_root(tracking_uri)
    found = client.get_experiment_by_name(name)
    if found is None:
        location = root.as_uri() if root is not None else None
        return client.create_experiment(name, artifact_location=location)
    if found.lifecycle_stage != "active":
        raise StageError(f"MLflow experiment {name!r} is deleted; restore it or choose another")
    local = _local_path(found.artifact_location)
    if root is not None and local is not None and local != root:
        raise StageError(
            f"MLflow experiment {name!r} keeps its artifacts in {found.artifact_location}, not "
            f"in {root} beside the tracking database (was the repo moved or copied with its "
            "mlflow.db?); delete mlflow.db and mlartifacts/ or set register.experiment anew"
        )
    return found.experiment_id


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(unquote(uri[len("file://") :])).resolve()
    if "://" not in uri:
        return Path(uri).resolve()
    return None


def _log_pyfunc(
    pickled_model: bytes, model: PDModel, model_name: str, input_example: pd.DataFrame
) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        pickled = Path(tmp) / _PICKLE
        pickled.write_bytes(pickled_model)
        return mlflow.pyfunc.log_model(
            name=MODEL_NAME_IN_RUN,
            python_model=PDPyfunc(),
            artifacts={"pd_model": str(pickled)},
            signature=model_signature(model),
            input_example=input_example[model.feature_names],
            # explicit requirements: inferring them loads the model in a subprocess
            pip_requirements=_requirements(),
            registered_model_name=model_name,
        )


def _requirements() -> list[str]:
    return [f"{pkg}=={importlib.metadata.version(pkg)}" for pkg in _REQUIREMENTS]


def _flatten(tree: Mapping, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = _BAD_KEY_CHARS.sub("_", f"{prefix}{key}")
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _numeric(flat: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in flat.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
