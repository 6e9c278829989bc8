"""What the optimizer did on a step, beyond the weights: its settings, the learning rate of
each param group, whether an AMP GradScaler skipped the step, and whether clipping bit.

Nothing here copies to the host on a step that is not sampled: skipped steps are counted in
Python by a post-hook on the optimizer (a GradScaler that finds inf gradients does not call
`optimizer.step()`, so the hook does not run); clipping is counted on the device, one compare
and add per step, and read with the other numbers of a sampled step.
"""

from __future__ import annotations

from typing import Any

import torch

# Optimizer hyperparameters worth a header line (numbers, flags, short tuples); the rest of a
# param group (params, tensors, callables) is not a setting a reader can act on.
_SETTING_TYPES = (int, float, bool, str)


def optimizer_settings(optimizer: torch.optim.Optimizer | None) -> list[dict[str, Any]] | None:
    """Each param group's hyperparameters (lr, weight_decay, momentum, betas, eps, ...)."""
    if optimizer is None:
        return None
    groups = []
    for group in optimizer.param_groups:
        settings: dict[str, Any] = {}
        for key, value in group.items():
            if key == "params":
                continue
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = float(value)
            if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
                settings[key] = [float(v) for v in value]
            elif value is None or isinstance(value, _SETTING_TYPES):
                settings[key] = value
        settings["num_params"] = sum(p.numel() for p in group["params"])
        groups.append(settings)
    return groups


def group_lrs(optimizer: torch.optim.Optimizer | None) -> list[float]:
    """The learning rate of every param group, as the scheduler has set it."""
    if optimizer is None:
        return []
    out = []
    for group in optimizer.param_groups:
        lr = group.get("lr")
        if isinstance(lr, torch.Tensor):  # a tensor lr (capturable optimizers) stays on the host
            lr = float(lr) if lr.device.type == "cpu" else None
        if isinstance(lr, (int, float)):
            out.append(float(lr))
    return out


def total_norm(parameters: Any) -> torch.Tensor | None:
    """The global L2 norm of the gradients (a 0-d device tensor), as clip_grad_norm_ computes it."""
    grads = [p.grad.detach() for p in parameters if p.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack([n.float() for n in torch._foreach_norm(grads)]))


class OptimizerWatch:
    """Counts real optimizer steps (for AMP's skipped ones) and clipped steps (on the device)."""

    def __init__(self, optimizer: torch.optim.Optimizer | None, scaler: Any = None,
                 clip_norm: float | None = None) -> None:
        """Install a post-hook on `optimizer`; `scaler` a torch.amp.GradScaler; `clip_norm`
        the max_norm given to clip_grad_norm_ (or the trainer's gradient_clip_val)."""
        self.optimizer, self.scaler = optimizer, scaler
        self.clip_norm = float(clip_norm) if clip_norm else None
        self.taken = 0  # optimizer.step() calls that ran
        self._taken_at_last = 0
        self.skipped = 0  # monitor steps on which the optimizer did not step (AMP overflow)
        self.clipped: torch.Tensor | None = None  # steps whose total norm exceeded clip_norm
        self.handle = optimizer.register_step_post_hook(self._stepped) if optimizer is not None \
            else None

    def _stepped(self, *_: Any) -> None:
        self.taken += 1

    @property
    def amp(self) -> bool:
        """Whether a GradScaler is scaling this run's loss."""
        return self.scaler is not None and bool(getattr(self.scaler, "is_enabled", lambda: True)())

    def step_skipped(self) -> bool:
        """Whether the step that just ended was skipped by the scaler (only known with one)."""
        skipped = self.amp and self.taken == self._taken_at_last
        self._taken_at_last = self.taken
        self.skipped += skipped
        return skipped

    def note_norm(self, norm: torch.Tensor | float | None,
                  clipped: torch.Tensor | None = None) -> torch.Tensor | None:
        """Count the step as clipped (`clipped`, else its total norm above clip_norm); the
        norm as a tensor."""
        if norm is not None:
            norm = norm.detach().reshape(()) if isinstance(norm, torch.Tensor) else torch.tensor(float(norm))
            if clipped is None and self.clip_norm is not None:
                clipped = norm > self.clip_norm
        if clipped is not None:
            bit = clipped.detach().reshape(()).to(torch.int64)
            self.clipped = bit if self.clipped is None else self.clipped + bit
        return norm

    def scale(self) -> float | None:
        """The scaler's current scale (one host copy: sampled steps only)."""
        if not self.amp:
            return None
        try:
            return float(self.scaler.get_scale())
        except Exception:  # an unusual scaler: no scale rather than no monitor
            return None

    def remove(self) -> None:
        """Remove the optimizer hook."""
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
