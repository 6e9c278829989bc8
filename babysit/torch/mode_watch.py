"""Which layers that behave differently at test time were left in training mode while the model
was evaluated: the reverse of the eval-mode rule's case.

Dropout in training mode drops units during validation, and batch norm in training mode
normalizes each validation batch by its own statistics and folds them into its running
averages (validation data leaking into the model). An evaluation is seen as a forward pass of
the model with gradients disabled (`torch.no_grad()` or `inference_mode()`), which is how a
validation loop runs: one forward pre-hook on the model, a Python call per forward, and a scan
of the dropout and batch-norm modules only for forwards without gradients.
"""

from __future__ import annotations

from typing import Any

import torch

# Layers whose behaviour at test time differs from training. A dropout with p=0 and a batch
# norm without running statistics (track_running_stats=False) behave the same in both modes.
DROPOUT = torch.nn.modules.dropout._DropoutNd
BATCHNORM = torch.nn.modules.batchnorm._BatchNorm


def _mode_dependent(model: torch.nn.Module) -> dict[str, list[torch.nn.Module]]:
    """{"dropout": [...], "batch norm": [...]}: the model's layers that act differently in eval."""
    found: dict[str, list[torch.nn.Module]] = {"dropout": [], "batch norm": []}
    for module in model.modules():
        if isinstance(module, DROPOUT) and module.p > 0:
            found["dropout"].append(module)
        elif isinstance(module, BATCHNORM) and module.track_running_stats:
            found["batch norm"].append(module)
    return {kind: modules for kind, modules in found.items() if modules}


class ModeWatch:
    """Notes forwards without gradients that ran with dropout or batch norm in training mode."""

    def __init__(self, model: torch.nn.Module) -> None:
        """Hook `model` if it has layers whose test-time behaviour differs (else nothing)."""
        self.layers = _mode_dependent(model)
        self.seen: set[str] = set()  # kinds in training mode during an evaluation, since the last step
        self.handle: Any = model.register_forward_pre_hook(self._forward) if self.layers else None

    def _forward(self, module: torch.nn.Module, args: Any) -> None:
        if torch.is_grad_enabled():  # a training forward: the common case, one call
            return
        for kind, modules in self.layers.items():
            if kind not in self.seen and any(m.training for m in modules):
                self.seen.add(kind)

    def training_step(self) -> None:
        """A training step ran: forwards before it were part of training, not an evaluation."""
        self.seen.clear()

    def take(self) -> list[str]:
        """The kinds left in training mode during the evaluation just reported (then forgotten)."""
        kinds, self.seen = sorted(self.seen), set()
        return kinds

    def remove(self) -> None:
        """Remove the hook."""
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
