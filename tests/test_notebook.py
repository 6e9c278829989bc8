"""The example notebook, executed headless in a real Jupyter kernel: the Monitor's cell updates
in place and the diagnoses draw themselves as HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")
pytest.importorskip("torch")

NOTEBOOK = Path(__file__).parent.parent / "examples" / "notebook.ipynb"


def test_the_example_notebook_runs_and_shows_live_and_html_outputs(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = json.dumps([c.outputs for c in code])
    assert "\\u001b[" not in outputs and "\x1b[" not in outputs  # no terminal escape codes
    # the Monitor's cell: one display, updated in place to its final state
    live = [o for o in code[0].outputs if o.output_type == "display_data"]
    assert len(live) == 1
    final = live[0].data["text/html"]
    assert "babysit: Sequential" in final and "completed" in final and "step 65" in final
    assert "val accuracy" in final and "val_acc " not in final  # said in words
    # the curves: the loss over 66 steps and the accuracies of 3 epochs, as an inline SVG
    assert final.count("<svg") == 1 and final.count("<polyline") == 3
    assert ">loss<" in final and ">accuracy<" in final
    # nothing on stderr: the cell shows the verdict (issue 36: a pink box for "no problems")
    assert not [o for o in code[0].outputs if o.output_type == "stream" and o.name == "stderr"]
    assert (tmp_path / "notebook-run.jsonl").exists()
    # a Solver's histories stuck at chance: the finding, drawn as HTML
    stuck = code[1].outputs[0]
    assert stuck.output_type == "execute_result" and "loss-flat" in stuck.data["text/html"]
    assert '<ol class="findings">' in stuck.data["text/html"] and "loss-flat" in stuck.data["text/plain"]
    assert "try: " in stuck.data["text/html"]  # the remedies, as in the report and the terminal
    # the log the first cell wrote, diagnosed
    assert code[2].outputs[0].output_type == "execute_result"
    assert "text/html" in code[2].outputs[0].data
    # babysit's own trainer from Python: the same live cell, then the summary's status
    trained = [o for o in code[3].outputs if o.output_type == "display_data"]
    assert len(trained) == 1 and "babysit train" in trained[0].data["text/html"]
    assert "completed" in trained[0].data["text/html"]
    assert code[3].outputs[-1].data["text/plain"] == "'completed'"
