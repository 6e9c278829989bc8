"""Wall time of `babysit sanity-check` on the default net, as a user runs it (a fresh process).

Run: python bench/sanity_time.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def main() -> None:
    """Print the median and range of the command's wall time, imports included."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "babysit", "sanity-check", "--no-live"],
                              capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"babysit sanity-check (default spiral net, 8 checks): median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}) over {args.repeats} runs")


if __name__ == "__main__":
    main()
