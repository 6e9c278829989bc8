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


class HalfComplex(torch.nn.Module):
    """A real layer feeding a complex one: only the complex layer cannot be measured."""

    def __init__(self) -> None:
        super().__init__()
        self.real = torch.nn.Linear(4, 8)
        self.act = torch.nn.ReLU()
        self.cplx = torch.nn.Linear(8, 3, dtype=torch.cfloat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cplx(self.act(self.real(x)).to(torch.cfloat)).abs()


def loop(model: torch.nn.Module, log: Path, steps: int = 6, every: int = 2,
         after_backward: object = None) -> Monitor:
    """A few SGD steps on random data under a Monitor writing `log`."""
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with Monitor(model, opt, log=log, every=every, verbose=False) as monitor:
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            if after_backward is not None:
                after_backward(model)  # type: ignore[operator]
            opt.step()
            monitor.step(loss)
    return monitor


def test_a_complex_layer_is_left_out_and_the_rest_of_the_model_watched(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    monitor = loop(HalfComplex(), log)
    got = records(log)
    assert monitor.enabled and got[0]["layers_watched"] == ["real"]
    assert got[0]["layers_unmeasured"] == {"cplx": "torch.complex64 weights"}
    steps = [r for r in got if r["type"] == "step"]
    assert [r["step"] for r in steps] == list(range(6)) and all("loss" in r for r in steps)
    assert steps[0]["layers"]["real"]["grad_norm"] > 0 and got[-1]["status"] == "completed"


def test_a_sparse_gradient_is_measured_by_its_values(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    model, _ = small()
    dense = {}

    def make_sparse(m: torch.nn.Module) -> None:
        dense["norm"] = float(m[0].weight.grad.norm())
        m[0].weight.grad = m[0].weight.grad.to_sparse()

    monitor = loop(model, log, steps=5, every=4, after_backward=make_sparse)
    steps = [r for r in records(log) if r["type"] == "step"]
    assert monitor.enabled and [r["step"] for r in steps] == list(range(5))
    # step 4 is sampled: its gradient norm is the dense gradient's, read from the sparse one
    assert steps[4]["layers"]["0"]["grad_norm"] == pytest.approx(dense["norm"], rel=1e-5)


def test_a_layer_whose_statistics_raise_costs_that_layer_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import babysit.torch.stats as stats

    real = stats._activation_parts

    def fails_on_first(layer: object, h: torch.Tensor, hist: bool) -> object:
        if getattr(layer, "name", "") == "0":
            raise NotImplementedError("no kernel for this layout\n" + "backend list " * 500)
        return real(layer, h, hist)

    monkeypatch.setattr(stats, "_activation_parts", fails_on_first)
    log = tmp_path / "run.jsonl"
    model, _ = small()
    with pytest.warns(RuntimeWarning, match="layer 0 not measured from here: NotImplementedError"):
        monitor = loop(model, log)
    got = records(log)
    steps = [r for r in got if r["type"] == "step"]
    assert monitor.enabled and [r["step"] for r in steps] == list(range(6))
    assert steps[0]["note"] == "layer 0 not measured from here: NotImplementedError: no kernel for this layout"
    assert set(steps[0]["layers"]) == {"2"} and set(steps[2]["layers"]) == {"2"}
    assert "note" not in steps[2]  # said once, on the step it began
    assert got[-1]["type"] == "summary" and got[-1]["status"] == "completed"
