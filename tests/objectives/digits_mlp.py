"""A user's own PyTorch training function, as `babysit search --objective` runs it."""

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
