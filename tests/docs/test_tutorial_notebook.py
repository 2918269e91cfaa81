"""The tutorial notebook executes from a clean folder and shows its key results."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "first_experiment.ipynb"


def cell_text(cell) -> str:
    """Every stream and plain-text output of one executed code cell, joined."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def test_stored_notebook_has_no_outputs_and_model_switched_off():
    """The stored notebook is small and runs offline by default."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs for cell in code)
    assert "USE_MODEL = False" in code[0].source


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path):
    """Every cell runs without error in a temp folder; tables, figures and runs appear."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError naming the cell that failed
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "\n".join(cell_text(cell) for cell in code)
    assert "18 cells" in text  # the sweep ran its whole grid
    assert "USE_MODEL is False" in text
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images >= 4  # sweep errorbars, sweep_plot, effects, arm values, credence
    effects_cell = next(c for c in code if "arms.effects" in c.source)
    assert "difference" in cell_text(effects_cell) and "ci_low" in cell_text(effects_cell)
    arms_dir = tmp_path / "runs" / "first-experiment" / "arms"
    assert sorted(p.name for p in (arms_dir / "treatment").iterdir()) == ["s1", "s2", "s3"]
    assert (arms_dir / "control" / "s1" / "events.jsonl").is_file()
