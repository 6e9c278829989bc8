"""Peak memory of `babysit diagnose` on large inputs of each streamed format (issue 22: under
300 MB for a 1M-scalar TensorBoard run, a 1M-row MLflow store and an 80 MB CSV; issue 38:
a trainer_state.json of 600,000 log entries, a CSV holding one 200 MB line; issue 34: 1M
lines of printed output).

Run: python bench/reader_memory.py [--scalars 1000000] [--csv-mb 80]
Writes the inputs to a temporary directory (TensorBoard frames by babysit's own writer of the
TFRecord framing; an SQLite file with MLflow's metrics/runs columns; a Lightning-style CSV),
then runs `babysit diagnose` on each in a child process and reads its peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from babysit.readers.tfevents import masked_crc


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _event(step: int, tag: str, value: float) -> bytes:
    """An Event proto by hand: wall_time (1), step (2), summary (5) { value (1) { tag (1),
    simple_value (2) } }."""
    tag_b = tag.encode()
    val = b"\x0a" + _varint(len(tag_b)) + tag_b + b"\x15" + struct.pack("<f", value)
    summary = b"\x0a" + _varint(len(val)) + val
    return (b"\x09" + struct.pack("<d", 1.7e9 + step) + b"\x10" + _varint(step)
            + b"\x2a" + _varint(len(summary)) + summary)


def _frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data))


def write_inputs(root: Path, scalars: int, csv_mb: int) -> dict[str, Path]:
    """The three inputs, each of about the given size."""
    steps = scalars // 2
    tb = root / "tb" / "events.out.tfevents.1.bench"
    tb.parent.mkdir()
    with tb.open("wb") as fh:
        for i in range(steps):
            fh.write(_frame(_event(i, "train_loss", 2.0 / (1 + i / 1000))) + _frame(_event(i, "lr", 1e-3)))
    store = root / "mlflow" / "mlflow.db"
    store.parent.mkdir()
    db = sqlite3.connect(store)
    db.executescript("CREATE TABLE runs (run_uuid TEXT, name TEXT, status TEXT, lifecycle_stage TEXT,"
                     " experiment_id INT, start_time INT); CREATE TABLE metrics (key TEXT, value REAL,"
                     " timestamp INT, step INT, is_nan BOOLEAN, run_uuid TEXT);")
    db.execute("INSERT INTO runs VALUES ('r1', 'big', 'FINISHED', 'active', 0, 1)")
    db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, 0, 'r1')",
                   ((key, 2.0 / (1 + i / 1000), 1_700_000_000_000 + i, i)
                    for i in range(steps) for key in ("train_loss", "lr")))
    db.commit()
    db.close()
    csv = root / "metrics.csv"
    with csv.open("w") as fh:
        fh.write("epoch,step,train_loss,val_loss,val_acc,lr\n")
        i = 0
        while fh.tell() < csv_mb * 2**20:
            fh.write(f"{i // 100},{i},{2.0 / (1 + i / 1000):.6f},,,0.001\n")
            i += 1
    state = root / "trainer_state.json"
    with state.open("w") as fh:  # HF's order: log_history before logging_steps and train_batch_size
        fh.write(f'{{"global_step": {steps}, "log_history": [')
        fh.write(",".join(json.dumps({"loss": 2.0 / (1 + i / 1000), "grad_norm": 1.5, "learning_rate": 5e-5,
                                      "epoch": i / 1000, "step": i}) for i in range(steps)))
        fh.write('], "logging_steps": 1, "train_batch_size": 8}')
    one_line = root / "one_line.csv"
    with one_line.open("w") as fh:
        fh.write("epoch,loss,note\n0,1.0,x\n1,0.9,")
        for _ in range(200):
            fh.write("y" * 2**20)
        fh.write("\n2,0.8,z\n")
    printed = root / "train.log"
    with printed.open("w") as fh:
        for i in range(2 * steps):
            fh.write(f"Epoch [{i // 1000 + 1}/{2 * steps // 1000}], Step [{i % 1000 + 1}/1000], "
                     f"Loss: {2.0 / (1 + i / 1000):.4f}\n")
    return {f"TensorBoard, {2 * steps:,} scalars": tb.parent, f"MLflow SQLite, {2 * steps:,} rows": store,
            f"CSV, {csv.stat().st_size / 2**20:.0f} MB": csv,
            f"trainer_state.json, {steps:,} entries ({state.stat().st_size / 2**20:.0f} MB)": state,
            "CSV with one 200 MB line": one_line,
            f"printed output, {2 * steps:,} lines ({printed.stat().st_size / 2**20:.0f} MB)": printed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalars", type=int, default=1_000_000)
    parser.add_argument("--csv-mb", type=int, default=80)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = write_inputs(Path(tmp), args.scalars, args.csv_mb)
        print("| input | peak RSS | wall time |\n|---|---|---|")
        for name, path in inputs.items():
            start = time.perf_counter()
            child = subprocess.run([sys.executable, "-c",
                                    "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', "
                                    f"'babysit', 'diagnose', {str(path)!r}], capture_output=True); "
                                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"],
                                   capture_output=True, text=True, check=True)
            rss_mb = int(child.stdout.split()[-1]) / 1024
            print(f"| {name} | {rss_mb:.0f} MB | {time.perf_counter() - start:.1f} s |")


if __name__ == "__main__":
    main()
