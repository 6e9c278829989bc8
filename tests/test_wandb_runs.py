"""W&B run folders written by the real wandb (offline mode), read back: the history from the
run's own log when wandb can decode it, the captured output when it cannot, a damaged log
read up to its damage."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babysit.readers import ReadStats, find_runs
from babysit.readers import wandb as wandb_reader
from babysit.readers.wandb_log import HEADER, payloads

pytestmark = pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="wandb is not installed")

SCRIPT = """
import math, wandb
run = wandb.init(mode="offline", project="babysit-test", dir=".")
for epoch in range(12):
    loss = 2.3 * math.exp(-epoch / 4)
    print(f"epoch {epoch} | train_loss={loss:.4f} | val_loss={loss * 1.1:.4f}", flush=True)
    run.log({"train/loss": loss, "val/loss": loss * 1.1, "val/acc": 0.3 + epoch / 20, "epoch": epoch})
run.finish()
"""


@pytest.fixture(scope="module")
def wandb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `wandb/` folder holding one real offline run."""
    where = tmp_path_factory.mktemp("wandb-run")
    subprocess.run([sys.executable, "-c", SCRIPT], cwd=where, check=True, timeout=300, capture_output=True,
                   env={**os.environ, "WANDB_SILENT": "true", "WANDB_MODE": "offline"})
    return where / "wandb"


def steps(run, stats: ReadStats) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in run.read(stats, None) if r["type"] == "step"]


def test_the_history_is_read_from_the_runs_own_log(wandb_dir: Path) -> None:
    [run] = find_runs(wandb_dir)
    stats = ReadStats()
    got = steps(run, stats)
    assert [r["step"] for r in got] == list(range(12)) and [r["epoch"] for r in got] == list(range(12))
    assert got[0]["loss"] == pytest.approx(2.3) and got[-1]["val_acc"] == pytest.approx(0.85)
    assert "W&B history" in (stats.described or "")


def test_without_wandb_the_captured_output_is_read_and_said(wandb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wandb_reader, "protobufs", lambda: None)
    [run] = find_runs(wandb_dir)
    stats = ReadStats()
    got = steps(run, stats)
    assert len(got) == 12 and got[0]["loss"] == pytest.approx(2.3, abs=1e-4)
    assert "pip install 'babysit[wandb]'" in (stats.described or "")


def test_a_damaged_log_is_read_up_to_its_damage(wandb_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run-copy"
    shutil.copytree(next(wandb_dir.glob("*run-*")), folder)
    log = next(folder.glob("run-*.wandb"))
    data = bytearray(log.read_bytes())
    data[len(data) * 2 // 3] ^= 0xFF  # one flipped byte in a later record
    log.write_bytes(bytes(data))
    (folder / "files" / "output.log").unlink()
    [run] = find_runs(folder)
    stats = ReadStats()
    got = steps(run, stats)
    assert 0 < len(got) < 12 and stats.corrupt and "damaged record" in stats.corrupt


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_after_the_header_end_in_records_or_a_note(tmp_path_factory: pytest.TempPathFactory,
                                                            tail: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "run-x.wandb"
    path.write_bytes(HEADER + tail)
    stats = ReadStats()
    for payload in payloads(path, stats):
        assert isinstance(payload, bytes)
