"""The lecture's search over your own PyTorch model: an MLP on sklearn's digits, babysat trial
by trial, the hopeless trials stopped with the finding as their reason (docs/search.md).

Run:  babysit search --objective examples/search_torch_digits.py:train --lr-range 1e-3:30 \
          --choices hidden=32,64 --trials 12 --epochs 2 --stages 2 --fine-epochs 4 --workers 2
or:   python examples/search_torch_digits.py   (the same from Python: babysit.search.run)
"""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits


def train(config: dict, trial) -> float:
    """An MLP on digits with SGD at config["lr"]; returns the validation accuracy."""
    x, y = load_digits(return_X_y=True)
    x = torch.tensor((x - 4.9) / 6.0, dtype=torch.float32)  # roughly centred and scaled
    y = torch.tensor(y)
    xt, yt, xv, yv = x[:1400], y[:1400], x[1400:], y[1400:]
    model = torch.nn.Sequential(torch.nn.Linear(64, int(config.get("hidden", 64))), torch.nn.ReLU(),
                                torch.nn.Linear(int(config.get("hidden", 64)), 10))
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=0.9)
    with trial.monitor(model, opt, num_classes=10, val_size=len(yv)) as monitor:
        for _ in range(config["epochs"]):
            for i in range(0, len(yt), 64):
                loss = torch.nn.functional.cross_entropy(model(xt[i:i + 64]), yt[i:i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.step(loss)
            with torch.no_grad():
                accuracy = (model(xv).argmax(1) == yv).float().mean().item()
            monitor.epoch(val_acc=accuracy)
    return accuracy


if __name__ == "__main__":  # spawned workers import this file: the search runs only from here
    import babysit.search

    outcome = babysit.search.run(train, {"lr": "1e-3:30:log", "hidden": [32, 64]}, trials=12,
                                 epochs=2, stages=2, fine_epochs=4, workers=2,
                                 results="runs/search-digits.jsonl")
    for row in outcome.rows:
        print(row["trial"], row["status"], row["params"], row["val_acc"], row["reason"] or "")
    print("best:", outcome.best)
