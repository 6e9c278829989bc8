"""What every check of `babysit.torch.sanity_check` works with: the examples, fresh copies of the
model, optimizers like the user's, short training runs. The caller's model and optimizer are
never touched: every experiment trains a deep copy with a new optimizer of the same kind."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

Factory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
DEFAULT_LR = 1e-3  # Adam's usual start, when the user gives no optimizer


def optimizer_factory(optimizer: Any) -> Factory:
    """A function making an optimizer like the user's: from a factory, an optimizer instance
    (same class and defaults), or None (Adam at 1e-3)."""
    if optimizer is None:
        return lambda params: torch.optim.Adam(params, lr=DEFAULT_LR)
    if isinstance(optimizer, torch.optim.Optimizer):
        kind, defaults = type(optimizer), dict(optimizer.defaults)
        return lambda params: kind(params, **defaults)
    if callable(optimizer):
        return optimizer
    raise TypeError("optimizer must be a torch optimizer, a function params -> optimizer, or None")


def gather(x: Any, y: Any, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to `limit` examples as two tensors, from tensors / arrays or a DataLoader of (x, y)."""
    if y is not None:
        return torch.as_tensor(x)[:limit], torch.as_tensor(y)[:limit]
    xs, ys, n = [], [], 0
    for batch in x:
        if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
            raise TypeError("a DataLoader given as X must yield (inputs, labels) pairs")
        xs.append(torch.as_tensor(batch[0]))
        ys.append(torch.as_tensor(batch[1]))
        n += len(ys[-1])
        if n >= limit:
            break
    if not xs:
        raise ValueError("the DataLoader yielded no batch")
    return torch.cat(xs)[:limit], torch.cat(ys)[:limit]


@dataclass
class Setup:
    """The model, its loss and data, and how to train copies of it."""

    model: torch.nn.Module  # the caller's: read, never trained
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    x: torch.Tensor
    y: torch.Tensor
    make_optimizer: Factory
    classes: int | None  # C for a classifier (outputs of C scores), 2 for one binary logit
    reg_loss: Callable[[torch.nn.Module], torch.Tensor] | None = None

    def fresh(self, dropout: bool = False) -> torch.nn.Module:
        """A deep copy of the model in train mode; dropout off unless asked (the recipe's
        checks are made without regularization)."""
        model = copy.deepcopy(self.model).train()
        if not dropout:
            for module in model.modules():
                if isinstance(module, torch.nn.modules.dropout._DropoutNd):
                    module.p = 0.0
        return model

    def optimizer(self, model: torch.nn.Module, lr: float | None = None,
                  weight_decay: bool = False) -> torch.optim.Optimizer:
        """An optimizer like the user's on `model`, at `lr` (groups keep their ratios), weight
        decay off unless asked."""
        opt = self.make_optimizer(model.parameters())
        base = self.base_lr(opt)
        for group in opt.param_groups:
            if lr is not None and base:
                group["lr"] = group["lr"] * lr / base
            if not weight_decay and "weight_decay" in group:
                group["weight_decay"] = 0.0
        return opt

    @staticmethod
    def base_lr(opt: torch.optim.Optimizer) -> float:
        """The first param group's learning rate."""
        lr = opt.param_groups[0].get("lr", DEFAULT_LR)
        return float(lr)

    def loss(self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The data loss of `model` on (x, y)."""
        return self.loss_fn(model(x), y)

    def accuracy(self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        """Classification accuracy (argmax of C scores, or the sign of one logit)."""
        with torch.no_grad():
            out = model(x)
        pred = out.argmax(1) if out.dim() > 1 and out.shape[1] > 1 else (out.reshape(-1) > 0).long()
        return float((pred == y.reshape(-1).long()).float().mean())

    def train(self, model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor,
              y: torch.Tensor, steps: int, batch: int,
              stop: Callable[[int, float], bool] | None = None) -> list[float]:
        """Minibatch SGD steps over (x, y) in a fixed order; each step's loss (stops at a
        non-finite one, or when stop(step, loss) says so)."""
        losses: list[float] = []
        n = len(y)
        for step in range(steps):
            i = (step * batch) % n
            xb, yb = x[i:i + batch], y[i:i + batch]
            loss = self.loss(model, xb, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = float(loss.detach())
            losses.append(value)
            if not math.isfinite(value) or (stop is not None and stop(step, value)):
                break
        return losses


def infer_classes(outputs: torch.Tensor, y: torch.Tensor, given: int | None) -> int | None:
    """C from the outputs' width and integer labels; 2 for one logit and 0/1 labels; None when
    the task is not classification (regression, sequences) or cannot be told."""
    if given is not None:
        return given
    if y.is_floating_point():
        labels = y.reshape(-1)
        binary = bool(((labels == 0) | (labels == 1)).all())
        return 2 if binary and outputs.dim() <= 2 and outputs.shape[-1] == 1 else None
    if outputs.dim() == 2 and outputs.shape[1] >= 2 and y.dim() == 1:
        return int(outputs.shape[1])
    return None
