"""dvc.yaml's outputs are the paths module's: an artifact path is spelled once in the code."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import yaml

from pipelines.io.paths import Paths

REPO = Path(__file__).parents[3]
ROOT = Path("/repo")


def dvc_outputs() -> dict[str, set[Path]]:
    """Each stage's outs, metrics and plots, as paths under ``ROOT``."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    found: dict[str, set[Path]] = {}
    for name, stage in stages.items():
        entries = [e for key in ("outs", "metrics", "plots") for e in stage.get(key, [])]
        found[name] = {ROOT / (e if isinstance(e, str) else next(iter(e))) for e in entries}
    return found


def module_paths() -> dict[str, Path]:
    """Every path property of :class:`Paths` rooted at ``ROOT``."""
    paths = Paths(ROOT)
    return {
        name: getattr(paths, name)
        for name, member in inspect.getmembers(Paths)
        if isinstance(member, property) and isinstance(getattr(paths, name), Path)
    }


def test_every_dvc_output_is_a_path_of_the_module() -> None:
    known = set(module_paths().values())
    paths = Paths(ROOT)
    plots = {p for p in known if p.parent == paths.figures}  # figures are named by evaluate
    for stage, outs in dvc_outputs().items():
        for out in outs:
            inside = out.parent in (paths.plots, paths.figures)
            assert out in known or inside or out in plots, (
                f"dvc.yaml stage {stage!r} writes {out.relative_to(ROOT)}, "
                "which pipelines/io/paths.py does not name"
            )


def test_every_data_path_of_the_module_is_a_dvc_output() -> None:
    outs = set().union(*dvc_outputs().values())
    paths = Paths(ROOT)
    # make bench; parent folders; Data Docs (GX time-stamps every build: not hashed by DVC);
    # the features stage's cache of its last build (what it reuses, not what it gives)
    untracked = {paths.bench, paths.reports, paths.scored, paths.data_docs, paths.features_cache}
    for name, path in module_paths().items():
        if ROOT / "data" not in path.parents or path in untracked:
            continue
        covered = path in outs or any(o in path.parents for o in outs)
        covered |= any(path in o.parents for o in outs)  # a folder of several outs
        assert covered, f"Paths.{name} ({path.relative_to(ROOT)}) is no dvc.yaml output"


def test_stage_commands_name_the_stage_modules() -> None:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        module = re.search(r"python -m pipelines\.(\w+)", stage["cmd"]).group(1)
        assert module == name, f"stage {name!r} runs pipelines.{module}: name them alike"
        assert (REPO / "pipelines" / f"{name}.py").is_file()


def test_pipelines_top_level_holds_only_stages_and_commands() -> None:
    stages = set(yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"])
    commands = {"promote", "batch", "serve", "fetch_public"}
    modules = {p.stem for p in (REPO / "pipelines").glob("*.py")} - {"__init__"}
    assert modules == stages | commands, f"not a stage or command: {modules - stages - commands}"


def test_no_artifact_file_name_is_spelled_outside_the_paths_module() -> None:
    names = {p.name for p in module_paths().values() if "." in p.name}
    spelled = re.compile("|".join(re.escape(f'"{n}"') for n in sorted(names)))
    offenders = [
        f"{f.relative_to(REPO)}: {m.group(0)}"
        for package in ("pipelines", "features", "models", "bench")
        for f in (REPO / package).rglob("*.py")
        if f.name != "paths.py"
        for m in [spelled.search(f.read_text())]
        if m
    ]
    assert not offenders, f"artifact file names spelled outside pipelines/io/paths.py: {offenders}"


def test_no_stage_imports_another_stage_or_a_command() -> None:
    runnable = {p.stem for p in (REPO / "pipelines").glob("*.py")} - {"__init__"}
    for name in sorted(runnable):
        tree = ast.parse((REPO / "pipelines" / f"{name}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
        others = sorted(m for m in imported if m in {f"pipelines.{r}" for r in runnable - {name}})
        assert not others, f"pipelines/{name}.py imports the stages or commands {others}"


def test_library_packages_never_import_pipelines() -> None:
    for package in ("features", "models"):
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text()
            assert not re.search(r"^\s*(from|import) pipelines\b", text, re.M), path
