"""PyTorch Lightning: `Trainer(callbacks=[BabysitCallback(log="run.jsonl", num_classes=10)])`.

A thin wrapper over babysit.torch.Monitor. Lightning calls `optimizer.step(closure)`, so the
optimizer's pre-hook runs before training_step and backward: gradients are read in
`on_before_optimizer_step` (present, unscaled, before clipping), weights for the update ratio
in the pre-hook (still the old ones then). A step is recorded when `trainer.global_step`
advances, so gradient accumulation records optimizer steps, not batches. Epoch metrics come
from `trainer.callback_metrics` under any name babysit's readers know (val_loss, val_acc,
train_acc, ...). A finding at `stop_on` sets `trainer.should_stop`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:
    import pytorch_lightning as pl
except ImportError:  # pragma: no cover - the lightning package is the same API
    try:
        import lightning.pytorch as pl  # type: ignore[no-redef]
    except ImportError as exc:
        raise ImportError("babysit.integrations.lightning needs Lightning: "
                          "pip install 'babysit[lightning]'") from exc

from babysit.diagnostics.readers.fields import FieldMap
from babysit.torch import Monitor
from babysit.torch.layers import as_float

EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")


class BabysitCallback(pl.Callback):
    """Watches the LightningModule with a Monitor; `monitor.findings` once fitting starts."""

    def __init__(self, log: str | Path | None = None, num_classes: int | None = None,
                 **monitor_options: Any) -> None:
        """Options as babysit.torch.Monitor's (every, layers, stop_on, on_finding, ...)."""
        self.log_path, self.num_classes, self.options = log, num_classes, monitor_options
        self.monitor: Monitor | None = None
        self._seen_step = 0
        self._fields = FieldMap()

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        """Install the Monitor on the module and its first optimizer."""
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        self.monitor = Monitor(pl_module, optimizer, log=self.log_path, num_classes=self.num_classes,
                               **self.options)
        self._seen_step = trainer.global_step

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        """The gradients of this step are complete here."""
        if self.monitor is not None:
            self.monitor.capture_gradients()

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        """Record an optimizer step when one was taken."""
        if self.monitor is None or trainer.global_step == self._seen_step:
            return
        self._seen_step = trainer.global_step
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            self.monitor.step(loss)
            trainer.should_stop = trainer.should_stop or self.monitor.should_stop

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Epoch metrics (validation has run by now) from trainer.callback_metrics."""
        if self.monitor is None:
            return
        values = {name: as_float(v) for name, v in trainer.callback_metrics.items()}
        picked = self._fields.pick(values)
        self.monitor.epoch(**{k: picked[k] for k in EPOCH_FIELDS if k in picked})
        trainer.should_stop = trainer.should_stop or self.monitor.should_stop

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        """Write the summary and close the log."""
        if self.monitor is not None:
            self.monitor.close("interrupted" if trainer.interrupted else None)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        """Close the log with the right status when fitting fails or is interrupted."""
        if self.monitor is not None:
            self.monitor.close("interrupted" if isinstance(exception, KeyboardInterrupt)
                               else "crashed")
