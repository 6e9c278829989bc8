"""The search over a user's model with babysit's pruning on and off, and 1 vs 2 workers.

Same objective (examples/search_torch_digits.py: an MLP on digits, SGD with momentum), same
seed, so the same trials are sampled in each run; a planted divergent range (lr up to 30).
Reports wall time, the best validation accuracy, how many trials were stopped, and the
optimizer steps all trials took together.

Run: python bench/search_pruning.py [--trials 12] [--epochs 4]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

import babysit.search

OBJECTIVE = str(Path(__file__).parent.parent / "examples" / "search_torch_digits.py") + ":train"


def one(prune: bool, workers: int, trials: int, epochs: int, folder: Path) -> str:
    start = time.perf_counter()
    outcome = babysit.search.run(OBJECTIVE, {"lr": "1e-3:30:log", "hidden": [32, 64]},
                                 trials=trials, epochs=epochs, workers=workers, prune=prune,
                                 results=folder / f"p{int(prune)}-w{workers}.jsonl")
    wall = time.perf_counter() - start
    stopped = sum(r["status"] in ("diverged", "hopeless") for r in outcome.rows)
    steps = sum(r["steps"] or 0 for r in outcome.rows)
    best = outcome.best
    return (f"| {'on' if prune else 'off'} | {workers} | {wall:.1f} | {100 * best['val_acc']:.1f}% "
            f"({best['trial']}) | {stopped} of {len(outcome.rows)} | {steps:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"torch {torch.__version__}; {args.trials} trials x {args.epochs} epochs\n")
    print("| pruning | workers | wall s | best val acc | trials stopped | steps, all trials |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for prune, workers in ((True, 1), (False, 1), (True, 2), (False, 2)):
            print(one(prune, workers, args.trials, args.epochs, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
