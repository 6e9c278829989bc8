"""A bad value handed to the Monitor costs that value, never the run; a Monitor's log ends with
its summary when the script never closes it or is stopped by SIGTERM (issue 38 items 1, 2)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from babysit.torch import Monitor  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def small() -> tuple:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize("bad", [torch.tensor([1.0, 2.0]), torch.empty((), device="meta"),
                                 torch.tensor(1 + 2j), "2.0", 3 + 1j, True],
                         ids=["two-elements", "meta", "complex-tensor", "string", "complex", "bool"])
def test_a_bad_loss_costs_that_loss_only(tmp_path: Path, bad: object) -> None:
    model, opt = small()
    log = tmp_path / "run.jsonl"
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with pytest.warns(RuntimeWarning, match="babysit: a"), Monitor(model, opt, log=log, every=2, verbose=False) as monitor:
        for step in range(6):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitor.step(bad if step == 2 else loss)
        monitor.epoch(train_acc="high", val_acc=0.5)
    got = records(log)
    steps = [r for r in got if r["type"] == "step"]
    assert [r["step"] for r in steps] == list(range(6)) and monitor.enabled
    assert "loss" not in steps[2] and "no loss logged" in steps[2]["note"]
    assert all("loss" in r for r in steps if r["step"] != 2)
    epoch = next(r for r in got if r["type"] == "epoch")
    assert epoch["val_acc"] == 0.5 and "train_acc" not in epoch and "train_acc" in epoch["note"]
    assert got[-1]["type"] == "summary" and got[-1]["status"] == "completed"


SCRIPT = """
import sys, time, torch
from babysit.torch import Monitor
torch.manual_seed(0)
model = torch.nn.Linear(4, 3)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
def train(monitor, steps):
    for step in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        monitor.step(loss)
        if step == 4:
            print("five steps", flush=True)
if sys.argv[2] == "unclosed":
    train(Monitor(model, opt, log=sys.argv[1], every=50, verbose=False), 7)
else:
    with Monitor(model, opt, log=sys.argv[1], every=50, verbose=False) as monitor:
        train(monitor, 10**9)
"""


def test_a_monitor_never_closed_still_ends_its_log(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    subprocess.run([sys.executable, "-c", SCRIPT, str(log), "unclosed"], cwd=ROOT, check=True, timeout=120)
    got = records(log)
    assert [r["step"] for r in got if r["type"] == "step"] == list(range(7))  # none of the 7 lost
    assert got[-1]["type"] == "summary" and got[-1]["status"] == "completed"


def test_sigterm_inside_with_monitor_writes_every_step_and_an_interrupted_summary(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(log), "with"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        wait_until(lambda: proc.stdout.readline().startswith("five steps"), "five steps")  # type: ignore[union-attr]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        proc.kill()
    got = records(log)
    steps = [r["step"] for r in got if r["type"] == "step"]
    assert steps == list(range(len(steps))) and len(steps) >= 5  # every=50: all were still pending
    assert got[-1]["type"] == "summary" and got[-1]["status"] == "interrupted"
