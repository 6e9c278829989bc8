"""One labelled run of the cross-framework zoo: how it trains, what a diagnosis must say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TOO_HIGH = ["loss-nan", "loss-explosion"]  # a rate far too high: either names it


@dataclass(frozen=True)
class Case:
    """One run: how it trains, and what a diagnosis must and must not say."""

    name: str
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    epochs: int = 8
    batch: int = 64
    subset: int | None = None
    init_std: float | None = None  # N(0, std^2) weights instead of PyTorch's default
    last_scale: float | None = None  # multiply the output layer's initial weights (Monitor runs)
    raw: bool = False  # pixels 0..16 as they are, not divided by 16 (Monitor runs)
    must_fire: list[list[str]] = field(default_factory=list)  # each inner list: any of these
    must_not_fire: list[str] = field(default_factory=list)
    root_cause: list[str] = field(default_factory=list)  # the first finding must be one of these
    healthy: bool = False


def digits(torch: Any, seed: int, raw: bool = False) -> tuple[Any, Any, Any, Any]:
    """sklearn's digits shuffled by `seed`: 1400 training and 397 validation examples, pixels
    divided by 16 (or `raw`, 0..16)."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    x = torch.tensor(x if raw else x / 16.0, dtype=torch.float32)[order]
    y = torch.tensor(y)[order]
    return x[:1400], y[:1400], x[1400:], y[1400:]


def mlp(case: Case, torch: Any) -> Any:
    """The case's MLP on 64 inputs and 10 classes, with its init."""
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[case.activation]
    layers: list[Any] = []
    width = 64
    for h in case.hidden:
        layers += [torch.nn.Linear(width, h), act()]
        width = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear) and case.init_std is not None:
                torch.nn.init.normal_(m.weight, 0.0, case.init_std)
                torch.nn.init.zeros_(m.bias)
        if case.last_scale:
            net[-1].weight.mul_(case.last_scale)
    return net
