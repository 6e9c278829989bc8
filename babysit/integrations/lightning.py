"""PyTorch Lightning: `Trainer(callbacks=[BabysitCallback(log="run.jsonl", num_classes=10)])`.

A thin wrapper over babysit.torch.Monitor. Lightning calls `optimizer.step(closure)`, so the
optimizer's pre-hook runs before training_step and backward: gradients are read in
`on_before_optimizer_step` (present, unscaled, before clipping), weights for the update ratio
in the pre-hook (still the old ones then). A step is recorded when `trainer.global_step`
advances, so gradient accumulation records optimizer steps, not batches. Epoch metrics come
from `trainer.callback_metrics` under any name babysit's readers know (val_loss, val_acc,
train_acc, ...). A finding at `stop_on` sets `trainer.should_stop`.

Under Lightning's DDP strategies the callback runs on every rank; the Monitor writes the log
on rank 0 only and exchanges what the other ranks see on sampled steps. With
`precision="16-mixed"` the precision plugin's GradScaler is handed to the Monitor (its scale
and skipped steps are logged); with `gradient_clip_val` (norm clipping) the total gradient
norm before clipping is computed here, where Lightning has not clipped yet.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
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

from babysit.readers.fields import FieldMap
from babysit.search.objective import TrialPruned
from babysit.torch import Monitor
from babysit.torch.layers import as_float
from babysit.torch.optim_watch import total_norm

EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")


class BabysitCallback(pl.Callback):
    """Watches the LightningModule with a Monitor; `monitor.findings` once fitting starts."""

    # What watches the module: a search trial's callback (babysit.search's trial.lightning())
    # uses the trial's Monitor, which raises TrialPruned out of fit() when the trial is hopeless.
    monitor_class: Callable[..., Monitor] = Monitor

    def __init__(self, log: str | Path | None = None, num_classes: int | None = None,
                 sanity: bool = False, sanity_loss: Callable[..., Any] | None = None,
                 **monitor_options: Any) -> None:
        """Options as babysit.torch.Monitor's (every, layers, stop_on, on_finding, ...);
        `sanity`: run babysit.torch.sanity_check on the first training batch before training
        (the module's forward and `sanity_loss`, cross-entropy by default), print its report
        and keep it as `sanity_report`."""
        self.log_path, self.num_classes, self.options = log, num_classes, monitor_options
        self.sanity, self.sanity_loss = sanity, sanity_loss
        self.sanity_report: Any = None
        self.monitor: Monitor | None = None
        self._seen_step = 0
        self._fields = FieldMap()

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        """Install the Monitor on the module and its first optimizer."""
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        plugin = getattr(trainer, "precision_plugin", None)
        clip = trainer.gradient_clip_val if trainer.gradient_clip_algorithm in (None, "norm") else None
        total = getattr(trainer, "estimated_stepping_batches", None)
        options = {"framework": "lightning", "scaler": getattr(plugin, "scaler", None),
                   "clip_norm": clip or None,
                   "total_steps": int(total) if isinstance(total, (int, float)) and
                   0 < total < float("inf") else None, **self.options}
        self.monitor = self.monitor_class(pl_module, optimizer, log=self.log_path,
                                          num_classes=self.num_classes, **options)
        self._seen_step = trainer.global_step

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        """With `sanity`, the lecture's recipe on copies of the module, on rank 0 only."""
        if not self.sanity or self.monitor is None or not trainer.is_global_zero:
            return
        batch = next(iter(trainer.train_dataloader), None)
        if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
            warnings.warn("babysit: sanity=True needs batches of (inputs, labels); skipped",
                          stacklevel=2)
            return
        try:
            self.sanity_report = self.monitor.sanity_check(batch[0], batch[1],
                                                           loss_fn=self.sanity_loss)
        except Exception as exc:  # e.g. a module without forward: training goes on
            warnings.warn(f"babysit: the sanity check could not run ({type(exc).__name__}: "
                          f"{exc}); it calls the module's forward", stacklevel=2)
            return
        print(self.sanity_report)

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        """The gradients of this step are complete (unscaled, not yet clipped) here."""
        if self.monitor is not None:
            clipping = self.monitor.optim.clip_norm is not None
            self.monitor.capture_gradients(total_norm(pl_module.parameters()) if clipping else None)

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
                               else "stopped" if isinstance(exception, TrialPruned) else "crashed")
