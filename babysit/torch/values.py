"""What the Monitor is handed, checked before it is logged: a bad value costs that value (a
note in its record), never the run. A loss of several elements, on the meta device, complex,
a string or a bool was an exception that switched the Monitor off and lost the steps not yet
written (issue 38)."""

from __future__ import annotations

import numbers
from typing import Any

import torch


def loss_tensor(loss: Any) -> tuple[torch.Tensor | None, str | None]:
    """(the loss as a 0-d real tensor, None) or (None, why it is not one); (None, None) for
    no loss."""
    if loss is None:
        return None, None
    if isinstance(loss, torch.Tensor):
        if loss.device.type == "meta":
            return None, "a loss on the meta device (it has no value)"
        if loss.is_complex():
            return None, f"a complex loss ({loss.dtype})"
        if loss.is_sparse or loss.numel() != 1:
            return None, (f"a loss of shape {tuple(loss.shape)}, not one number "
                          "(reduce it first: loss.mean())")
        return loss.detach().reshape(()), None
    if isinstance(loss, bool) or not isinstance(loss, numbers.Real):
        return None, f"a loss of type {type(loss).__name__} ({str(loss)[:20]!r}), not a number"
    return torch.tensor(float(loss)), None


def metric_value(value: Any) -> tuple[float | None, str | None]:
    """(an epoch metric as a float, None) or (None, why it is not one)."""
    if isinstance(value, torch.Tensor):
        tensor, why = loss_tensor(value)
        return (None, why) if tensor is None else (float(tensor.float().cpu()), None)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, f"a {type(value).__name__} ({str(value)[:20]!r}), not a number"
    return float(value), None


def short_error(exc: BaseException, limit: int = 200) -> str:
    """An exception as one short line: torch's dispatcher errors list every backend (kilobytes)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
