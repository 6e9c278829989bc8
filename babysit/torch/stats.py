"""Per-layer statistics of a sampled step, computed on the model's device and copied to the
host in one transfer (a GPU run pays one synchronisation per sampled step, not one per number).

The fields and their meaning are those of babysit's own trainer (babysit/training/stats.py,
docs/log-format.md): weight and gradient norms, the update/weight ratio, activation mean and
std, the dead fraction (per unit for Linear, per channel for Conv), the saturated fraction and
a 16-bin histogram.
"""

from __future__ import annotations

from typing import Any

import torch

from babysit.torch.layers import FUNCTIONAL, Watched

HIST_BINS = 16
SIGMOID_SAT, TANH_SAT = 0.01, 0.99  # as babysit's trainer: the gradient is below 1-2% there
SKETCH = 4096  # coordinates kept of a large tensor for its update ratio (~3% error measured)
SKETCH_ABOVE = 65536  # tensors larger than this are sketched, smaller ones copied whole


class Before:
    """A layer's weights before the optimizer step: whole, or a fixed random sketch."""

    def __init__(self, weight: torch.Tensor, index: torch.Tensor | None) -> None:
        """Copy `weight`, or only the coordinates in `index` (see sketch_index)."""
        flat = weight.detach().reshape(-1)
        self.index = index
        # float32 at least: a bf16 difference of two close weights loses most of its digits
        kept = flat[index] if index is not None else flat
        self.values = kept.to(torch.promote_types(kept.dtype, torch.float32), copy=True)

    def ratio(self, weight: torch.Tensor) -> torch.Tensor:
        """||w_now - w_before|| / ||w_before|| over the kept coordinates (a 0-d tensor)."""
        flat = weight.detach().reshape(-1)
        now = (flat[self.index] if self.index is not None else flat).to(self.values.dtype)
        return torch.linalg.vector_norm(now - self.values) / torch.linalg.vector_norm(self.values)


def dense_values(grad: torch.Tensor) -> torch.Tensor:
    """A gradient as a strided tensor with the same norm: a sparse gradient's stored values
    (an embedding's or a user's sparse gradient: norms do not run on sparse layouts)."""
    grad = grad.detach()
    if grad.layout == torch.strided:
        return grad
    return (grad.coalesce() if grad.layout == torch.sparse_coo else grad).values()


def sketch_index(weight: torch.Tensor, generator: torch.Generator) -> torch.Tensor | None:
    """SKETCH random coordinates of a large tensor (drawn once per tensor and kept: the same
    coordinates before and after every update), or None for a tensor small enough to copy."""
    n = weight.numel()
    if n <= SKETCH_ABOVE:
        return None
    return torch.randint(0, n, (SKETCH,), generator=generator).to(weight.device)


STAT_ELEMENTS = 1 << 16  # mean, std and histogram use an even spread of this many outputs


def _unit_max(h: torch.Tensor, dim: int) -> torch.Tensor:
    """Each unit's largest output over the batch (and positions): units are the last
    dimension (Linear) or the channels (Conv). One reduction, no copy."""
    if dim != -1 and h.dim() > 2:
        return h.amax(dim=[d for d in range(h.dim()) if d != dim])
    return h.reshape(-1, h.shape[-1]).amax(dim=0)


def activation_values(layer: Watched, output: torch.Tensor) -> torch.Tensor:
    """The activations of `layer` from its captured output: the activation module's output as
    is, or the layer's own output put through the activation it is assumed to feed."""
    if layer.act_module is not None:
        return output
    fn = FUNCTIONAL.get(layer.activation or "")
    return fn(output) if fn is not None else output


def _activation_parts(layer: Watched, h: torch.Tensor, hist: bool) -> tuple[list[str], list[torch.Tensor]]:
    full = h.detach()
    flat = full.reshape(-1)
    # A conv layer's outputs run to millions per batch; an even spread of 65,536 of them gives
    # the mean and std to ~1% and the histogram's shape, at a fraction of the cost.
    h = flat[:: flat.numel() // STAT_ELEMENTS] if flat.numel() > 2 * STAT_ELEMENTS else flat
    h = h.float()
    names, values = ["act_mean", "act_std"], [h.mean(), h.std(unbiased=False)]
    kind = layer.activation
    if kind == "relu":  # dead: zero for every example, so the whole batch is needed
        top = _unit_max(full, layer.channels_dim)
        names.append("dead_frac")
        # a NaN output is neither dead nor alive: the fraction is NaN, not "all dead"
        values.append(1.0 - (top > 0).float().mean() + 0.0 * top.float().sum())
    elif kind == "sigmoid":
        names.append("sat_frac")
        values.append(((h < SIGMOID_SAT) | (h > 1.0 - SIGMOID_SAT)).float().mean())
    elif kind == "tanh":
        names.append("sat_frac")
        values.append((h.abs() > TANH_SAT).float().mean())
    if hist:
        # Over the outputs' own range, for tanh and sigmoid too: on a fixed [-1, 1] a deep tanh
        # net's layers at std 0.05 and at 1e-6 both fill the middle bin and look the same.
        lo, hi = h.min(), h.max()
        hi = torch.maximum(hi, lo + 1e-12)
        idx = ((h - lo) * (HIST_BINS / (hi - lo))).long().clamp_(0, HIST_BINS - 1)
        # scatter_add, not bincount: on CUDA bincount reads the largest index back to size its
        # output, a host synchronisation in the middle of the statistics
        idx = idx.reshape(-1)
        counts = torch.zeros(HIST_BINS, device=h.device).scatter_add_(
            0, idx, torch.ones(idx.shape, device=h.device))
        names += ["hist.lo", "hist.hi"] + [f"hist.{i}" for i in range(HIST_BINS)]
        values += [lo, hi, *counts.unbind()]
    return names, values


def layer_stats(layers: list[Watched], outputs: dict[str, torch.Tensor],
                grads: dict[str, torch.Tensor], before: dict[str, Before],
                hist: bool) -> dict[str, dict[str, Any]]:
    """Statistics keyed by layer name, with one device-to-host copy for all of them; `grads`
    holds the gradient norms (0-d tensors) read when the gradients were there."""
    weights = [w.weight.detach() for w in layers]
    with torch.no_grad():
        names: list[tuple[str, str]] = []
        values: list[torch.Tensor] = []
        for layer, wn in zip(layers, torch._foreach_norm(weights) if weights else [], strict=True):
            names.append((layer.name, "weight_norm"))
            values.append(wn)
        for layer in layers:
            if layer.name in grads:
                names.append((layer.name, "grad_norm"))
                values.append(grads[layer.name])
        for layer in layers:
            if layer.name in before:
                names.append((layer.name, "update_ratio"))
                values.append(before[layer.name].ratio(layer.weight))
            out = outputs.get(layer.name)
            if out is not None and layer.activation is not None:
                fields, vals = _activation_parts(layer, activation_values(layer, out), hist)
                names += [(layer.name, f) for f in fields]
                values += vals
        host = torch.stack([v.float().reshape(()) for v in values]).cpu().tolist() if values else []
    stats: dict[str, dict[str, Any]] = {layer.name: {} for layer in layers}
    for (layer_name, field), value in zip(names, host, strict=True):
        entry = stats[layer_name]
        if field.startswith("hist."):
            h = entry.setdefault("hist", {"lo": 0.0, "hi": 0.0, "counts": []})
            key = field[5:]
            if key in ("lo", "hi"):
                h[key] = value
            else:
                h["counts"].append(int(value))
        else:
            entry[field] = value  # non-finite stays so: the log writes "NaN", "Infinity"
    for entry in stats.values():  # keep the histogram last, like the trainer's records
        if "hist" in entry:
            entry["hist"] = entry.pop("hist")
    return stats


def all_finite(tensors: list[torch.Tensor]) -> torch.Tensor:
    """One 0-d bool tensor: every element of every tensor is finite (no host sync)."""
    flags = [torch.isfinite(t).all() for t in tensors]
    return torch.stack(flags).all() if flags else torch.ones((), dtype=torch.bool)
