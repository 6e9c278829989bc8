"""Reading a TensorBoard event file: babysit's reader against tensorboard's EventAccumulator.

Run: python bench/tensorboard_speed.py [--scalars 100000] [--rounds 3]
Writes an event file of N scalars with tensorboard's own writer (tag train_loss, one per
step), then, alternating in the same process, times (a) babysit's reader turning it into step
records, and (b) EventAccumulator(size_guidance={"scalars": 0}).Reload() plus Scalars().
Also times the whole `babysit diagnose` command on it.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_events(directory: Path, n: int) -> Path:
    """An event file of n scalars, written by tensorboard's EventFileWriter."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(directory))
    for step in range(n):
        value = Summary.Value(tag="train_loss", simple_value=2.3 * math.exp(-step / (n / 5)) + 0.1)
        writer.add_event(Event(wall_time=time.time(), step=step, summary=Summary(value=[value])))
    writer.close()
    return next(directory.glob("events.out.tfevents.*"))


def babysit_read(path: Path) -> int:
    from babysit.readers import ReadStats, find_runs

    (run,) = find_runs(path)
    return sum(1 for rec in run.read(ReadStats(), None) if rec.get("type") == "step")


def accumulator_read(path: Path) -> int:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
    acc.Reload()
    return len(acc.Scalars("train_loss"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalars", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_events(Path(tmp), args.scalars)
        print(f"event file: {args.scalars:,} scalars, {path.stat().st_size / 1e6:.1f} MB")
        times: dict[str, list[float]] = {"babysit reader": [], "EventAccumulator": []}
        for _ in range(args.rounds):
            for name, fn in (("babysit reader", babysit_read), ("EventAccumulator", accumulator_read)):
                start = time.perf_counter()
                count = fn(path)
                times[name].append(time.perf_counter() - start)
                assert count == args.scalars, (name, count)
        for name, ts in times.items():
            print(f"{name:18} best {min(ts):.3f} s  (rounds: {', '.join(f'{t:.3f}' for t in ts)})")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "babysit", "diagnose", str(path)], capture_output=True)
        print(f"babysit diagnose (whole command, start-up included): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
