"""Cost of the live dashboard to training throughput: the same run with and without it.

Run: python bench/dashboard_overhead.py [--repeats 5]
Both runs write the JSONL log and run the diagnostics engine; the "live" run also draws the
full dashboard at 4 frames a second into a 100x30 virtual terminal (a Rich Console on a
throwaway file, forced to behave as a terminal) in the drawing process, as `babysit train`
does on screen. The drawing process's start-up (~0.5 s) happens before timing starts, as it
overlaps data loading in a real run.
Runs alternate, and the median time per step is reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from babysit.api import prepare_data
from babysit.config import Config
from babysit.dashboard.live import LiveDashboard
from babysit.dashboard.progress import ProgressPrinter
from babysit.dashboard.state import RunState
from babysit.diagnostics.sink import DiagnosticsSink
from babysit.training import JsonlSink, Trainer


def one_run(config: Config, live: bool, tmp: Path) -> float:
    """Seconds per step of one run."""
    data = prepare_data(config)
    log = JsonlSink(tmp / f"run-{time.perf_counter_ns()}.jsonl")
    doctor = DiagnosticsSink()
    if live:
        state = RunState(str(log.path))
        trainer = Trainer(config, data, [log, doctor, state])
        with LiveDashboard(state, lambda: doctor.engine.findings, virtual=(100, 30)):
            time.sleep(1.0)  # let the drawing process finish importing
            start = time.perf_counter()
            summary = trainer.run()
            elapsed = time.perf_counter() - start
    else:
        with open(os.devnull, "w") as devnull:
            trainer = Trainer(config, data, [log, doctor, ProgressPrinter(devnull)])
            start = time.perf_counter()
            summary = trainer.run()
            elapsed = time.perf_counter() - start
    return elapsed / summary["steps"]


def main() -> None:
    """Print a markdown table: ms/step plain vs live, and the overhead."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    workloads = {
        "spiral 2-100-3 (default), 4000 steps": replace(Config(), epochs=500),
        "digits 64-256-256-10, 1800 steps": Config(data="digits", hidden=(256, 256), epochs=40,
                                                   lr=1e-3),
    }
    print("| workload | plain ms/step | live ms/step | overhead |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, config in workloads.items():
            plain, live = [], []
            for _ in range(args.repeats):
                plain.append(one_run(config, False, Path(tmp)))
                live.append(one_run(config, True, Path(tmp)))
            p, q = statistics.median(plain), statistics.median(live)
            print(f"| {label} | {1e3 * p:.3f} | {1e3 * q:.3f} | {100 * (q / p - 1):+.1f}% |")


if __name__ == "__main__":
    main()
