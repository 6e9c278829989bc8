"""Training throughput: babysit's NumPy trainer against PyTorch on CPU, on the same work.

Run: python bench/train_vs_torch.py [--steps 60] [--rounds 3] [--threads 2]
Work: an MLP 784-512-512-10, ReLU, softmax, Adam (lr 1e-3), float32, batch 256, random
MNIST-shaped data, both on the same number of threads. Each measurement runs in its own
process (OpenBLAS and PyTorch both keep spinning thread pools, which slow whichever library
runs next in the same process), and the processes alternate for `--rounds` rounds so that slow
drifts of a shared machine hit all of them alike. Reported: the median ms per step of
  - the matrix products alone (the 8 GEMMs of one step: the floor),
  - babysit's bare step (forward, backward, Adam update of every parameter),
  - babysit's Trainer loop (plus batching, records, per-layer statistics every 10 steps, a
    JSONL log),
  - PyTorch (forward, cross-entropy, backward, Adam step, loss.item()).
PyTorch is optional: `pip install -e '.[bench]'` (torch==2.13.0 installs offline here).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import numpy as np

SIZES = (784, 512, 512, 10)
BATCH = 256
KINDS = ("gemm", "babysit", "trainer", "torch")


def _median_step(step, steps: int, warmup: int = 5) -> float:  # type: ignore[no-untyped-def]
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gemm(steps: int) -> float:
    """The step's matrix products alone: 3 forward, 3 weight gradients, 2 input gradients."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = rng.standard_normal((BATCH, SIZES[0])).astype(f32)
    ws = [rng.standard_normal((a, b)).astype(f32) for a, b in pairwise(SIZES)]
    hs = [rng.standard_normal((BATCH, b)).astype(f32) for b in SIZES[1:]]

    def step() -> None:
        h = x
        for w in ws:
            h = h @ w
        for i in range(len(ws) - 1, -1, -1):
            _ = (x if i == 0 else hs[i - 1]).T @ hs[i]  # dW
            if i > 0:
                _ = hs[i] @ ws[i].T  # dX
    return _median_step(step, steps)


def babysit(steps: int) -> float:
    """Forward, backward and Adam on every parameter: the numerical core of one iteration."""
    from babysit.nn import MLP, NetSpec
    from babysit.nn.optim import adam

    spec = NetSpec(input_dim=784, num_classes=10, hidden=(512, 512), activation="relu",
                   init="he", dtype="float32")
    net = MLP(spec, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, 784)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    state: dict[str, dict] = {k: {} for k in net.params}

    def step() -> None:
        _, grads, _ = net.loss(x, y)
        for name, p in net.params.items():
            adam(p, grads[name], state[name], 1e-3)
    return _median_step(step, steps)


def trainer(steps: int) -> float:
    """The whole Trainer loop with default monitoring and a JSONL log."""
    from babysit.config import Config
    from babysit.data.dataset import Dataset
    from babysit.training import JsonlSink, Trainer

    rng = np.random.default_rng(0)
    n = BATCH * (steps + 5)
    x = rng.standard_normal((n, 784))
    y = rng.integers(0, 10, n)
    data = Dataset("random-784", x, y, x[:512], y[:512], 10)
    config = Config(hidden=(512, 512), dtype="float32", batch_size=BATCH, epochs=1, lr=1e-3,
                    reg=0.0, eval_samples=512)
    times: list[float] = []

    class Clock:
        def __init__(self) -> None:
            self.last = time.perf_counter()

        def emit(self, rec: dict) -> None:
            now = time.perf_counter()
            if rec.get("type") == "step" and "train_acc" not in rec:
                times.append(now - self.last)
            self.last = now

        def close(self) -> None:
            pass

    with tempfile.TemporaryDirectory() as tmp:
        Trainer(config, data, [JsonlSink(Path(tmp) / "run.jsonl"), Clock()]).run()
    return statistics.median(times[5:])


def torch(steps: int, threads: int) -> float | None:
    """The same MLP, loss and optimizer in PyTorch on CPU (None if torch is not installed)."""
    try:
        import torch as th
    except ImportError:
        return None
    th.set_num_threads(threads)
    th.manual_seed(0)
    model = th.nn.Sequential(th.nn.Linear(784, 512), th.nn.ReLU(), th.nn.Linear(512, 512),
                             th.nn.ReLU(), th.nn.Linear(512, 10))
    opt = th.optim.Adam(model.parameters(), lr=1e-3)
    x = th.randn(BATCH, 784)
    y = th.randint(0, 10, (BATCH,))
    loss_fn = th.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
    return _median_step(step, steps)


def measure(kind: str, steps: int, threads: int) -> float | None:
    """Seconds per step for one kind, in this process, with BLAS limited to `threads`."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads, user_api="blas"):
        if kind == "torch":
            return torch(steps, threads)
        return {"gemm": gemm, "babysit": babysit, "trainer": trainer}[kind](steps)


def main() -> None:
    """Alternate one process per kind for several rounds; print a table of median ms/step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)  # a child's job
    args = parser.parse_args()
    if args.one:
        result = measure(args.one, args.steps, args.threads)
        print("none" if result is None else repr(result))
        return
    from threadpoolctl import threadpool_info

    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
            for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}, BLAS {'; '.join(blas)}, "
          f"threads {args.threads}, {args.rounds} rounds of one process per measurement")
    results: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(args.rounds):
        for kind in KINDS:
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--steps",
                                  str(args.steps), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True).stdout.strip()
            if out != "none":
                results[kind].append(float(out))
    med = {kind: statistics.median(v) for kind, v in results.items() if v}
    ref = med.get("torch")
    labels = {"gemm": "matrix products only (the floor)", "babysit": "babysit bare step",
              "trainer": "babysit Trainer loop (stats every 10, JSONL log)",
              "torch": "PyTorch 784-512-512-10 Adam"}
    print("\n| what | ms/step (median) | range over rounds | vs PyTorch |\n|---|---|---|---|")
    for kind, t in med.items():
        spread = f"{1e3 * min(results[kind]):.2f}-{1e3 * max(results[kind]):.2f}"
        print(f"| {labels[kind]} | {1e3 * t:.2f} | {spread} | {f'{t / ref:.2f}' if ref else '-'} |")
    print(f"\nshare of babysit's bare step in matrix products: {100 * med['gemm'] / med['babysit']:.0f}%")


if __name__ == "__main__":
    main()
