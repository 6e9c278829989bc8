"""What the log says about the run that several rules need, each with where it came from.

Rules used to infer these themselves, each from the first record it saw; now the engine
gathers them once (from the header, the first loss and the first accuracy) and every rule
reads the same answer, as late as it judges. Today: the task (diagnostics/task.py), the
class count C, the validation set's majority-class rate when the header gives it, whether the
model starts pretrained when the header says so, and the epoch clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from babysit.diagnostics.progress import LossProgress
from babysit.diagnostics.records import Header
from babysit.diagnostics.rules._util import (
    NEAR_CHANCE,
    classes_from_first,
    classes_from_loss,
)
from babysit.diagnostics.task import task_of
from babysit.readers.common import number

Record = dict[str, Any]


class RunFacts:
    """The class count, from the header (or --classes), else from a first loss that is still
    the loss at initialization (see classes_from_first), else from the first logged loss when
    the first logged accuracy (training, else validation) is under 1.5 / C of that loss's C:
    a net that has barely left chance still scores about log C. Never from an accuracy alone.
    A C read from a loss counts when that loss was logged at step 0, or once the run is known
    to be a classifier (it logs an accuracy, F1, AUC...); never for a language, speech or
    regression model (see diagnostics/task.py). A first loss logged later by a run that names
    no other metric (a Hugging Face Trainer without compute_metrics) could be a classifier's
    or a pretrained language model's: Falcon's 3.26 is "26 classes", a GPT-2's 5.6 "271"."""

    def __init__(self) -> None:
        """Nothing known yet."""
        self.task: str | None = None  # "classification", "sequence", "regression"
        self.task_from: str | None = None  # the header, or the metric name that said so
        self.header = Header()  # the run's header, normalized: its size, loss, batch, ...
        self._stated: int | None = None  # C from the header or --classes
        self._from_loss: int | None = None  # C read from the first loss
        self._names: set[str] = set()  # metric names already looked at for the task
        self._at_step0 = False  # the first loss was logged at step 0: the loss at init
        self.first_loss: float | None = None
        self._candidate: int | None = None  # the first loss's C, until an accuracy says
        self._first_acc: float | None = None
        self._decided = False
        self.epoch_at = -1.0  # the clock of epoch-end records (see tick)
        self._epoch_stated = False
        self._epoch_offset = 0.0  # added to a restarted epoch counter
        self.restarts: list[tuple[Any, float, float]] = []  # (step, epoch said, epoch counted)
        self.progress = LossProgress()  # how far the training loss has come (progress.py)

    @property
    def classes(self) -> int | None:
        """C as stated, else as read from the first loss once the run is a classifier."""
        if self._stated is not None:
            return self._stated
        if self._from_loss is None or self.task in ("sequence", "regression"):
            return None
        return self._from_loss if self._at_step0 or self.task == "classification" else None

    @property
    def classes_from(self) -> str | None:
        """Where C came from: "header" (or --classes), "first loss", or None."""
        if self._stated is not None:
            return "header"
        return "first loss" if self.classes is not None else None

    @property
    def majority(self) -> float | None:
        """The validation set's share of its commonest class, when the header gives it."""
        return self.header.val_majority

    @property
    def pretrained(self) -> bool | None:
        """Whether the model starts trained, as the header says; None: not said."""
        return self.header.pretrained

    @property
    def cross_entropy(self) -> bool:
        """Whether the loss is a cross-entropy: a classifier's or a sequence model's, or a
        Hugging Face Trainer's when nothing says regression (the Trainer's loss is the model's
        own, a cross-entropy for every head but a one-label regression)."""
        if self.task is not None:
            return self.task in ("classification", "sequence")
        return self.header.raw.get("source") == "trainer_state.json"

    @property
    def task_note(self) -> str:
        """'a sequence model (eval_wer is logged)' when the task rules a class count out."""
        if self.task not in ("sequence", "regression") or self._stated is not None:
            return ""
        why = "as stated" if self.task_from == "header" else f"{self.task_from} is logged"
        return f"a {self.task} model ({why})"

    @property
    def classes_note(self) -> str:
        """' (10 classes, inferred from the first loss)' when C was read from a loss, else ''."""
        return f" ({self.classes} classes, inferred from the first loss)" if self.inferred else ""

    @property
    def clock_unit(self) -> str:
        """What the epoch clock counts: "epochs" when the log states them, else "evaluations"."""
        return "epochs" if self._epoch_stated else "evaluations"

    @property
    def inferred(self) -> bool:
        """Whether C was read from the losses rather than stated."""
        return self.classes_from == "first loss"

    def notes(self) -> list[str]:
        """What the diagnosis took the run to be where a reader would not guess it, a
        sentence each: a task that rules the class count out, an epoch counter that restarted."""
        out = []
        if self.task_note:
            out.append(f"read as {self.task_note}: rules that judge against a class count do not apply")
        for step, said, counted in self.restarts[:3]:
            out.append(f"the epoch counter started again at step {step} (epoch {said:g}, a resumed "
                       f"run?): counted on as epoch {counted:g}")
        if len(self.restarts) > 3:
            out.append(f"... and {len(self.restarts) - 3} more restart(s) of the epoch counter")
        return out

    def on_header(self, header: Header) -> None:
        """A stated class count settles it; the task, from the header or the metric names a
        reader lists; the validation majority rate and `pretrained`, when given."""
        self.header = header
        if header.classes is not None:
            self._stated, self._decided = header.classes, True
            self.task, self.task_from = "classification", "header"
        elif header.task is not None:
            self.task, self.task_from = header.task, "header"
        self.on_names(header.metrics)

    def on_names(self, names: Iterable[str]) -> None:
        """Metric names the log holds: evidence of the task, unless the header stated it."""
        new = set(names) - self._names
        self._names |= new  # looked at once, even when the header settled the task
        if not new or self.task_from == "header":
            return
        said = task_of(sorted(self._names))
        if said is not None:
            self.task, self.task_from = said

    def on_first_step(self, record: Record) -> None:
        """The first step record: its loss may be the loss at initialization."""
        self.on_names(record)
        loss = number(record.get("loss"))
        if loss is not None and math.isfinite(loss):
            self._at_step0 = record.get("step") == 0
            self._first(loss, classes_from_first(record))
        self.on_epoch(record)

    def on_first_window(self, first_loss: float) -> None:
        """The first logged loss, when the first record had none (an evaluation came first)."""
        if self.first_loss is None:
            self._first(first_loss, None)

    def on_epoch(self, record: Record) -> None:
        """An epoch-end record: its accuracy, if it is the first, may confirm the loss's C."""
        if record.keys() - self._names:
            self.on_names(record)
        if self._first_acc is None:
            acc = number(record.get("train_acc"))
            acc = acc if acc is not None else number(record.get("val_acc"))
            if acc is not None and math.isfinite(acc):
                self._first_acc = acc
        self._settle()

    def tick(self, record: Record) -> float:
        """Where an epoch-end record is, in epochs: the log's own epoch when it states one (a
        Hugging Face eval every 50 steps is 0.02 epochs on, not one), else the count of
        epoch-end records so far. Rules measure their patience in it. A counter that starts
        again (a resumed run) continues the clock instead of turning it back."""
        epoch = number(record.get("epoch"))
        if epoch is not None and math.isfinite(epoch):
            if self._epoch_stated and epoch + self._epoch_offset < self.epoch_at - 0.5:
                self._epoch_offset = self.epoch_at
                self.restarts.append((record.get("step"), epoch, epoch + self._epoch_offset))
            self._epoch_stated = True
            self.epoch_at = epoch + self._epoch_offset
        elif not self._epoch_stated:
            self.epoch_at += 1.0
        return self.epoch_at

    def _first(self, loss: float, at_init: int | None) -> None:
        self.first_loss = loss
        if self._decided:
            return
        if at_init is not None:
            self._from_loss, self._decided = at_init, True
        else:
            self._candidate = classes_from_loss(loss)
        self._settle()

    def _settle(self) -> None:
        if self._decided or self._candidate is None or self._first_acc is None:
            return
        self._decided = True
        if 0 <= self._first_acc < NEAR_CHANCE / self._candidate:
            self._from_loss = self._candidate
