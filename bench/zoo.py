"""Run the fault zoo over several seeds: recall on broken runs, false alarms on healthy ones.

Run: python bench/zoo.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import time

from babysit.zoo import run_zoo, scores


def main() -> None:
    """Print one line per case and seed, then the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    results = run_zoo(list(range(args.first_seed, args.first_seed + args.seeds)))
    for r in results:
        status = "ok" if not r["missed"] and not r["unexpected"] and r["root_ok"] is not False \
            else "MISS/ALARM"
        print(f"{status:10} seed {r['seed']}  {r['case']:42} missed={r['missed']} "
              f"unexpected={r['unexpected']} first={r['first']} fired={r['fired']}")
    s = scores(results)
    print(f"\nrecall {s['found']}/{s['labels']} = {100 * s['recall']:.1f}%   "
          f"false alarms {s['false_alarm_runs']}/{s['healthy_runs']} healthy runs = "
          f"{100 * s['false_alarm_rate']:.1f}%   broken runs with a forbidden finding: "
          f"{s['broken_runs_with_forbidden_findings']}   root cause first "
          f"{s['root_cause_right']}/{s['root_cause_runs']}   ({time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
