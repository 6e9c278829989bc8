"""Hugging Face Trainer: `Trainer(..., callbacks=[BabysitCallback(log="run.jsonl", num_classes=10)])`.

A thin wrapper over babysit.torch.Monitor. Gradients are read in `on_pre_optimizer_step`
(present, after clipping; the Trainer zeroes them before `on_step_end`); the optimizer is the
torch one inside Accelerate's wrapper, so its pre-hook still copies the weights for the update
ratio. The Trainer does not hand its per-step loss to callbacks: steps are recorded without a
loss and the loss it logs every `logging_steps` (a mean over them) is recorded from `on_log`,
as `babysit diagnose` reads a trainer_state.json. Evaluation metrics (`eval_loss`,
`eval_accuracy`, ...) become epoch records. A finding at `stop_on` sets
`control.should_training_stop`.

Launched with torchrun the callback runs on every rank; the Monitor writes the log on rank 0
only. With fp16 the GradScaler of Accelerate's optimizer wrapper is handed to the Monitor.
The Trainer clips (max_grad_norm, 1.0 by default) before `on_pre_optimizer_step` and keeps the
norm to itself until it logs it: a step counts as clipped when the clipped norm reaches
max_norm (clip_grad_norm_ scales it to max_norm x n / (n + 1e-6), within 0.1% of max_norm for
any norm above 1e-3), and the logged `grad_norm` (before clipping) is recorded with the loss.
`sanity=True` runs the lecture's checklist (babysit.torch.sanity_check) on the first training
batch before the first step. The model's class says the task (`...ForCausalLM`: a language
model, whose loss is no class count; `...ForSequenceClassification`: `num_labels` classes) and
a model loaded with from_pretrained is a fine-tune: the header says so (see model_facts).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - exercised only without transformers
    raise ImportError("babysit.integrations.transformers needs transformers: "
                      "pip install 'babysit[transformers]'") from exc

from babysit.readers.fields import FieldMap
from babysit.torch import Monitor
from babysit.torch.optim_watch import total_norm

CLIPPED_AT = 0.999  # a clipped norm reaches max_norm to within 0.1% (see the module docstring)
# Hugging Face heads by the end of their class name (PEFT's wrappers keep it: PeftModelForCausalLM).
SEQUENCE_HEADS = ("ForCausalLM", "LMHeadModel", "ForMaskedLM", "ForConditionalGeneration",
                  "ForSeq2SeqLM", "ForSpeechSeq2Seq", "ForCTC")
CLASSIFIER_HEADS = ("ForSequenceClassification", "ForImageClassification",
                    "ForAudioClassification", "ForTokenClassification")


def trainer_facts(args: Any) -> dict[str, Any]:
    """The examples behind each logged loss: the Trainer logs the mean over `logging_steps`
    optimizer steps of per_device batch x accumulation x processes examples each."""
    batch = getattr(args, "per_device_train_batch_size", None)
    accumulate = getattr(args, "gradient_accumulation_steps", 1) or 1
    world = getattr(args, "world_size", 1) or 1
    every = getattr(args, "logging_steps", None)
    return {"batch_size": batch * accumulate * world if isinstance(batch, int) else None,
            "log_every": every if isinstance(every, int) and every >= 1 else None}


def model_facts(model: Any) -> dict[str, Any]:
    """The task, class count and whether the model is pretrained, as its class and config say.

    A classifier head's loss is a cross-entropy over `num_labels` classes unless its
    problem_type says regression (or multi-label: sigmoids, no log C), as the Trainer's own
    models compute it (num_labels 1 without a problem_type is a regression). `_name_or_path`
    is set by from_pretrained and empty for a model built from a config.
    """
    name, config = type(model).__name__, getattr(model, "config", None)
    facts: dict[str, Any] = {}
    problem, labels = getattr(config, "problem_type", None), getattr(config, "num_labels", None)
    if name.endswith(SEQUENCE_HEADS):
        facts["task"] = "sequence"
    elif name.endswith(CLASSIFIER_HEADS):
        if problem == "regression" or (problem is None and labels == 1):
            facts["task"] = "regression"
        elif problem != "multi_label_classification":
            facts["task"] = "classification"
            if isinstance(labels, int) and labels >= 2:
                facts["num_classes"] = labels
    if getattr(config, "_name_or_path", ""):
        facts["pretrained"] = True
    return facts

EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")


class BabysitCallback(TrainerCallback):
    """Watches the Trainer's model with a Monitor; `monitor.findings` once training starts."""

    # What watches the model: a search trial's callback (babysit.search's trial.transformers())
    # uses the trial's Monitor, which raises TrialPruned out of trainer.train() when the trial
    # is hopeless.
    monitor_class: Callable[..., Monitor] = Monitor

    def __init__(self, log: str | Path | None = None, num_classes: int | None = None,
                 sanity: bool = False, sanity_loss: Callable[..., Any] | None = None,
                 **monitor_options: Any) -> None:
        """Options as babysit.torch.Monitor's (every, layers, stop_on, on_finding, ...);
        `sanity`: run babysit.torch.sanity_check on the first training batch before training
        (the model called with the batch's inputs, its `.logits` scored by `sanity_loss`,
        cross-entropy by default), print its report and keep it as `sanity_report`."""
        self.log_path, self.num_classes, self.options = log, num_classes, monitor_options
        self.sanity, self.sanity_loss = sanity, sanity_loss
        self.sanity_report: Any = None
        self.monitor: Monitor | None = None
        self.model: Any = None
        self._fields = FieldMap()

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       optimizer: Any = None, **kwargs: Any) -> None:
        """Install the Monitor on the model and the torch optimizer."""
        inner = getattr(optimizer, "optimizer", optimizer)  # Accelerate's AcceleratedOptimizer
        clip = getattr(args, "max_grad_norm", None)
        steps = getattr(state, "max_steps", None)
        options = {"framework": "transformers", "scaler": getattr(optimizer, "scaler", None),
                   "clip_norm": clip if clip and clip > 0 else None,
                   "total_steps": steps if isinstance(steps, int) and steps > 0 else None}
        facts = {**model_facts(model), **trainer_facts(args)}
        classes = self.num_classes if self.num_classes is not None else facts.pop("num_classes", None)
        facts.pop("num_classes", None)
        options = {**options, **facts, **self.options}
        self.model = model
        self.monitor = self.monitor_class(model, inner, log=self.log_path, num_classes=classes,
                                          **options)
        loader = kwargs.get("train_dataloader")
        if self.sanity and loader is not None and state.is_world_process_zero:
            self._sanity(loader)

    def _sanity(self, loader: Any) -> None:
        """The lecture's recipe on copies of the model, on the first batch (rank 0 only)."""
        assert self.monitor is not None
        batch = dict(next(iter(loader), None) or {})
        labels = batch.pop("labels", None)
        if labels is None:
            warnings.warn("babysit: sanity=True needs batches holding 'labels'; skipped", stacklevel=3)
            return
        try:
            self.sanity_report = self.monitor.sanity_check(batch, labels, loss_fn=self.sanity_loss)
        except Exception as exc:  # the model cannot take the batch as keywords: training goes on
            warnings.warn(f"babysit: the sanity check could not run ({type(exc).__name__}: {exc})",
                          stacklevel=3)
            return
        print(self.sanity_report)

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """The gradients of this step are complete (and clipped) here."""
        if self.monitor is None:
            return
        clip = self.monitor.optim.clip_norm
        if clip is not None and self.model is not None:
            norm = total_norm(self.model.parameters())
            # the clipped norm: at max_norm when clipping bit, below it when it did not
            self.monitor.capture_gradients(clipped=None if norm is None else norm >= CLIPPED_AT * clip)
        else:
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
        self.monitor.log(loss=logs["loss"], lr=logs.get("learning_rate"),
                         grad_norm_total=logs.get("grad_norm"))

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
