"""Keras 3 on the torch backend: `model.fit(..., callbacks=[BabysitCallback(log="run.jsonl")])`.

With KERAS_BACKEND=torch every Keras layer is a torch module and its weights are torch
parameters, so babysit.torch.Monitor watches the Dense and Conv layers directly: forward hooks
read each layer's output (after its own activation, as Keras fuses them), the gradients are
the parameters' `.grad` (Keras's torch trainer leaves them there after the update), and the
weights are copied before a sampled step's update in `on_train_batch_begin` (Keras's
optimizer is not a torch one, so there is no optimizer hook). Keras reports the loss of a
batch as the running mean of the epoch so far; the callback recovers each batch's own loss
from consecutive means (exact for equal batches; the last, smaller batch of an epoch is off
by its weight). Other backends (TensorFlow, JAX) have no torch modules to hook: this callback
refuses them with a clear message; their `CSVLogger` files are read by `babysit diagnose`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import keras
except ImportError as exc:  # pragma: no cover - exercised only without keras
    raise ImportError("babysit.integrations.keras needs Keras 3: pip install 'babysit[keras]'") from exc

from babysit.readers.fields import FieldMap
from babysit.torch import Monitor
from babysit.torch.layers import Watched

EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")
LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")


def watched_layers(model: Any) -> list[Watched]:
    """The model's Dense and Conv layers; the last one is the output (no activation stats)."""
    found = [layer for layer in model._flatten_layers(include_self=False)
             if type(layer).__name__ in LAYERS]
    out = []
    for k, layer in enumerate(found):
        act = getattr(getattr(layer, "activation", None), "__name__", "linear")
        kind = None if k == len(found) - 1 or act == "linear" else act
        out.append(Watched(layer.name, layer, kind, layer if kind else None, -1,
                           param=layer.kernel.value))
    return out


class BabysitCallback(keras.callbacks.Callback):
    """Watches a Keras model (torch backend) with a Monitor; `monitor.findings` once fit starts."""

    # What watches the model: a search trial's callback (babysit.search's trial.keras())
    # uses the trial's Monitor, which raises TrialPruned out of fit() when the trial is hopeless.
    monitor_class: Callable[..., Monitor] = Monitor

    def __init__(self, log: str | Path | None = None, num_classes: int | None = None,
                 **monitor_options: Any) -> None:
        """Options as babysit.torch.Monitor's (every, stop_on, on_finding, ...)."""
        super().__init__()
        if keras.backend.backend() != "torch":
            raise RuntimeError(f"babysit's Keras callback needs KERAS_BACKEND=torch (this is "
                               f"{keras.backend.backend()!r}); with other backends log with "
                               "keras.callbacks.CSVLogger and run `babysit diagnose` on the file")
        self.log_path, self.num_classes, self.options = log, num_classes, monitor_options
        self.monitor: Monitor | None = None
        self._fields = FieldMap()
        self._last_mean = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Install the Monitor on the model's layers."""
        self.monitor = self.monitor_class(self.model, None, log=self.log_path,
                                          num_classes=self.num_classes,
                                          watched=watched_layers(self.model),
                                          **{"framework": "keras", **self.options})

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Copy the weights before a sampled step's update."""
        if self.monitor is not None:
            self.monitor.snapshot_weights()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the step with this batch's own loss."""
        if self.monitor is None or not logs or "loss" not in logs:
            return
        mean = float(logs["loss"])
        loss = mean if batch == 0 else (batch + 1) * mean - batch * self._last_mean
        self._last_mean = mean
        self.monitor.step(loss)
        if self.monitor.should_stop:
            self.model.stop_training = True

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Validation forward passes are not training steps."""
        if self.monitor is not None:
            self.monitor.capturing = False

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """Back to training."""
        if self.monitor is not None:
            self.monitor.capturing = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """accuracy, val_loss, val_accuracy (any names babysit's readers know) as an epoch."""
        if self.monitor is None:
            return
        picked = self._fields.pick(logs or {})
        self.monitor.epoch(**{k: picked[k] for k in EPOCH_FIELDS if k in picked})
        if self.monitor.should_stop:
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Write the summary and close the log."""
        if self.monitor is not None:
            self.monitor.close()
