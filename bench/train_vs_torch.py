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
A second pair of rows times what a user runs: 5 epochs of `babysit train --data digits
--hidden 200,200` (batch 32, 225 steps; Trainer.run with babysit's own thread policy) against
the same net, batch and Adam in PyTorch (its default threads), wall time of the loop.
With --load every row is measured again while a busy loop and another BLAS-heavy process
(numpy products of 400x400 matrices on every core) run, as on a laptop that is doing other
work: reported are the median and the worst round, and the worst loaded round over the quiet
median.
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
KINDS = ("gemm", "babysit", "trainer", "trainer-fixed", "torch", "digits", "digits-torch")
DIGITS_EPOCHS, DIGITS_HIDDEN, DIGITS_BATCH = 5, (200, 200), 32


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


def trainer(steps: int, threads: int | None = None) -> float:
    """The whole Trainer loop with default monitoring and a JSONL log; `threads` fixes the
    BLAS threads (Config.threads), else babysit's thread policy decides."""
    from babysit.config import Config
    from babysit.data.dataset import Dataset
    from babysit.training import JsonlSink, Trainer

    rng = np.random.default_rng(0)
    n = BATCH * (steps + 5)
    x = rng.standard_normal((n, 784))
    y = rng.integers(0, 10, n)
    data = Dataset("random-784", x, y, x[:512], y[:512], 10)
    config = Config(hidden=(512, 512), dtype="float32", batch_size=BATCH, epochs=1, lr=1e-3,
                    reg=0.0, eval_samples=512, threads=threads)
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


def digits() -> float:
    """Seconds for 5 epochs of `babysit train --data digits --hidden 200,200`, as a user gets."""
    from babysit.api import prepare_data
    from babysit.config import Config
    from babysit.training import Trainer

    config = Config(data="digits", hidden=DIGITS_HIDDEN, epochs=DIGITS_EPOCHS,
                    batch_size=DIGITS_BATCH)
    trainer = Trainer(config, prepare_data(config), [])
    started = time.perf_counter()
    trainer.run()
    return time.perf_counter() - started


def digits_torch() -> float | None:
    """The same net, data, batch, epochs and Adam in PyTorch with its default threads."""
    try:
        import torch as th
    except ImportError:
        return None
    from babysit.api import prepare_data
    from babysit.config import Config

    data = prepare_data(Config(data="digits"))
    x, y = th.tensor(data.X_train, dtype=th.float64), th.tensor(data.y_train)
    th.manual_seed(0)
    sizes = (x.shape[1], *DIGITS_HIDDEN)
    layers: list[th.nn.Module] = []
    for a, b in pairwise(sizes):
        layers += [th.nn.Linear(a, b), th.nn.ReLU()]
    model = th.nn.Sequential(*layers, th.nn.Linear(sizes[-1], data.num_classes)).double()
    opt = th.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    loss_fn = th.nn.CrossEntropyLoss()
    started = time.perf_counter()
    for _ in range(DIGITS_EPOCHS):
        for idx in th.randperm(len(x)).split(DIGITS_BATCH):
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            loss.item()
    return time.perf_counter() - started


def measure(kind: str, steps: int, threads: int) -> float | None:
    """Seconds per step (per run for the digits kinds) for one kind, in this process; BLAS is
    limited to `threads` for the step kinds, left to each library for the digits kinds."""
    from threadpoolctl import threadpool_limits

    if kind == "digits":
        return digits()
    if kind == "digits-torch":
        return digits_torch()
    with threadpool_limits(threads, user_api="blas"):
        if kind == "torch":
            return torch(steps, threads)
        if kind == "trainer-fixed":
            return trainer(steps, threads)
        return {"gemm": gemm, "babysit": babysit, "trainer": trainer}[kind](steps)


LOAD = ("while True: pass",
        "import numpy as np\na = np.random.rand(400, 400)\nwhile True: a @ a")
LABELS = {"gemm": "matrix products only (the floor)", "babysit": "babysit bare step",
          "trainer": "babysit Trainer loop (stats every 10, JSONL log)",
          "trainer-fixed": "the same loop with --threads fixed at the step rows' count",
          "torch": "PyTorch 784-512-512-10 Adam",
          "digits": "babysit train --data digits --hidden 200,200, 5 epochs (whole run)",
          "digits-torch": "PyTorch, same net, data, batch and epochs (whole run)"}


def rounds(args: argparse.Namespace) -> dict[str, list[float]]:
    """Seconds per step (or run) of every kind, one process each, alternating for the rounds."""
    results: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(args.rounds):
        for kind in KINDS:
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--steps",
                                  str(args.steps), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True).stdout.strip()
            if out != "none":
                results[kind].append(float(out))
    return {kind: v for kind, v in results.items() if v}


def loaded_rounds(args: argparse.Namespace) -> dict[str, list[float]]:
    """rounds() while a busy loop and a BLAS-heavy process (all cores) compete for the CPU."""
    load = [subprocess.Popen([sys.executable, "-c", code]) for code in LOAD]
    try:
        time.sleep(1.0)  # let them start
        return rounds(args)
    finally:
        for proc in load:
            proc.kill()
            proc.wait()


def main() -> None:
    """Alternate one process per kind for several rounds; print a table of median ms/step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--load", action="store_true", help="measure again under load")
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
          f"threads {args.threads} (step rows), {args.rounds} rounds of one process per "
          "measurement")
    quiet = rounds(args)
    loaded = loaded_rounds(args) if args.load else {}
    med = {kind: statistics.median(v) for kind, v in quiet.items()}
    print("\nms per step (per run for the digits rows); vs PyTorch: the same work in PyTorch")
    head = "| what | quiet median | quiet range | vs PyTorch |"
    if loaded:
        head += " loaded median | loaded worst | worst / quiet median |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for kind, t in med.items():
        ref = med.get("digits-torch" if kind.startswith("digits") else "torch")
        row = (f"| {LABELS[kind]} | {1e3 * t:.2f} | {1e3 * min(quiet[kind]):.2f}-"
               f"{1e3 * max(quiet[kind]):.2f} | {f'{t / ref:.2f}' if ref else '-'} |")
        if kind in loaded:
            worst = max(loaded[kind])
            row += (f" {1e3 * statistics.median(loaded[kind]):.2f} | {1e3 * worst:.2f} | "
                    f"{worst / t:.1f}x |")
        print(row)
    print(f"\nbabysit's bare step / its matrix products: {med['babysit'] / med['gemm']:.2f}x")


if __name__ == "__main__":
    main()
