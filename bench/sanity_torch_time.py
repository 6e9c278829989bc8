"""How long `babysit.torch.sanity_check` takes on small models on a CPU (issue 27: a small CNN's
full check under 10 s on 2 cores).

Run: python bench/sanity_torch_time.py [--rounds 3]
Models: the MLP 64-128-10 and a CNN (2x conv3x3(16) on 8x8) on sklearn's digits, and an
MNIST-shaped CNN (conv3x3(16), maxpool, conv3x3(32), maxpool, linear) on 2048 synthetic 28x28
images whose label is the argmax of a fixed random projection (learnable, so every check runs
its full course). Adam at 1e-3. Wall time of the whole recipe, median and worst of the rounds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from sklearn.datasets import load_digits

from babysit.torch import sanity_check


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32)
    return (x - x.mean(0)) / (x.std(0) + 1e-6), torch.tensor(y)


def mnist_like() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = digits()
    x = torch.nn.functional.interpolate(x.reshape(-1, 1, 8, 8), size=(28, 28), mode="bilinear")
    return x, y


MODELS: dict[str, tuple[Callable[[], torch.nn.Module], Callable[[], Any]]] = {
    "MLP 64-128-10 (digits)": (lambda: torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)), digits),
    "CNN 2x conv3x3(16) on 8x8 (digits)": (lambda: torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 8, 8)), torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(16 * 64, 10)), digits),
    "CNN conv(16)-pool-conv(32)-pool on 28x28 (MNIST-shaped)": (lambda: torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 49, 10)), mnist_like),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available, Python "
          f"{platform.python_version()}, {platform.machine()}; {args.rounds} rounds\n")
    print("| model | parameters | median s | worst s | verdict |\n|---|---|---|---|---|")
    for name, (build, data) in MODELS.items():
        x, y = data()
        times, verdict = [], ""
        for _ in range(args.rounds):
            torch.manual_seed(0)
            model = build()
            start = time.perf_counter()
            report = sanity_check(model, torch.nn.functional.cross_entropy, x, y,
                                  optimizer=lambda p: torch.optim.Adam(p, 1e-3), num_classes=10)
            times.append(time.perf_counter() - start)
            verdict = " ".join(c.status[0] for c in report.checks)
        params = sum(p.numel() for p in build().parameters())
        print(f"| {name} | {params:,} | {statistics.median(times):.1f} | {max(times):.1f} | {verdict} |")


if __name__ == "__main__":
    main()
