"""What every check of `babysit.torch.sanity_check` works with: the examples, fresh copies of the
model, optimizers like the user's, short training runs. The caller's model and optimizer are
never touched: every experiment trains a deep copy with a new optimizer of the same kind."""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from babysit.torch.layers import Watched
from babysit.torch.stats import activation_values

Factory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
DEFAULT_LR = 1e-3  # Adam's usual start, when the user gives no optimizer


def optimizer_factory(optimizer: Any) -> Factory:
    """A function making an optimizer like the user's: from a factory, an optimizer instance
    (same class and defaults), or None (Adam at 1e-3)."""
    if optimizer is None:
        return lambda params: torch.optim.Adam(params, lr=DEFAULT_LR)
    if isinstance(optimizer, torch.optim.Optimizer):
        kind = type(optimizer)
        # only what the constructor takes: AdamW's defaults hold decoupled_weight_decay, which
        # its __init__ sets itself
        accepted = inspect.signature(kind.__init__).parameters
        defaults = {k: v for k, v in optimizer.defaults.items() if k in accepted}
        return lambda params: kind(params, **defaults)
    if callable(optimizer):
        return optimizer
    raise TypeError("optimizer must be a torch optimizer, a function params -> optimizer, or None")


class Inputs:
    """A model's inputs: one tensor (`model(x)`), or keyword tensors (`model(**x)`, a Hugging
    Face batch without its labels), indexed along the batch dimension alike."""

    def __init__(self, data: torch.Tensor | dict[str, torch.Tensor]) -> None:
        """Wrap a tensor or a dict of tensors sharing their first dimension."""
        self.data = data

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Inputs:
        if isinstance(self.data, dict):
            return Inputs({k: fn(v) for k, v in self.data.items()})
        return Inputs(fn(self.data))

    def __getitem__(self, index: Any) -> Inputs:
        return self._map(lambda t: t[index])

    def __len__(self) -> int:
        first = next(iter(self.data.values())) if isinstance(self.data, dict) else self.data
        return len(first)

    def to(self, device: torch.device) -> Inputs:
        """On `device`."""
        return self._map(lambda t: t.to(device))

    def float64(self) -> Inputs:
        """Floating-point inputs in float64 (token ids as they are), for the gradient check."""
        return self._map(lambda t: t.double() if t.is_floating_point() else t)

    def zeros(self) -> Inputs:
        """Every input zeroed (for the input-independent baseline)."""
        return self._map(torch.zeros_like)

    def features(self) -> torch.Tensor | None:
        """The floating-point input whose statistics the data check reads (None for token ids)."""
        tensors = list(self.data.values()) if isinstance(self.data, dict) else [self.data]
        return next((t.float() for t in tensors if t.is_floating_point()), None)

    def __call__(self, model: torch.nn.Module) -> torch.Tensor:
        """The model's scores for these inputs (`.logits` of a Hugging Face output)."""
        out = model(**self.data) if isinstance(self.data, dict) else model(self.data)
        if isinstance(out, torch.Tensor):
            return out
        logits = getattr(out, "logits", None)
        if logits is None and isinstance(out, dict):
            logits = out.get("logits")
        if logits is None and isinstance(out, (tuple, list)) and out:
            logits = out[0]
        if not isinstance(logits, torch.Tensor):
            raise TypeError(f"the model returned {type(out).__name__}, not scores (a tensor or .logits)")
        return logits


def _as_inputs(x: Any) -> Inputs:
    if isinstance(x, dict):
        return Inputs({k: torch.as_tensor(v) for k, v in x.items()})
    return Inputs(torch.as_tensor(x))


def gather(x: Any, y: Any, limit: int) -> tuple[Inputs, torch.Tensor]:
    """Up to `limit` examples: from a batch (a tensor, an array or a dict of them, and the
    labels), or a DataLoader of (inputs, labels) pairs or of dicts holding "labels"."""
    if y is not None:
        return _as_inputs(x)[:limit], torch.as_tensor(y)[:limit]
    xs: list[Any] = []
    ys: list[torch.Tensor] = []
    n = 0
    for batch in x:
        if isinstance(batch, dict) and "labels" in batch:
            xs.append({k: torch.as_tensor(v) for k, v in batch.items() if k != "labels"})
            ys.append(torch.as_tensor(batch["labels"]))
        elif isinstance(batch, (tuple, list)) and len(batch) >= 2:
            xs.append(torch.as_tensor(batch[0]))
            ys.append(torch.as_tensor(batch[1]))
        else:
            raise TypeError("a DataLoader given as X must yield (inputs, labels) pairs or dicts "
                            "with 'labels'")
        n += len(ys[-1])
        if n >= limit:
            break
    if not xs:
        raise ValueError("the DataLoader yielded no batch")
    if isinstance(xs[0], dict):
        joined = Inputs({k: torch.cat([b[k] for b in xs]) for k in xs[0]})
    else:
        joined = Inputs(torch.cat(xs))
    return joined[:limit], torch.cat(ys)[:limit]


@dataclass
class Setup:
    """The model, its loss and data, and how to train copies of it."""

    model: torch.nn.Module  # the caller's: read, never trained
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    x: Inputs
    y: torch.Tensor
    make_optimizer: Factory
    classes: int | None  # C for a classifier (outputs of C scores), 2 for one binary logit
    reg_loss: Callable[[torch.nn.Module], torch.Tensor] | None = None
    summed: bool = False  # the loss is summed over the batch: values are read per example
    regression: bool = False  # float targets: a fit is judged by the loss, never by accuracy
    chosen_optimizer: bool = True  # False: none was given and Adam at 1e-3 stands in

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

    def loss(self, model: torch.nn.Module, x: Inputs, y: torch.Tensor) -> torch.Tensor:
        """The data loss of `model` on (x, y), as the loss function gives it."""
        return self.loss_fn(x(model), y)

    def per_example(self, loss: float, n: int) -> float:
        """A loss value of n examples on the scale of one (a summed loss divided by n)."""
        return loss / n if self.summed and n else loss

    def accuracy(self, model: torch.nn.Module, x: Inputs, y: torch.Tensor) -> float:
        """Classification accuracy (argmax of C scores, or the sign of one logit)."""
        with torch.no_grad():
            out = x(model)
        pred = out.argmax(1) if out.dim() > 1 and out.shape[1] > 1 else (out.reshape(-1) > 0).long()
        return float((pred == y.reshape(-1).long()).float().mean())

    def train(self, model: torch.nn.Module, opt: torch.optim.Optimizer, x: Inputs,
              y: torch.Tensor, steps: int, batch: int,
              stop: Callable[[int, float], bool] | None = None) -> list[float]:
        """Minibatch SGD steps over (x, y) in a fixed order; each step's loss, per example
        (stops at a non-finite one, or when stop(step, loss) says so)."""
        losses: list[float] = []
        n = len(y)
        for step in range(steps):
            i = (step * batch) % n
            xb, yb = x[i:i + batch], y[i:i + batch]
            loss = self.loss(model, xb, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = self.per_example(float(loss.detach()), len(yb))
            losses.append(value)
            if not math.isfinite(value) or (stop is not None and stop(step, value)):
                break
        return losses


def hidden_activations(model: torch.nn.Module, x: Inputs, layers: list[Watched]) -> dict[str, torch.Tensor]:
    """Each layer's activations on x (float32), from one forward pass without gradients."""
    outputs: dict[str, torch.Tensor] = {}
    handles = [(w.act_module or w.module).register_forward_hook(
        lambda _m, _i, out, name=w.name: outputs.setdefault(name, out.detach())) for w in layers]
    try:
        with torch.no_grad():
            x(model)
    finally:
        for handle in handles:
            handle.remove()
    return {w.name: activation_values(w, outputs[w.name]).float() for w in layers if w.name in outputs}


def dead_fraction_of(layer: Watched, acts: torch.Tensor) -> float:
    """The fraction of a ReLU layer's units (channels for Conv) that are 0 for every example."""
    dims = [d for d in range(acts.dim()) if d != (layer.channels_dim % acts.dim())]
    return float(((acts.amax(dim=dims) if dims else acts) <= 0).float().mean())
