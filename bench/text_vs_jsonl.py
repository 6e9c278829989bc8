"""Diagnosing a run's printed output against the same run as JSONL, side by side.

Run: python bench/text_vs_jsonl.py [--lines 1000000] [--repeat 3]
Writes one run (a loss per step, validation every 1,000 steps) twice: as JSON lines and as a
PyTorch loop would print it (`Epoch [3/100], Step [120/1000], Loss: 0.4114`, `Epoch 3: Val
Loss=..., Val Acc=...%`), then times `diagnose_runs` on each in a fresh process and reports its
wall time and peak memory (max RSS). The issue's bar: the text within 2x of the JSONL.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS_PER_EPOCH = 1000


def write_logs(folder: Path, lines: int) -> tuple[Path, Path]:
    """The same run as JSONL and as printed text."""
    jsonl, text = folder / "run.jsonl", folder / "train.log"
    epochs = lines // STEPS_PER_EPOCH
    with jsonl.open("w") as fj, text.open("w") as ft:
        fj.write(json.dumps({"type": "header", "num_classes": 10}) + "\n")
        for step in range(lines):
            epoch, pos = divmod(step, STEPS_PER_EPOCH)
            loss = 2.3 * math.exp(-step / lines * 3) + 0.05 * math.sin(step)
            record = {"type": "step", "step": step, "epoch": epoch, "loss": round(loss, 4)}
            ft.write(f"Epoch [{epoch + 1}/{epochs}], Step [{pos + 1}/{STEPS_PER_EPOCH}], Loss: {loss:.4f}\n")
            if pos == STEPS_PER_EPOCH - 1:
                val = round(loss * 1.1, 4)
                acc = 1 - loss / 2.5
                record.update(val_loss=val, val_acc=round(acc, 4))
                ft.write(f"Epoch {epoch + 1}: Val Loss={val:.4f}, Val Acc={100 * acc:.2f}%\n")
            fj.write(json.dumps(record) + "\n")
    return jsonl, text


def measure(path: Path) -> tuple[float, float, int]:
    """(seconds, peak MB, steps) of diagnosing `path` in a fresh process."""
    code = ("import sys, time, resource; from pathlib import Path; "
            "from babysit.diagnostics.runs import diagnose_runs; t = time.perf_counter(); "
            "res, _ = diagnose_runs(Path(sys.argv[1])); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
            "res[0][1].steps)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    seconds, peak, steps = out.stdout.split()
    return float(seconds), float(peak), int(steps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        jsonl, text = write_logs(Path(tmp), args.lines)
        print(f"wrote {args.lines:,} steps twice in {time.perf_counter() - started:.1f} s "
              f"(JSONL {jsonl.stat().st_size / 2**20:.0f} MB, text {text.stat().st_size / 2**20:.0f} MB)")
        print("| log | diagnose (s) | peak RSS (MB) | steps read |\n|---|---|---|---|")
        results: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.repeat):  # alternated, the fastest of each kept: a busy machine's noise
            for name, path in (("JSONL", jsonl), ("printed text", text)):
                got = measure(path)
                results[name] = min(results.get(name, got), got)
        for name, (seconds, peak, steps) in results.items():
            print(f"| {name} | {seconds:.1f} | {peak:.0f} | {steps:,} |")
        print(f"text / JSONL time: {results['printed text'][0] / results['JSONL'][0]:.2f}x")


if __name__ == "__main__":
    main()
