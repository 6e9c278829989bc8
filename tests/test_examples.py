"""The scripts in examples/ run as a user runs them, and babysit reads what they write."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
pytest.importorskip("torch")


def run(script: str, log: Path, *args: str) -> tuple[str, list[dict]]:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--log", str(log), *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [json.loads(line) for line in log.read_text().splitlines()]


NEEDS = {"lightning_digits.py": "pytorch_lightning", "transformers_digits.py": "transformers",
         "keras_digits.py": "keras"}


def skip_without(script: str) -> None:
    """Skip when the example's framework is not installed (found, not imported: Keras would
    pick its default backend in this process)."""
    if script in NEEDS and importlib.util.find_spec(NEEDS[script]) is None:
        pytest.skip(f"{NEEDS[script]} is not installed")


@pytest.mark.parametrize("script,args", [("torch_digits.py", []), ("torch_digits.py", ["--cnn"]),
                                         ("lightning_digits.py", []),
                                         ("transformers_digits.py", []), ("keras_digits.py", [])])
def test_example_writes_a_healthy_babysit_log(tmp_path: Path, script: str, args: list[str]) -> None:
    skip_without(script)
    out, recs = run(script, tmp_path / "run.jsonl", "--epochs", "3", *args)
    assert recs[0]["type"] == "header" and recs[-1]["status"] == "completed"
    epochs = [r for r in recs if r["type"] == "epoch"]
    wanted = {"val_acc", "val_loss"} | ({"train_acc"} if "transformers" not in script else set())
    assert len(epochs) == 3 and wanted <= set(epochs[-1])  # the HF Trainer has no train accuracy
    assert any("loss" in r for r in recs if r["type"] == "step")
    sampled = [r for r in recs if "layers" in r]
    assert sampled and all("update_ratio" in v for r in sampled[1:] for v in r["layers"].values())
    assert "warning:" not in out and "error:" not in out, out


@pytest.mark.parametrize("script", ["torch_digits.py", "lightning_digits.py",
                                    "transformers_digits.py", "keras_digits.py"])
def test_example_with_a_far_too_low_rate_is_told_so(tmp_path: Path, script: str) -> None:
    skip_without(script)
    out, _ = run(script, tmp_path / "run.jsonl", "--epochs", "8", "--lr", "1e-6")
    assert "warning: update-ratio-low" in out, out


def test_the_sanity_example_names_its_planted_bug_and_passes_once_fixed() -> None:
    script = str(EXAMPLES / "torch_sanity.py")
    buggy = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300)
    assert buggy.returncode == 1 and "FAIL  loss at init" in buggy.stdout
    assert "drop the softmax before CrossEntropyLoss" in buggy.stdout
    fixed = subprocess.run([sys.executable, script, "--fixed"], capture_output=True, text=True,
                           timeout=300)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr[-2000:]
