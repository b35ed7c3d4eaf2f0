"""dvc.yaml deps cover every file a stage imports, so that a change re-runs what depends on it.

Each stage's command names its module (``python -m pipelines.<stage>``); the test follows that
module's imports (``ast``, function-level imports included) through the project's packages and
fails naming the stage and the file when a file it reaches is not under one of its deps.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[3]
PACKAGES = ("features", "models", "pipelines")


def stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    """The file of a project module (``pipelines.io.paths``), or ``None`` for a third party."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = REPO / Path(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports; ``from pkg import mod`` counts ``pkg.mod`` when a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def reached_files(entry: str) -> set[Path]:
    """The project files ``entry`` (a module name) reaches, itself and the packages above."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        for k in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:k]))
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(imported_modules(path))
    return seen


def data_files(module: str) -> set[Path]:
    """Files a module reads beside itself (the report's templates)."""
    path = module_file(module)
    folder = path.parent / "templates" if path else None
    return set(folder.rglob("*")) if folder and folder.is_dir() else set()


def uncovered(stage: dict) -> list[str]:
    match = re.search(r"python -m ([\w.]+)", stage["cmd"])
    assert match, f"stage command does not name a module: {stage['cmd']}"
    deps = [REPO / str(d).rstrip("/") for d in stage.get("deps", [])]
    files = reached_files(match.group(1))
    files |= {f for p in files for f in data_files(_module_name(p)) if f.is_file()}
    return sorted(
        str(f.relative_to(REPO)) for f in files
        if not any(f == d or d in f.parents for d in deps) and not _docstring_only(f)
    )  # fmt: skip


def _docstring_only(path: Path) -> bool:
    """A package ``__init__.py`` holding only its docstring changes no behaviour."""
    body = ast.parse(path.read_text()).body
    return path.name == "__init__.py" and all(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body
    )


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


@pytest.mark.parametrize("name", list(stages()))
def test_deps_cover_every_imported_file(name: str) -> None:
    missing = uncovered(stages()[name])
    assert not missing, f"dvc.yaml stage {name!r} imports files its deps do not cover: {missing}"


def test_a_missing_dep_is_found() -> None:
    """The check itself: dropping the stage's own module from its deps must be reported."""
    stage = dict(stages()["score"])
    stage["deps"] = [d for d in stage["deps"] if d != "pipelines/score.py"]
    assert "pipelines/score.py" in uncovered(stage)


def test_reached_files_follow_function_level_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from pipelines.runtime import cluster\n")
    assert "pipelines.runtime.cluster" in imported_modules(source)
