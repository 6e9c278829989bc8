"""Throughput of `babysit search` trials with 1 and 2 local workers, same search, same seed.

Run: python bench/search_scaling.py [--trials 12]
Each worker gets cores // workers BLAS threads. Reports trials per second (worker start-up
included, as a user sees it) and whether both produced identical results.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from babysit.api import prepare_data
from babysit.config import Config
from babysit.search.runner import LocalRunner
from babysit.search.search import run_search, stage_plan
from babysit.search.space import LogRange


def main() -> None:
    """Print a markdown table of wall time and trials/s for 1 and 2 workers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=12)
    args = parser.parse_args()
    base = Config(data="digits", hidden=(128,), epochs=8, batch_size=64)
    data = prepare_data(base)
    space = {"lr": LogRange(1e-4, 1e-1), "reg": LogRange(1e-6, 1e-2)}
    plan = stage_plan(args.trials, base.epochs, base.epochs, 1)
    print("| workers | BLAS threads each | wall time | trials/s |\n|---|---|---|---|")
    outcomes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            runner = LocalRunner(workers)
            start = time.perf_counter()
            outcome = run_search(base, space, plan, data, Path(tmp) / f"w{workers}.jsonl", runner)
            wall = time.perf_counter() - start
            runner.close()
            outcomes[workers] = [(r["trial"], r["val_acc"]) for r in outcome.rows]
            print(f"| {workers} | {runner.threads} | {wall:.2f} s | {len(outcome.rows) / wall:.2f} |")
    print(f"\nidentical results: {outcomes[1] == outcomes[2]}; "
          f"{json.dumps(len(outcomes[1]))} trials (digits, 64-128-10, 8 epochs each)")


if __name__ == "__main__":
    main()
