"""Which modules of a PyTorch model babysit watches, and which activation each one feeds.

Layers are the model's Linear and Conv modules, named by their module path. Each hidden layer's
activation is the first activation module registered after it and before the next layer (the
order of `named_modules`, which is the forward order of nn.Sequential and of most models);
a layer with none (F.relu called inside forward) is judged by its own output put through the
activation the Monitor is told, ReLU by default. The last layer is the output: its outputs are
scores, not activations, so it gets weight, gradient and update statistics only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

# Module class -> babysit's activation name (the names the rules and the log header use).
ACTIVATIONS: dict[type, str] = {
    torch.nn.ReLU: "relu", torch.nn.ReLU6: "relu", torch.nn.LeakyReLU: "leaky_relu",
    torch.nn.ELU: "elu", torch.nn.SELU: "selu", torch.nn.CELU: "elu", torch.nn.GELU: "gelu",
    torch.nn.SiLU: "silu", torch.nn.Mish: "mish", torch.nn.Softplus: "softplus",
    torch.nn.Tanh: "tanh", torch.nn.Hardtanh: "hardtanh", torch.nn.Sigmoid: "sigmoid",
    # Unknown, these were taken for a missing activation and judged as ReLU: a PReLU net at
    # 69% validation accuracy was "100% dead". They do not die (a slope below zero).
    torch.nn.PReLU: "prelu", torch.nn.RReLU: "leaky_relu", torch.nn.Hardswish: "silu",
    torch.nn.Hardsigmoid: "sigmoid", torch.nn.Softsign: "softsign",
}
LAYER_TYPES = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
FUNCTIONAL = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
# Each watched layer costs a hook call and a reduction of its output per step (tens of
# microseconds of host time): a 1000-layer model paid +83% per step. 64 layers spread evenly
# through depth still show any trend the depth rules and the 8-histogram depth figure look for.
MAX_LAYERS = 64


@dataclass
class Watched:
    """One watched layer: its module, its name, and where its activation comes from."""

    name: str
    module: torch.nn.Module
    activation: str | None  # None for the output layer
    act_module: torch.nn.Module | None  # the module whose output is the activation, if any
    channels_dim: int  # the dimension that indexes units: -1 for Linear, 1 for Conv
    param: torch.Tensor | None = None  # the weight tensor, when it is not `module.weight`

    @property
    def weight(self) -> torch.Tensor:
        """The layer's weight parameter."""
        return self.param if self.param is not None else self.module.weight  # type: ignore[return-value]


def find_layers(model: torch.nn.Module, names: list[str] | None = None,
                default_activation: str = "relu") -> list[Watched]:
    """The watched layers of `model` in registration order (only `names`, if given)."""
    order: list[tuple[str, torch.nn.Module]] = [
        (n, m) for n, m in model.named_modules()
        if isinstance(m, LAYER_TYPES) or type(m) in ACTIVATIONS]
    layers = [(i, n, m) for i, (n, m) in enumerate(order) if isinstance(m, LAYER_TYPES)]
    out: list[Watched] = []
    for k, (i, name, module) in enumerate(layers):
        last = k == len(layers) - 1
        end = layers[k + 1][0] if not last else len(order)
        act = next((m for _, m in order[i + 1:end] if type(m) in ACTIVATIONS), None)
        kind = None if last and act is None else (ACTIVATIONS[type(act)] if act else default_activation)
        dim = -1 if isinstance(module, torch.nn.Linear) else 1
        out.append(Watched(name or "model", module, kind, act, dim))
    if names is not None:
        unknown = set(names) - {w.name for w in out}
        if unknown:
            raise ValueError(f"no Linear/Conv layer named {', '.join(sorted(unknown))}; "
                             f"the model has {', '.join(w.name for w in out)}")
        out = [w for w in out if w.name in names]
    return out


def spread(layers: list[Watched], most: int | None) -> list[Watched]:
    """At most `most` of `layers`, evenly spaced through depth, the first and the last always."""
    n = len(layers)
    if most is None or n <= most or most < 2:
        return layers
    keep = sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})
    return [layers[i] for i in keep]


def main_activation(layers: list[Watched]) -> str | None:
    """The hidden layers' most common activation, for the log header."""
    kinds = [w.activation for w in layers if w.activation]
    return max(set(kinds), key=kinds.count) if kinds else None


def model_summary(model: torch.nn.Module, limit: int = 4000) -> str:
    """repr(model), cut to `limit` characters (a header line must stay small)."""
    text = repr(model)
    return text if len(text) <= limit else text[:limit] + " ..."


def count_parameters(model: torch.nn.Module) -> int:
    """Trainable parameter count."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def as_float(value: Any) -> float | None:
    """A Python float from a number or a 0-d tensor (one host transfer); None if neither."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().cpu())
    return float(value)
