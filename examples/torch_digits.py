"""babysit watching a plain PyTorch loop on sklearn's digits: one line to set up, one per step.

Run: python examples/torch_digits.py [--log run.jsonl] [--lr 1e-3] [--epochs 5] [--cnn]
then: babysit diagnose run.jsonl   (or babysit watch run.jsonl in another terminal while it runs)
"""

from __future__ import annotations

import argparse

import torch
from sklearn.datasets import load_digits

from babysit.torch import Monitor


def model(cnn: bool) -> torch.nn.Module:
    if cnn:
        return torch.nn.Sequential(torch.nn.Unflatten(1, (1, 8, 8)),
                                   torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
                                   torch.nn.Flatten(), torch.nn.Linear(16 * 64, 10))
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", default="run.jsonl")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cnn", action="store_true", help="a small CNN instead of an MLP")
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    xt, yt, xv, yv = x[:1400], y[:1400], x[1400:], y[1400:]
    net = model(args.cnn)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    with Monitor(net, optimizer, log=args.log, num_classes=10, overwrite=True) as monitor:
        for _ in range(args.epochs):
            order = torch.randperm(len(yt))
            for i in range(0, len(yt), 64):
                idx = order[i:i + 64]
                loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                monitor.step(loss)  # after optimizer.step()
            net.eval()
            with torch.no_grad():
                scores = net(xv)
                monitor.epoch(train_acc=(net(xt).argmax(1) == yt).float().mean(),
                              val_acc=(scores.argmax(1) == yv).float().mean(),
                              val_loss=torch.nn.functional.cross_entropy(scores, yv))
            net.train()
            if monitor.should_stop:  # an error-level finding (stop_on="error")
                break
    for finding in monitor.findings:
        print(f"{finding.severity}: {finding.rule}: {finding.message}")
    print(f"log: {args.log}")


if __name__ == "__main__":
    main()
