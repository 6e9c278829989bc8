"""Cost of babysit.torch.Monitor beside a PyTorch loop, side by side in one run.

Run: python bench/torch_overhead.py [--steps 300] [--repeats 5] [--device cuda]
Two models on random MNIST-shaped data, Adam: an MLP 784-512-512-10 (batch 256) and a small CNN
(two 3x3 conv layers of 32 channels on 28x28 inputs, batch 64). Each is trained without babysit,
with the Monitor at its default sampling (every=10), every=100 and every=1, all writing a JSONL
log. Configurations run in a shuffled order in each of `repeats` rounds; the overhead is the
median over rounds of each round's time against that round's own no-babysit run (this machine's
step times drift by 10-20% between minutes, far more than the effect measured). Torch runs on
one thread, as CPU training beside other work usually does, to keep the timing steady on a
2-core machine.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from babysit.torch import Monitor


def mlp() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                               torch.nn.ReLU(), torch.nn.Linear(512, 10))


def cnn() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.MaxPool2d(4), torch.nn.Flatten(),
                               torch.nn.Linear(32 * 49, 10))


def timed(build: Callable[[], torch.nn.Module], shape: tuple[int, ...], batch: int, steps: int,
          every: int | None, log: Path, wandb_freq: int | None = None, device: str = "cpu") -> float:
    """Seconds per step of one training run (every=None: no babysit; wandb_freq: wandb.watch
    with log="all" at that log_freq, and wandb.log of the loss every step, offline)."""
    torch.manual_seed(0)
    model = build().to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(batch * 8, *shape, device=device)
    y = torch.randint(0, 10, (batch * 8,), device=device)
    monitor: Any = Monitor(model, opt, log=log, num_classes=10, every=every, overwrite=True) \
        if every else None
    run: Any = None
    if wandb_freq:
        import wandb

        run = wandb.init(mode="offline", dir=str(log.parent), project="bench", reinit=True)
        run.watch(model, log="all", log_freq=wandb_freq)
    start = time.perf_counter()
    for step in range(steps):
        i = (step % 8) * batch
        loss = torch.nn.functional.cross_entropy(model(x[i:i + batch]), y[i:i + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.step(loss)
        if run is not None:
            run.log({"loss": loss.item()})
    if monitor is not None:
        monitor.close()
    if device.startswith("cuda"):
        torch.cuda.synchronize()  # the queued kernels belong to the timed steps
    seconds = (time.perf_counter() - start) / steps
    if run is not None:
        run.finish()
    return seconds


def main() -> None:
    """Print a markdown table of ms/step and overhead per model and sampling."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where to train (default: cuda when available)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = {"MLP 784-512-512-10, batch 256": (mlp, (784,), 256),
              "CNN 2x conv3x3(32) on 28x28, batch 64": (cnn, (1, 28, 28), 64)}
    settings: list[tuple[str, int | None, int | None]] = [
        ("no babysit", None, None), ("every=100", 100, None), ("every=10 (default)", 10, None),
        ("every=1", 1, None)]
    try:
        import wandb  # noqa: F401

        settings += [("wandb.watch(log='all'), log_freq=1000 (its default)", None, 1000),
                     ("wandb.watch(log='all'), log_freq=10", None, 10)]
    except ImportError:
        print("(wandb not installed: its rows are skipped; pip install wandb)")
    times: dict[tuple[str, str], list[float]] = {}
    order = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for name, (build, shape, batch) in models.items():
                for label, every, freq in order.sample(settings, len(settings)):
                    t = timed(build, shape, batch, args.steps, every, Path(tmp) / "run.jsonl",
                              freq, args.device)
                    times.setdefault((name, label), []).append(t)
    where = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "1 CPU thread"
    print(f"torch {torch.__version__} ({where}), Python {platform.python_version()}, "
          f"{platform.machine()}; {args.steps} steps x {args.repeats} rounds, median\n")
    print("| model | babysit | ms/step | overhead |\n|---|---|---|---|")
    for name in models:
        base = times[(name, "no babysit")]
        for label, _, _ in settings:
            t = times[(name, label)]
            ratio = statistics.median(a / b for a, b in zip(t, base, strict=True))
            print(f"| {name} | {label} | {1000 * statistics.median(t):.2f} | "
                  f"{100 * (ratio - 1):+.1f}% |")


if __name__ == "__main__":
    main()
