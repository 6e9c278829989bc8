"""Where a second BLAS thread starts to pay for one training step of babysit's MLP.

Run: python bench/blas_threads.py [--part dev|held-out|all] [--steps 40]
For each net (input width, hidden widths, batch) it times the median step (forward, backward,
Adam) with 1 thread and with every core, alternating 1, n, 1, n in one process and keeping the
faster median of each, and prints the step's matrix-product work in MFLOP beside the speedup.
The `dev` part (64 inputs, two hidden layers: digits-like) sets babysit's threshold
(babysit/training/threads.py); the `held-out` part (784 inputs, one and three hidden layers)
checks it on nets the threshold was not read from.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from threadpoolctl import ThreadpoolController

from babysit.nn import MLP, NetSpec
from babysit.nn.optim import adam
from babysit.training.threads import step_mflop

DEV = [(64, (w, w), b) for w in (50, 100, 200, 400, 800) for b in (16, 32, 64, 128, 256)]
HELD_OUT = ([(784, (w,), b) for w in (100, 300, 1000) for b in (32, 128)]
            + [(784, (w, w, w), b) for w in (64, 256, 512) for b in (16, 64, 256)])


def median_step(net: MLP, x: np.ndarray, y: np.ndarray, steps: int) -> float:
    """Median seconds of one forward/backward/Adam step."""
    state: dict[str, dict] = {k: {} for k in net.params}
    times = []
    for i in range(steps + 3):
        t = time.perf_counter()
        _, grads, _ = net.loss(x, y)
        for name, p in net.params.items():
            adam(p, grads[name], state[name], 1e-4)
        if i >= 3:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    """Print one table row per net: MFLOP per step, ms at 1 and n threads, speedup."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("dev", "held-out", "all"), default="all")
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    nets = {"dev": DEV, "held-out": HELD_OUT, "all": DEV + HELD_OUT}[args.part]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    ctl = ThreadpoolController()
    print(f"machine: {platform.machine()}, {cores} cores, numpy {np.__version__}, "
          f"{[(i['internal_api'], i['version']) for i in ctl.info() if i['user_api'] == 'blas']}")
    print(f"\n| net | batch | MFLOP/step | ms, 1 thread | ms, {cores} threads | speedup |"
          "\n|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for inputs, hidden, batch in nets:
        spec = NetSpec(input_dim=inputs, num_classes=10, hidden=hidden, dtype="float64")
        net = MLP(spec, np.random.default_rng(0))
        x, y = rng.standard_normal((batch, inputs)), rng.integers(0, 10, batch)
        best = {1: float("inf"), cores: float("inf")}
        for threads in (1, cores, 1, cores):
            with ctl.limit(limits=threads, user_api="blas"):
                best[threads] = min(best[threads], median_step(net, x, y, args.steps))
        print(f"| {inputs}-{'-'.join(map(str, hidden))}-10 | {batch} | "
              f"{step_mflop(spec, batch):.1f} | {1e3 * best[1]:.2f} | {1e3 * best[cores]:.2f} | "
              f"{best[1] / best[cores]:.2f} |")


if __name__ == "__main__":
    main()
