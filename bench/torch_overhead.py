"""Cost of babysit.torch.Monitor beside a PyTorch loop, side by side in one run.

Run: python bench/torch_overhead.py [--steps 300] [--repeats 5] [--device cuda] [--no-ddp]
Two models on random MNIST-shaped data, Adam: an MLP 784-512-512-10 (batch 256) and a small CNN
(two 3x3 conv layers of 32 channels on 28x28 inputs, batch 64). Each is trained without babysit,
with the Monitor at its default sampling (every=10), every=100 and every=1, all writing a JSONL
log; the MLP also under bf16 autocast (AMP), and in 2 DDP processes (gloo on the CPU, NCCL on
one GPU is not possible: two ranks cannot share it, so the GPU row is gloo too) with the time of
rank 0, which logs, and rank 1, which only keeps its losses and joins the exchange.
Configurations run in a shuffled order in each of `repeats` rounds; the overhead is the median
over rounds of each round's time against that round's own no-babysit run (this machine's
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


def wide() -> torch.nn.Module:
    """A GPU-sized MLP: a step long enough that launch latency is not the whole story."""
    return torch.nn.Sequential(torch.nn.Linear(784, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 4096),
                               torch.nn.ReLU(), torch.nn.Linear(4096, 4096), torch.nn.ReLU(),
                               torch.nn.Linear(4096, 10))


def cnn() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.MaxPool2d(4), torch.nn.Flatten(),
                               torch.nn.Linear(32 * 49, 10))


def timed(build: Callable[[], torch.nn.Module], shape: tuple[int, ...], batch: int, steps: int,
          every: int | None, log: Path, wandb_freq: int | None = None, device: str = "cpu",
          amp: bool = False, wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None) -> float:
    """Seconds per step of one training run (every=None: no babysit; wandb_freq: wandb.watch
    with log="all" at that log_freq, and wandb.log of the loss every step, offline; amp: the
    forward under bf16 autocast; wrap: e.g. DistributedDataParallel)."""
    torch.manual_seed(0)
    model = build().to(device)
    if wrap is not None:
        model = wrap(model)
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
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=amp):
            scores = model(x[i:i + batch])
        loss = torch.nn.functional.cross_entropy(scores.float(), y[i:i + batch])
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


def ddp_rank(rank: int, world: int, init: str, every: int | None, steps: int, device: str,
             out: str) -> None:
    """One DDP rank of the MLP bench (torch.multiprocessing.spawn's target); writes its s/step."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world)
    ddp = torch.nn.parallel.DistributedDataParallel
    seconds = timed(mlp, (784,), 256, steps, every, Path(out).with_suffix(".jsonl"),
                    device=device, wrap=ddp)
    Path(f"{out}.{rank}").write_text(repr(seconds))
    dist.barrier()
    dist.destroy_process_group()


def ddp_timed(every: int | None, steps: int, device: str, tmp: str, round_: int) -> list[float]:
    """Seconds per step of rank 0 and rank 1 of a 2-process DDP run of the MLP."""
    import torch.multiprocessing as mp

    tag = f"{tmp}/ddp-{round_}-{every}"
    mp.spawn(ddp_rank, args=(2, f"{tag}.init", every, steps, device, tag), nprocs=2)
    return [float(Path(f"{tag}.{r}").read_text()) for r in range(2)]


def main() -> None:
    """Print a markdown table of ms/step and overhead per model and sampling."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where to train (default: cuda when available)")
    parser.add_argument("--no-ddp", action="store_true", help="skip the 2-process DDP rows")
    parser.add_argument("--wide", action="store_true",
                        help="add an MLP 784-4096x3-10, batch 2048 (for a GPU: a realistic step)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = {"MLP 784-512-512-10, batch 256": (mlp, (784,), 256),
              "CNN 2x conv3x3(32) on 28x28, batch 64": (cnn, (1, 28, 28), 64)}
    if args.wide:
        models["MLP 784-4096x3-10, batch 2048"] = (wide, (784,), 2048)
    settings: list[tuple[str, int | None, int | None]] = [
        ("no babysit", None, None), ("every=100", 100, None), ("every=10 (default)", 10, None),
        ("every=1", 1, None)]
    try:
        import wandb  # noqa: F401

        settings += [("wandb.watch(log='all'), log_freq=1000 (its default)", None, 1000),
                     ("wandb.watch(log='all'), log_freq=10", None, 10)]
    except ImportError:
        print("(wandb not installed: its rows are skipped; pip install wandb)")
    # (model row, setting label) -> a run giving seconds per step; the DDP run gives two rows
    runs: dict[tuple[str, str], Callable[[str, int], list[float]]] = {}
    for name, (build, shape, batch) in models.items():
        for label, every, freq in settings:
            runs[(name, label)] = lambda tmp, _, b=build, sh=shape, bt=batch, e=every, f=freq: [
                timed(b, sh, bt, args.steps, e, Path(tmp) / "run.jsonl", f, args.device)]
    amp_row = "MLP, bf16 autocast (AMP)"
    for label, every in (("no babysit", None), ("every=10 (default)", 10)):
        runs[(amp_row, label)] = lambda tmp, _, e=every: [
            timed(mlp, (784,), 256, args.steps, e, Path(tmp) / "run.jsonl", None, args.device, amp=True)]
        if not args.no_ddp:
            runs[("MLP, 2 DDP processes", label)] = lambda tmp, r, e=every: ddp_timed(
                e, args.steps, args.device, tmp, r)
    times: dict[tuple[str, str], list[list[float]]] = {}
    order = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeats):
            for key in order.sample(list(runs), len(runs)):
                times.setdefault(key, []).append(runs[key](tmp, round_))
    where = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "1 CPU thread"
    print(f"torch {torch.__version__} ({where}), Python {platform.python_version()}, "
          f"{platform.machine()}; {args.steps} steps x {args.repeats} rounds, median\n")
    print("| model | babysit | ms/step | overhead |\n|---|---|---|---|")
    rows = list(dict.fromkeys(name for name, _ in runs))
    for name in rows:
        base = times[(name, "no babysit")]
        for label in dict.fromkeys(lab for n, lab in runs if n == name):
            t = times[(name, label)]
            for r in range(len(t[0])):  # one row per rank for the DDP run
                mine = [run[r] for run in t]
                ratio = statistics.median(a[r] / b[r] for a, b in zip(t, base, strict=True))
                who = f", rank {r}" if len(t[0]) > 1 else ""
                print(f"| {name}{who} | {label} | {1000 * statistics.median(mine):.2f} | "
                      f"{100 * (ratio - 1):+.1f}% |")


if __name__ == "__main__":
    main()
