"""The header record a Monitor writes: what is known about the model and its training."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from typing import Any

import torch

from babysit import __version__
from babysit.torch.layers import Watched, count_parameters, main_activation, model_summary
from babysit.torch.optim_watch import optimizer_settings
from babysit.training.records import SCHEMA_VERSION, first_layer_record

MAX_INPUT_ROWS = 10_000  # enough for stable per-feature means and stds; bounded cost


def tensor_input_stats(inputs: Any) -> dict[str, float | int]:
    """babysit's input statistics (docs/log-format.md) of a batch or dataset of inputs, a tensor
    or an array of shape (N, ...), each example flattened; images (4-D: NCHW tensors, NHWC or
    NCHW arrays) also per colour channel, as the lecture centres them; at most MAX_INPUT_ROWS
    rows."""
    import numpy as np

    from babysit.data import input_stats

    x = inputs.detach().cpu().float().numpy() if isinstance(inputs, torch.Tensor) \
        else np.asarray(inputs)
    if x.ndim < 2 or len(x) < 2:
        raise ValueError(f"inputs must be a batch of at least 2 examples, shape (N, ...), got "
                         f"shape {x.shape}")
    x = x[:MAX_INPUT_ROWS].astype(np.float64)
    shape = None
    if x.ndim == 4:
        # torch is channels-first; an array whose last axis looks like colours is channels-last
        last = not isinstance(inputs, torch.Tensor) and x.shape[-1] in (1, 3, 4) \
            and x.shape[1] not in (1, 3, 4)
        x = x if last else np.moveaxis(x, 1, -1)
        shape = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
    return input_stats(x.reshape(len(x), -1), shape)


def header_record(model: torch.nn.Module, optimizer: torch.optim.Optimizer | None,
                  layers: list[Watched], *, num_classes: int | None, activation: str,
                  loss_fn: str, every: int, world_size: int = 1, amp: bool = False,
                  clip_norm: float | None = None, layers_total: int | None = None,
                  total_steps: int | None = None,
                  input_stats: dict[str, Any] | None = None,
                  framework: str = "torch",
                  facts: dict[str, Any] | None = None,
                  unmeasured: dict[str, str] | None = None) -> dict[str, Any]:
    """The first record of a monitored run (docs/log-format.md's header, torch's fields)."""
    now = datetime.now(timezone.utc)
    settings = optimizer_settings(optimizer)
    return {
        "type": "header", "schema_version": SCHEMA_VERSION,
        "run_id": now.strftime("%Y%m%d-%H%M%S"),
        "started_at": now.isoformat(timespec="seconds"),
        "source": "babysit.torch.Monitor", "framework": framework,
        "num_classes": num_classes, **(facts or {}),  # task, pretrained, batch_size, log_every
        "activation": main_activation(layers) or activation,
        "loss_fn": loss_fn, "num_params": count_parameters(model),
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "lr": settings[0].get("lr") if settings else None,
        "weight_decay": settings[0].get("weight_decay") if settings else None,
        "optimizer_settings": settings,
        "world_size": world_size, "amp_scaler": amp, "clip_norm": clip_norm,
        "layers_watched": [w.name for w in layers], "every": every, "total_steps": total_steps,
        # layers with no statistics and why (complex weights): the rest are watched as usual
        **({"layers_unmeasured": dict(unmeasured)} if unmeasured else {}),
        # more layers than watched: the watched ones are spread evenly through depth
        "layers_total": layers_total if layers_total is not None else len(layers),
        "model": model_summary(model),
        **({"input_stats": input_stats} if input_stats is not None else {}),
        "versions": {"babysit": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
    }


def first_layer_weights(module: torch.nn.Module) -> dict[str, Any] | None:
    """A Linear or Conv2d layer's weights as the report draws them (first_layer_record): a
    Linear's units over its inputs, a Conv2d's filters as (kh, kw, C) images; None otherwise."""
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
        return None
    w = weight.detach().float().cpu()
    if w.dim() == 2:  # Linear: (out, in)
        return first_layer_record(w.T.numpy())
    if w.dim() == 4:  # Conv2d: (out, C, kh, kw) -> one (kh, kw, C) image per filter
        out, channels, kh, kw = w.shape
        return first_layer_record(w.permute(2, 3, 1, 0).reshape(kh * kw * channels, out).numpy(),
                                  (kh, kw, channels))
    return None
