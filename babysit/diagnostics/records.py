"""The run model rules read: a log's header and its epoch-end records, normalized once.

Records arrive as JSON objects (docs/log-format.md) from babysit's trainer, the Monitor and
the readers of other tools' logs. Their numbers may be ints, floats, strings ("NaN", "0.5")
or nulls, and their nested parts (dataset, input_stats) may be missing or of another shape.
The engine turns a header into a `Header` and each record with epoch-end metrics into an
`Evaluation` once; rules read attributes (a float or None), never raw keys.

Step records stay dicts, with `step` (an int) and `loss` (a float or None) normalized in place
by the engine: there is one per iteration, and an object for each would cost about as much as
the engine's whole per-record work on a million-line log. The few step fields a rule reads
besides (lr, amp_scale, eval_mode) are documented on that rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babysit.config import MAX_CLASSES
from babysit.readers.common import number

TASKS = ("classification", "sequence", "regression")


def _finite(value: Any) -> float | None:
    """A finite float, else None (NaN, infinities, strings that are no number, nulls)."""
    x = number(value)
    return x if x is not None and math.isfinite(x) else None


def _count(value: Any) -> int | None:
    """A positive whole count (bools are not counts), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if math.isfinite(value) and value >= 1 and value == int(value) else None


@dataclass(frozen=True)
class Header:
    """What the rules read of a run's header."""

    classes: int | None = None  # C as stated: the header's num_classes, or --classes
    loss_fn: str = "softmax"  # "softmax" or "svm"
    activation: str | None = None  # the hidden layers', lower case
    val_size: int | None = None  # validation examples (babysit's dataset.X_val shape)
    val_majority: float | None = None  # the validation set's commonest-class share
    input_stats: dict[str, float] = field(default_factory=dict)  # finite numbers only
    steps_per_epoch: int | None = None
    task: str | None = None  # one of TASKS when stated
    pretrained: bool | None = None  # a fine-tune's first loss is not the loss at init
    metrics: tuple[str, ...] = ()  # every metric name the log holds, as a reader lists them
    batch_size: int | None = None  # examples per optimizer step, when logged
    log_every: int | None = None  # optimizer steps each logged training loss is the mean of
    raw: Mapping[str, Any] = field(default_factory=dict)  # as logged, for remedies and views

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Header:
        """Normalize a header record (any fields missing or malformed are left unknown)."""
        dataset = record.get("dataset")
        dataset = dataset if isinstance(dataset, Mapping) else {}
        shape = dataset.get("X_val")
        val_size = _count(shape[0]) if isinstance(shape, list) and shape else None
        majority = _finite(dataset.get("val_majority_rate"))
        stats = record.get("input_stats")
        input_stats = {str(k): x for k, v in stats.items() if (x := _finite(v)) is not None} \
            if isinstance(stats, Mapping) else {}
        classes = _count(record.get("num_classes"))
        activation = record.get("activation")
        metrics = record.get("metrics")
        pretrained = record.get("pretrained")
        return cls(
            # A count no classifier has (1e308, as --classes refuses it) is no class count.
            classes=classes if classes is not None and 2 <= classes <= MAX_CLASSES else None,
            loss_fn=str(record.get("loss_fn") or "softmax"),
            activation=str(activation).lower() if activation else None,
            val_size=val_size,
            val_majority=majority if majority is not None and 0 < majority <= 1 else None,
            input_stats=input_stats,
            steps_per_epoch=_count(record.get("steps_per_epoch")),
            task=record.get("task") if record.get("task") in TASKS else None,
            pretrained=bool(pretrained) if pretrained is not None else None,
            metrics=tuple(str(m) for m in metrics) if isinstance(metrics, list) else (),
            batch_size=_count(record.get("batch_size")),
            log_every=_count(record.get("log_every")),
            raw=record)

    @property
    def examples_per_loss(self) -> int | None:
        """How many examples each logged training loss averages, when the header says."""
        return self.batch_size * (self.log_every or 1) if self.batch_size else None


@dataclass
class Evaluation:
    """A record with epoch-end metrics (any of train_acc, val_acc, val_loss): each a finite
    number or None. A non-finite val_loss reaches rules through on_nonfinite instead."""

    step: int
    epoch_at: float  # where it is on the run's epoch clock (RunFacts.tick)
    epoch: float | None  # the log's own epoch field, when it has one
    loss: float | None  # the record's own training loss (a per-epoch log's epoch mean)
    recent_loss: float | None  # the mean of the last 1-10 logged training losses
    train_acc: float | None
    val_acc: float | None
    val_loss: float | None
    # Layers left in training mode while these metrics were computed ("dropout", "batch
    # norm"; the Monitor's eval_train_mode), empty when none were or nobody watched.
    train_mode: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: Mapping[str, Any], epoch_at: float,
           recent_loss: float | None) -> Evaluation:
        """Normalize a record (its `step` already an int: the engine's)."""
        get = record.get
        modes = get("eval_train_mode")
        train_mode = tuple(str(m) for m in modes) if isinstance(modes, list) else ()
        return cls(record["step"], epoch_at, _finite(get("epoch")), _finite(get("loss")),
                   recent_loss, _finite(get("train_acc")), _finite(get("val_acc")),
                   _finite(get("val_loss")), train_mode)
