"""The champion: the registered version that scores the book (batch, score, report)."""

from __future__ import annotations

from pipelines.io.files import StageError, read_json
from pipelines.io.paths import Paths
from pipelines.modelstore import registry


def champion(model_name: str, alias: str, tracking_uri: str, paths: Paths) -> dict:
    """The version holding ``alias`` (the champion): ``model_version`` and ``model_uri``.

    Raises:
        StageError: No champion yet: the gate's decision says why.
    """
    version = registry.aliases(model_name, tracking_uri).get(alias)
    if version is None:
        gate = read_json(paths.promotion) if paths.promotion.is_file() else {}
        why = "; ".join(gate.get("reasons", [])) or "no version was promoted yet"
        raise StageError(
            f"model {model_name!r} has no {alias}: the gate refused version "
            f"{gate.get('version', '?')} ({why}); nothing scores the book until a version "
            "passes it (python -m pipelines.promote after a new dvc repro)"
        )
    return {"model_version": version, "model_uri": f"models:/{model_name}/{version}"}
