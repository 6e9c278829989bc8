"""babysit.torch.Monitor under DDP: two real processes on CPU (gloo), one log written by rank 0,
what only rank 1 sees reaching it, every rank stopping on the same step, and a killed rank
leaving rank 0's log whole. The processes are waited for (their exit), never timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():  # pragma: no cover - every CPU wheel has it
    pytest.skip("torch.distributed is not available", allow_module_level=True)

WORKER = Path(__file__).with_name("ddp_worker.py")
LIMIT = 300  # seconds: only a hung collective would come near it


def run_ranks(mode: str, tmp_path: Path, world: int = 2, **env_vars: str) -> tuple[list[int], Path]:
    """Start `world` ranks of tests/ddp_worker.py and wait for all of them to exit."""
    log = tmp_path / f"{mode}.jsonl"
    procs = []
    for rank in range(world):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(world), "OMP_NUM_THREADS": "1",
               **env_vars}
        procs.append(subprocess.Popen([sys.executable, str(WORKER), mode, str(log),
                                       str(tmp_path / f"{mode}.init")], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    codes = []
    for proc in procs:
        out, _ = proc.communicate(timeout=LIMIT)
        codes.append(proc.returncode)
        if proc.returncode not in (0, -9):
            print(out.decode(errors="replace")[-3000:])
    return codes, log


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def state(log: Path, rank: int) -> dict[str, Any]:
    return json.loads(Path(f"{log}.rank{rank}.json").read_text())


def test_one_log_written_by_rank_zero_and_a_healthy_run_stays_quiet(tmp_path: Path) -> None:
    codes, log = run_ranks("healthy", tmp_path)
    assert codes == [0, 0]
    recs = records(log)  # every line parses: no interleaved or clobbered lines
    assert recs[0]["type"] == "header" and recs[0]["world_size"] == 2
    assert recs[-1]["type"] == "summary" and recs[-1]["status"] == "completed"
    steps = [r["step"] for r in recs if r["type"] == "step"]
    assert steps == list(range(len(steps))) and len(steps) == state(log, 0)["steps"]
    assert not any("ranks" in r for r in recs)  # the ranks agreed throughout
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl"] == [log.name]
    assert state(log, 0)["findings"] == [] and state(log, 1)["findings"] == []


def test_a_nan_on_rank_one_only_is_named_and_every_rank_stops_on_the_same_step(tmp_path: Path) -> None:
    codes, log = run_ranks("nan", tmp_path)
    assert codes == [0, 0]
    recs = records(log)
    faults = [r["ranks"] for r in recs if "ranks" in r]
    assert faults and faults[0]["loss_nonfinite"] == [{"rank": 1, "step": 7}]
    first_nan = next(r for r in recs if r.get("loss") == "NaN")
    assert first_nan["nan_origin"] == "the loss on rank 1 at step 7 (rank 0's loss was finite)"
    zero, one = state(log, 0), state(log, 1)
    assert zero["findings"][0] == "rank-nonfinite" and "loss-nan" in zero["findings"]
    assert zero["should_stop"] and one["should_stop"] and zero["steps"] == one["steps"] < 40


def test_garbage_from_one_rank_costs_those_values_only(tmp_path: Path) -> None:
    codes, log = run_ranks("garbage", tmp_path, EPOCHS="2")
    assert codes == [0, 0]
    recs = records(log)
    steps = [r for r in recs if r["type"] == "step"]
    zero, one = state(log, 0), state(log, 1)
    assert zero["enabled"] and one["enabled"] and zero["steps"] == one["steps"] == len(steps)
    assert [r["step"] for r in steps] == list(range(len(steps)))
    # rank 1's bad values are not losses: no rank fault, no NaN, nothing stops
    assert not any("ranks" in r for r in recs) and not zero["should_stop"]
    assert all("loss" in r for r in steps if r["step"] != 12)
    assert "loss" not in steps[12] and "no loss logged" in steps[12]["note"]
    assert [r["type"] for r in recs].count("epoch") == 2 and recs[-1]["status"] == "completed"


def test_a_layer_changed_on_one_rank_is_named(tmp_path: Path) -> None:
    codes, log = run_ranks("desync", tmp_path)
    assert codes == [0, 0]
    desync = [r for r in records(log) if "desync" in r.get("ranks", {})]
    assert desync and desync[0]["step"] == 20  # the first sampled step after step 15
    assert desync[0]["ranks"]["desync"][0]["layer"] == "2"
    assert desync[0]["ranks"]["desync"][0]["ranks"] == [1]
    assert "rank-desync" in state(log, 0)["findings"]


def test_a_killed_rank_leaves_rank_zeros_log_whole(tmp_path: Path) -> None:
    codes, log = run_ranks("kill", tmp_path)
    assert codes[1] == -9 and codes[0] != 0  # rank 0's next collective failed
    recs = records(log)  # whole lines only
    assert recs[-1]["type"] == "summary" and recs[-1]["status"] == "crashed"
    assert max(r["step"] for r in recs if r["type"] == "step") >= 24


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bench/gpu_check.sh runs it)")
def test_ddp_on_a_gpu_never_synchronizes_between_samples(tmp_path: Path) -> None:
    codes, log = run_ranks("healthy", tmp_path, DEVICE="cuda", SYNC_CHECK="1")
    assert codes == [0, 0]
    assert state(log, 0)["enabled"] and state(log, 1)["enabled"]  # no sync: never switched off
    recs = records(log)
    assert recs[-1]["status"] == "completed" and not any("ranks" in r for r in recs)
    assert state(log, 0)["findings"] == []


def run_lightning(mode: str, tmp_path: Path) -> tuple[int, Path]:
    """tests/lightning_ddp_worker.py on 2 CPU processes, launched by torchrun as users launch it."""
    pytest.importorskip("pytorch_lightning")
    log = tmp_path / f"lightning-{mode}.jsonl"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(WORKER.with_name("lightning_ddp_worker.py")),
                           mode, str(log)], cwd=tmp_path, capture_output=True, timeout=LIMIT,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode:
        print(proc.stdout.decode(errors="replace")[-3000:], proc.stderr.decode(errors="replace")[-3000:])
    return proc.returncode, log


def test_lightning_ddp_one_log_with_clipping_counted(tmp_path: Path) -> None:
    code, log = run_lightning("healthy", tmp_path)
    assert code == 0
    recs = records(log)
    assert recs[0]["world_size"] == 2 and recs[0]["clip_norm"] == 1.0
    assert recs[-1]["status"] == "completed"
    steps = [r["step"] for r in recs if r["type"] == "step"]
    assert steps == list(range(len(steps))) == list(range(state(log, 0)["global_step"]))
    sampled = [r for r in recs if "layers" in r]
    assert all(r["grad_norm_total"] > 0 and 0 <= r["clipped_steps"] <= r["step"] + 1 for r in sampled)
    assert state(log, 0)["findings"] == [] and state(log, 1)["findings"] == []


def test_lightning_ddp_nan_on_rank_one_stops_every_rank(tmp_path: Path) -> None:
    code, log = run_lightning("nan", tmp_path)
    assert code == 0
    zero, one = state(log, 0), state(log, 1)
    assert zero["nan_origin"] == "the loss on rank 1 at step 7 (rank 0's loss was finite)"
    assert zero["findings"][0] == "rank-nonfinite"
    assert zero["should_stop"] and one["should_stop"] and zero["global_step"] == one["global_step"] < 66


def test_hf_trainer_under_torchrun_writes_one_log(tmp_path: Path) -> None:
    """examples/transformers_digits.py launched as users launch it (its log: ./run.jsonl)."""
    pytest.importorskip("transformers")
    example = WORKER.parent.parent / "examples" / "transformers_digits.py"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(example), "--epochs", "2"], cwd=tmp_path,
                          capture_output=True, timeout=LIMIT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    recs = records(tmp_path / "run.jsonl")
    assert recs[0]["world_size"] == 2 and recs[0]["clip_norm"] == 1.0  # the Trainer's max_grad_norm
    assert recs[-1]["status"] == "completed"
    steps = [r["step"] for r in recs if r["type"] == "step" and "layers" in r]
    assert steps == list(range(0, recs[-1]["steps"], 10))
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl"] == ["run.jsonl"]
