"""`babysit diagnose` on a large log: wall time, records per second and peak memory.

Run: python bench/diagnose_speed.py [--records 1000000] [--every 1]
Writes a synthetic log of step records (a decaying noisy loss; per-layer statistics for 3
layers on every `--every`-th record, in babysit's format), then runs `babysit diagnose` on it
in a child process and reads that process's peak resident memory. If pandas is importable, the
same file is also read with pandas.read_json(lines=True) for comparison.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_log(path: Path, n: int, every: int) -> None:
    """A babysit log (schema 2: `layers` last in each step): header, n steps, summary."""
    rng = random.Random(0)
    hist = {"lo": 0.0, "hi": 4.0, "counts": [120, 80, 40, 20, 10, 5, 3, 2, 1, 1, 0, 0, 0, 0, 0, 1]}
    with path.open("w") as fh:
        fh.write(json.dumps({"type": "header", "schema_version": 2, "run_id": "bench",
                             "config": {"hidden": [512, 512]}, "num_classes": 10,
                             "activation": "relu"}) + "\n")
        for step in range(n):
            loss = 2.3 * math.exp(-step / 2e5) + 0.1 + 0.05 * rng.random()
            rec = {"type": "step", "step": step, "epoch": step // 1000, "loss": loss,
                   "data_loss": loss - 0.01, "reg_loss": 0.01, "lr": 1e-3, "time": step * 0.01}
            if step % every == 0:
                rec["layers"] = {
                    name: {"weight_norm": 10.0, "grad_norm": 0.5 + 0.1 * rng.random(),
                           "update_ratio": 1e-3, "act_mean": 0.4, "act_std": 0.8,
                           "dead_frac": 0.05, "hist": hist}
                    for name in ("fc1", "fc2", "fc3")}
                del rec["layers"]["fc3"]["hist"]
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
        fh.write(json.dumps({"type": "summary", "status": "completed", "steps": n}) + "\n")


def main() -> None:
    """Print the size of the log, the diagnose time and peak memory (and pandas', if present)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=1, help="layer stats every k records")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        write_log(path, args.records, args.every)
        size = path.stat().st_size / 1e6
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "babysit", "diagnose", str(path), "--json"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        assert proc.returncode in (0, 1), proc.stderr
        found = [f["rule"] for f in json.loads(proc.stdout)["runs"][0]["findings"]]
        print(f"log: {args.records:,} step records, layer stats every {args.every}, {size:.0f} MB")
        print(f"babysit diagnose: {wall:.2f} s, {args.records / wall:,.0f} records/s, "
              f"peak RSS {peak:.0f} MB, findings {found}")
        try:
            import pandas  # noqa: F401
        except ImportError:
            print("pandas: not installed, comparison skipped")
            return
        code = (f"import pandas, time; t = time.perf_counter(); "
                f"df = pandas.read_json({str(path)!r}, lines=True); "
                f"print(time.perf_counter() - t)")
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ})
        wall_pd = time.perf_counter() - start
        peak_all = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"pandas.read_json(lines=True): {wall_pd:.2f} s (read only, no diagnosis), "
              f"peak RSS {peak_all:.0f} MB (max over both children) {out.stderr[-200:]}")


if __name__ == "__main__":
    main()
