"""Where the L2 term starts to dominate: babysit runs over reg strengths, for reg-dominant.

Run: python bench/reg_zoo.py
Each setting (data x hidden layers) trains at reg 1e-4 .. 1 with Adam (lr 1e-2) and prints the
ratio of the L2 term to the data loss at the first step, beside the final validation accuracy
and its distance from the best reg of that setting. The spiral is where the threshold of
babysit/diagnostics/rules/reg_dominant.py was read; digits checks it.
"""

from __future__ import annotations

from babysit.api import prepare_data, train
from babysit.config import Config
from babysit.training import MemorySink

SETTINGS = [("spiral", (100,), 60), ("spiral", (100, 100), 60),
            ("digits", (100,), 40), ("digits", (100, 100), 40)]
REGS = (1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0)


def main() -> None:
    """One table row per run."""
    print("| data | hidden | reg | L2 / data loss at step 0 | val acc | below the best reg |")
    print("|---|---|---|---|---|---|")
    for data, hidden, epochs in SETTINGS:
        dataset = prepare_data(Config(data=data))
        rows = []
        for reg in REGS:
            memory = MemorySink()
            summary = train(Config(data=data, hidden=hidden, epochs=epochs, reg=reg), [memory],
                            dataset=dataset, live=False)
            first = next(r for r in memory.records if r.get("type") == "step")
            rows.append((reg, first["reg_loss"] / first["data_loss"], summary["val_acc"]))
        best = max(acc for _, _, acc in rows)
        for reg, ratio, acc in rows:
            print(f"| {data} | {','.join(map(str, hidden))} | {reg:g} | {ratio:.3g} | "
                  f"{100 * acc:.1f}% | {100 * (best - acc):.1f} |")


if __name__ == "__main__":
    main()
