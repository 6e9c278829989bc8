"""Hugging Face Trainer: `Trainer(..., callbacks=[BabysitCallback(log="run.jsonl", num_classes=10)])`.

A thin wrapper over babysit.torch.Monitor. Gradients are read in `on_pre_optimizer_step`
(present, after clipping; the Trainer zeroes them before `on_step_end`); the optimizer is the
torch one inside Accelerate's wrapper, so its pre-hook still copies the weights for the update
ratio. The Trainer does not hand its per-step loss to callbacks: steps are recorded without a
loss and the loss it logs every `logging_steps` (a mean over them) is recorded from `on_log`,
as `babysit diagnose` reads a trainer_state.json. Evaluation metrics (`eval_loss`,
`eval_accuracy`, ...) become epoch records. A finding at `stop_on` sets
`control.should_training_stop`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - exercised only without transformers
    raise ImportError("babysit.integrations.transformers needs transformers: "
                      "pip install 'babysit[transformers]'") from exc

from babysit.diagnostics.readers.fields import FieldMap
from babysit.torch import Monitor

EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")


class BabysitCallback(TrainerCallback):
    """Watches the Trainer's model with a Monitor; `monitor.findings` once training starts."""

    def __init__(self, log: str | Path | None = None, num_classes: int | None = None,
                 **monitor_options: Any) -> None:
        """Options as babysit.torch.Monitor's (every, layers, stop_on, on_finding, ...)."""
        self.log_path, self.num_classes, self.options = log, num_classes, monitor_options
        self.monitor: Monitor | None = None
        self._fields = FieldMap()

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       optimizer: Any = None, **kwargs: Any) -> None:
        """Install the Monitor on the model and the torch optimizer."""
        inner = getattr(optimizer, "optimizer", optimizer)  # Accelerate's AcceleratedOptimizer
        self.monitor = Monitor(model, inner, log=self.log_path, num_classes=self.num_classes,
                               **self.options)

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """The gradients of this step are complete (and clipped) here."""
        if self.monitor is not None:
            self.monitor.capture_gradients()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Record the optimizer step (its loss arrives with on_log)."""
        if self.monitor is not None:
            self.monitor.step(None)
            control.should_training_stop = control.should_training_stop or self.monitor.should_stop

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        """The Trainer's logged training loss (a mean over logging_steps) and learning rate."""
        if self.monitor is None or not logs or "loss" not in logs:
            return
        self.monitor.log(loss=logs["loss"], lr=logs.get("learning_rate"))

    def on_evaluate(self, args: Any, state: Any, control: Any,
                    metrics: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Evaluation metrics as an epoch record."""
        if self.monitor is None or not metrics:
            return
        picked = self._fields.pick(metrics)
        self.monitor.epoch(**{k: picked[k] for k in EPOCH_FIELDS if k in picked})
        control.should_training_stop = control.should_training_stop or self.monitor.should_stop

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Write the summary and close the log."""
        if self.monitor is not None:
            self.monitor.close()
