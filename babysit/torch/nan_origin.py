"""Where a non-finite loss began, from the on-device flags the Monitor keeps each step."""

from __future__ import annotations

import torch

from babysit.torch.layers import Watched


def origin(layers: list[Watched], flags: dict[str, torch.Tensor],
           prev_grads: dict[str, torch.Tensor] | None, step: int) -> str:
    """Where a non-finite loss came from: a gradient that went non-finite on the step before
    (the layer nearest the output: backward reaches it first, and the layers below inherit
    it), else the first layer (in forward order) whose output was non-finite on this step,
    else non-finite weights, else the loss computation itself."""
    if prev_grads:
        finite = torch.isfinite(torch.stack(list(prev_grads.values()))).cpu().tolist()
        bad = [name for name, ok in zip(prev_grads, finite, strict=True) if not ok]
        if bad:
            return f"gradients of {bad[-1]} at step {step - 1} (the loss was still finite)"
    if flags:
        finite = torch.isfinite(torch.stack(list(flags.values()))).cpu().tolist()
        for name, ok in zip(flags, finite, strict=True):
            if not ok:
                return f"activations of {name}"
    bad = [w.name for w in layers if not bool(torch.isfinite(w.weight.detach()).all())]
    if bad:
        return f"weights of {bad[0]}"
    return "the loss itself (every layer's output was finite)"
