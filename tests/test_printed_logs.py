"""What the real libraries print, read back: Keras `fit` (verbose 2 piped, verbose 1 captured
raw from a terminal with its redraws), the Hugging Face Trainer's printed dicts, Lightning's
progress bar; and `python train.py 2>&1 | babysit watch -` in a pipe and a real terminal.

Every wait is for a condition (the process's end, a line on screen), never for a time."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from babysit.readers import ReadStats, find_runs

ROOT = Path(__file__).resolve().parents[1]
TRAINER = [sys.executable, "-m", "tests.printing_trainers"]
BABYSIT = f"{sys.executable} -m babysit"


def needs(module: str) -> None:
    """Skip unless `module` is installed (not imported here: Keras would pick a backend)."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


def printed(kind: str, tmp_path: Path) -> Path:
    """Run a printing trainer with its stdout piped into a file, as `> train.log` does."""
    out = tmp_path / f"{kind}.log"
    with out.open("wb") as fh:
        subprocess.run([*TRAINER, kind, str(tmp_path / "hf")], stdout=fh, stderr=subprocess.STDOUT,
                       cwd=ROOT, check=True, timeout=300)
    return out


def steps_of(path: Path) -> list[dict]:
    [run] = find_runs(path)
    return [r for r in run.read(ReadStats(), None) if r["type"] == "step"]


@pytest.mark.parametrize("kind", ["keras2", "hf", "lightning"])
def test_a_libraries_printed_output_is_read_with_its_validation(kind: str, tmp_path: Path) -> None:
    needs({"keras2": "keras", "hf": "transformers", "lightning": "pytorch_lightning"}[kind])
    steps = steps_of(printed(kind, tmp_path))
    assert steps and all(isinstance(r["step"], int) for r in steps)
    assert [r["step"] for r in steps] == sorted({r["step"] for r in steps})
    assert any("val_loss" in r for r in steps) and any("val_acc" in r for r in steps)
    assert any("loss" in r for r in steps)
    if kind != "lightning":  # Lightning's bar, piped, prints only its last state
        losses = [r["loss"] for r in steps if "loss" in r]
        assert len(losses) >= 6 and losses[-1] < losses[0]


def test_keras_progress_bar_captured_raw_from_a_terminal_is_read(tmp_path: Path) -> None:
    needs("keras")
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(TRAINER[0], [*TRAINER[1:], "keras1"], cwd=str(ROOT), timeout=300)
    child.expect(pexpect.EOF)  # the whole raw capture: \r and \b redraws, ANSI styles
    raw = child.before
    assert b"\r" in raw or b"\b" in raw
    path = tmp_path / "raw.log"
    path.write_bytes(raw)
    steps = steps_of(path)
    assert [r["epoch"] for r in steps] == [1, 2, 3, 4, 5, 6]
    assert all({"loss", "train_acc", "val_loss", "val_acc"} <= r.keys() for r in steps)


PIPE = f"set -o pipefail; {sys.executable} -m tests.printing_trainers stuck 2>&1 | {BABYSIT} watch -; " \
       "echo \"statuses ${PIPESTATUS[0]} ${PIPESTATUS[1]}\""


def test_watch_passes_a_piped_scripts_output_through_and_diagnoses_it() -> None:
    done = subprocess.run(["bash", "-c", PIPE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[0] == "Loading data..." and "Epoch 8: Val Loss=1.0986, Val Acc=33.3%" in lines
    first_finding = next(i for i, line in enumerate(lines) if line.startswith(("WARNING", "ERROR")))
    assert first_finding < lines.index("Epoch 8: Val Loss=1.0986, Val Acc=33.3%")  # live, not after
    assert "loss-flat" in done.stdout and "read as printed output" in done.stdout
    assert lines[-1] == "statuses 3 1"  # the script's own status is kept beside babysit's


def test_watch_of_a_pipe_in_a_real_terminal_shows_output_and_verdict() -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn("bash", ["-c", PIPE], cwd=str(ROOT), timeout=120, dimensions=(50, 120))
    child.expect("Loading data")
    child.expect("Epoch 8: Val Loss")
    child.expect("loss-flat")
    child.expect("statuses 3 1")
    child.expect(pexpect.EOF)


def test_watch_follows_a_growing_printed_log(tmp_path: Path) -> None:
    import signal

    from tests.waiting import Lines

    log = tmp_path / "train.log"
    with log.open("w") as fh:
        fh.write("Loading data...\n" + "".join(f"epoch 1 step {s} loss {2.3 - s / 100:.3f}\n" for s in range(0, 60, 10)))
    proc = subprocess.Popen([sys.executable, "-m", "babysit", "watch", str(log), "--no-live"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = Lines(proc.stdout)  # type: ignore[arg-type]
    try:
        with log.open("a") as fh:  # the script goes on printing, then its loss becomes NaN
            fh.write("epoch 1 step 60 loss 1.7\nepoch 1 step 70 loss nan\n")
        out.wait_for("ERROR loss-nan at step 70")  # shown live, while the file is still growing
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 1
        rest = out.rest()
        assert "read as printed output: 8 step lines (loss)" in rest and "steps read from" in rest
    finally:
        proc.kill()
