"""The lecture's checklist on your own PyTorch model, before a long run: this model has a planted
bug (a softmax before CrossEntropyLoss, which applies log-softmax itself), and the check names it.

Run: python examples/torch_sanity.py [--fixed]
 or: babysit sanity-check --torch examples/torch_sanity.py:make_model
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from sklearn.datasets import load_digits

from babysit.torch import sanity_check


def make_model(fixed: bool = False) -> tuple[torch.nn.Module, Any, tuple[torch.Tensor, torch.Tensor]]:
    """(model, loss_fn, (X, y)): what `babysit sanity-check --torch` asks of a factory."""
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)  # standardized per feature
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = [torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)]
    if not fixed:
        layers.append(torch.nn.Softmax(dim=1))  # the bug: CrossEntropyLoss wants logits
    return torch.nn.Sequential(*layers), torch.nn.CrossEntropyLoss(), (x, torch.tensor(y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", action="store_true", help="without the planted bug")
    args = parser.parse_args()
    model, loss_fn, (x, y) = make_model(args.fixed)
    report = sanity_check(model, loss_fn, x, y, optimizer=lambda p: torch.optim.Adam(p, 1e-3),
                          num_classes=10)
    print(report)
    raise SystemExit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
