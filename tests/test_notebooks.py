"""The notebook walkthrough runs top to bottom and reaches its checks: hand-computed gradients equal
autograd's, and gradcheck passes."""
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebooks" / "backprop_through_lenet.ipynb"


def _stdout(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.outputs if output.output_type == "stream" and output.get("name") == "stdout")


@pytest.mark.slow
def test_backprop_through_lenet_notebook_runs_and_its_checks_pass():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # stored clean
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()  # raises on any failed cell
    out = _stdout(notebook)
    assert "loss by hand" in out and "all gradients agree" in out
    assert "gradcheck of the LeNet-5 loss w.r.t. conv1's kernels: True" in out
    assert "13 Functions" in out
