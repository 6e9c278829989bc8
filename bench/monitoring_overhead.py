"""Cost of per-layer statistics: the same training with stats off, every 10 steps, every step.

Run: python bench/monitoring_overhead.py [--repeats 5]
Each configuration is timed `repeats` times, interleaved, and the median time per step is
reported, so drifts in machine load hit all configurations alike.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from babysit.config import Config
from babysit.data.dataset import Dataset
from babysit.training import JsonlSink, Trainer

OFF = 10**9  # statistics only at step 0


def mnist_like(n: int = 4096, seed: int = 0) -> Dataset:
    """Random data shaped like MNIST: 784 features, 10 classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 784))
    y = rng.integers(0, 10, n)
    return Dataset("random-784", x, y, x[:512], y[:512], 10)


def time_per_step(config: Config, data: Dataset, log_dir: Path) -> float:
    """One measurement: the wall time of a whole run divided by its steps."""
    with tempfile.NamedTemporaryFile(dir=log_dir, suffix=".jsonl", delete=False) as fh:
        path = Path(fh.name)
    path.unlink()
    trainer = Trainer(config, data, [JsonlSink(path)])
    start = time.perf_counter()
    summary = trainer.run()
    elapsed = time.perf_counter() - start
    path.unlink()
    return elapsed / summary["steps"]


def main() -> None:
    """Print a markdown table of time per step and overhead against stats off."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    workloads = {
        "spiral 2-100-3, float64, batch 32 (default run)": (Config(epochs=30), None),
        "784-512-512-10 ReLU, float32, batch 256, Adam": (
            Config(hidden=(512, 512), dtype="float32", batch_size=256, epochs=2, lr=1e-3),
            mnist_like()),
    }
    settings = {"off": OFF, "every 10 (default)": 10, "every step": 1}
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
    print("\n| workload | stats | ms/step | overhead vs off |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, (config, data) in workloads.items():
            if data is None:
                from babysit.api import prepare_data

                data = prepare_data(config)
            times: dict[str, list[float]] = {name: [] for name in settings}
            for _ in range(args.repeats):
                for name, every in settings.items():
                    times[name].append(time_per_step(replace(config, stats_every=every), data,
                                                     Path(tmp)))
            base = statistics.median(times["off"])
            for name in settings:
                t = statistics.median(times[name])
                print(f"| {label} | {name} | {1e3 * t:.3f} | {100 * (t / base - 1):+.1f}% |")


if __name__ == "__main__":
    main()
