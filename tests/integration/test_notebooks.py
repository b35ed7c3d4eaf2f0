"""The notebooks: stored without outputs, and run top to bottom on a tiny pipeline run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = {"01-explore-book", "02-explain-model", "03-monitor-portfolio"}
CELL_TIMEOUT_S = 300
KERNEL = "trade-credit-pd-tests"  # a name no kernel spec elsewhere on the machine can shadow


def test_the_notebooks_are_there():
    assert EXPECTED <= {path.stem for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}, nb.metadata
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "make run" in first.source
    for number, cell in enumerate(nb.cells, start=1):
        assert "execution" not in cell.metadata, f"cell {number} keeps execution times"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {number} is stored with outputs"
            assert cell.execution_count is None, f"cell {number} has an execution count"


@pytest.fixture
def kernel_name(tmp_path, monkeypatch) -> str:
    """A kernel spec of this interpreter, found first on JUPYTER_PATH."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_tiny_run(path, tiny_run, kernel_name):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tiny_run)}},  # the kernel's working directory
    )
    client.execute()  # a cell that raises fails the test with the cell and its traceback
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    assert figures, f"{path.name} drew no figure"
