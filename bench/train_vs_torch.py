"""Training throughput: babysit's NumPy trainer against PyTorch on CPU, on the same work.

Run: python bench/train_vs_torch.py [--steps 60] [--threads 2]
Work: an MLP 784-512-512-10, ReLU, softmax, Adam (lr 1e-3), float32, batch 256, random
MNIST-shaped data. Both on the same number of threads. Reports the median time per step of
  - babysit's bare step (forward, backward, Adam update of every parameter),
  - babysit's Trainer loop (the above plus batching, records, per-layer statistics every 10
    steps, a JSONL log),
  - PyTorch (forward, cross-entropy, backward, Adam step, loss.item()),
and the matrix products alone (the 8 GEMMs of one step with these shapes), i.e. the floor.
PyTorch is optional: `pip install -e '.[bench]'` (torch==2.13.0 installs offline here).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import numpy as np

SIZES = (784, 512, 512, 10)
BATCH = 256


def _median_step(step, steps: int, warmup: int = 5) -> float:  # type: ignore[no-untyped-def]
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_gemm(steps: int) -> float:
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
            inp = x if i == 0 else hs[i - 1]
            _ = inp.T @ hs[i]  # dW
            if i > 0:
                _ = hs[i] @ ws[i].T  # dX
    return _median_step(step, steps)


def bench_babysit_step(steps: int) -> float:
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


def bench_babysit_trainer(steps: int) -> float:
    """The whole Trainer loop with default monitoring and a JSONL log."""
    from babysit.config import Config
    from babysit.data.dataset import Dataset
    from babysit.training import JsonlSink, Trainer

    rng = np.random.default_rng(0)
    n = BATCH * steps
    x = rng.standard_normal((n, 784))
    y = rng.integers(0, 10, n)
    data = Dataset("random-784", x, y, x[:512], y[:512], 10)
    config = Config(hidden=(512, 512), dtype="float32", batch_size=BATCH, epochs=1, lr=1e-3,
                    reg=0.0, eval_samples=512)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, data, [JsonlSink(Path(tmp) / "run.jsonl")])
        times = []

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

        trainer.sinks.append(Clock())
        trainer.run()
    return statistics.median(times[5:])


def bench_torch(steps: int, threads: int) -> float | None:
    """The same MLP, loss and optimizer in PyTorch on CPU."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(BATCH, 784)
    y = torch.randint(0, 10, (BATCH,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
    return _median_step(step, steps)


def main() -> None:
    """Print the machine, the thread settings and a table of ms per step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture')}, "
                f"{i['num_threads']} threads)" for i in threadpool_info() if i["user_api"] == "blas"]
        limit = threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        blas, limit = ["unknown (threadpoolctl not installed)"], None
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}, BLAS {'; '.join(blas)}, "
          f"threads {args.threads}")
    gemm = bench_gemm(args.steps)
    step = bench_babysit_step(args.steps)
    loop = bench_babysit_trainer(args.steps)
    torch_t = bench_torch(args.steps, args.threads)
    print("\n| what | ms/step | vs PyTorch |\n|---|---|---|")
    rows = [("matrix products only (the floor)", gemm), ("babysit bare step", step),
            ("babysit Trainer loop (stats every 10, JSONL log)", loop)]
    if torch_t is not None:
        rows.append(("PyTorch 784-512-512-10 Adam", torch_t))
    for label, t in rows:
        ratio = f"{t / torch_t:.2f}" if torch_t else "-"
        print(f"| {label} | {1e3 * t:.2f} | {ratio} |")
    print(f"\nshare of babysit's bare step in matrix products: {100 * gemm / step:.0f}%")
    if limit is not None:
        limit.restore_original_limits()


if __name__ == "__main__":
    main()
