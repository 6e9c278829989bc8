"""An objective that trains until it is stopped (for the killed-search test)."""

from __future__ import annotations

import torch


def train(config: dict, trial) -> float:
    """A tiny model stepped config["epochs"] x 1000 times: far longer than any test waits."""
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    with trial.monitor(model, opt, num_classes=3) as monitor:
        for _ in range(config["epochs"] * 1000):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitor.step(loss)
    return 0.0
