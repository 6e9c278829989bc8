"""loss-explosion: the smoothed loss climbs well above where it started."""

from __future__ import annotations

import math

from babysit.config import MAX_CLASSES
from babysit.diagnostics.progress import BLOW_UP_RATIO
from babysit.diagnostics.records import Header
from babysit.diagnostics.remedy import lower_lr
from babysit.diagnostics.rule import Finding, Record, Rule, Window
from babysit.readers.common import is_finite, number


class LossExplosion(Rule):
    """The loss, averaged over a window, rises above `factor` x the loss at initialization,
    with no loss of that window below the loss at initialization.

    Why: training should only lower the loss; a loss that ends up twice its untrained value is
    the lecture's "loss exploded" (learning rate too high). Averaging over the engine's window
    keeps one noisy minibatch from firing it; `factor` = 2 leaves room for the short rise that
    adaptive optimizers sometimes show in their first steps. The reference is the very first
    loss, not the first window: a rate high enough blows up within the first window. A window
    that still holds a loss below the untrained one is a burst in a run that is still
    learning (Adam at a high rate: 0.02, 5.3, 0.1, 6.1, 0.001 within ten steps, then 100%
    validation accuracy), which is training-unstable's finding, not a run that has blown up.
    A log with one row per epoch (Keras' CSVLogger) has no loss at initialization: its first
    loss is an epoch's mean and may already be the explosion (890 at lr 30). There the
    reference is what an untrained softmax scores, log(C), with C from the header; without C,
    the first epoch's loss (C is never guessed from an accuracy: 27% after one epoch of a
    250-speaker run read as 4 classes made its healthy fall from 4.9 to 1.7 an explosion). A
    classifier's first epoch (an accuracy logged beside it) whose mean loss is above `factor`
    x log(1,000,000) = 27.6, twice what an untrained softmax over a million classes scores,
    blew up within that epoch whatever its C, when the next epoch says so: an order of magnitude
    lower (it came back: 890 then 7, at chance) or higher still. A loss that stays on its scale
    while it falls (48.5, 47.6, ... 41.4 with the accuracy rising) is no softmax's: a custom
    loss or a sum, not an explosion. The same holds for a log whose first logged
    loss is already a mean over steps (a Hugging Face Trainer's, over logging_steps): when
    every loss of its first `windows` windows is above that line (an SGD rate of 300 took a
    language model from 3.3 to 340 within its first five steps, and it never came below 99),
    the loss blew up before it was first logged; a first loss that comes down again (mT5's
    25.5, falling to 2) is a large start. Only for a run known to score a cross-entropy (its
    metric names or header say classifier or sequence model, or a Hugging Face Trainer wrote
    it and nothing says regression; see RunFacts.cross_entropy): a regression's squared error
    has no such ceiling (a house-price model starts in the millions), and a CSV or TensorBoard
    log of losses alone does not say which it is.
    """

    id = "loss-explosion"
    lr_symptom = "high"
    severity = "error"
    needs = ("loss",)
    remedies = lower_lr(0.1, 0.01, 0.001)
    thresholds = {"factor": 2.0, "windows": 2}
    advice = "Lower the learning rate (try 10x lower), or add gradient clipping."
    # Once the loss has blown up, flat/oscillating/under- or over-fitting readings are symptoms.
    supersedes = ("loss-flat", "loss-oscillation", "underfitting", "overfitting", "val-plateau",
                  "training-unstable", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Waits for the first window as its reference."""
        super().__init__(**overrides)
        self.start: float | None = None
        self.classes: int | None = None
        self.softmax = True
        self.per_epoch = False  # the first record is an epoch's summary, not the loss at init
        self.above = 0.0  # first windows in a row whose every loss is above the ceiling
        self.lowest = math.inf
        self.first_epoch: tuple[int, float] | None = None  # above the line: judged at the next
        self.judged = False

    def on_header(self, header: Header) -> Finding | None:
        """The class count and loss function, when the header gives them."""
        self.classes, self.softmax = header.classes, header.loss_fn == "softmax"
        return None

    def on_first_step(self, record: Record) -> Finding | None:
        """Notice a log of epoch summaries, and a classifier's first epoch that blew up."""
        self.per_epoch = any(k in record for k in ("train_acc", "val_loss", "val_acc"))
        loss, ceiling = number(record.get("loss")), math.log(MAX_CLASSES)
        classifier = "train_acc" in record or "val_acc" in record
        if (self.per_epoch and classifier and self.classes is None and self.softmax
                and is_finite(loss) and loss > self.t["factor"] * ceiling):
            self.first_epoch = (record["step"], loss)
        else:
            self.judged = True
        return None

    @property
    def wants_steps(self) -> bool:  # type: ignore[override]
        """Step records are read only until a first epoch above the line is judged."""
        return not self.judged

    def on_step(self, record: Record) -> Finding | None:
        """Judge a first epoch above the line by the epoch after it: back an order of magnitude
        lower (the net came back from a blow-up), or higher still (blowing up), is an
        explosion; a loss that stays on the same scale while it falls is no softmax's."""
        if self.judged or self.first_epoch is None or record["step"] <= self.first_epoch[0]:
            return None
        loss = number(record.get("loss"))
        if not is_finite(loss):
            return None
        self.judged = True
        step, first = self.first_epoch
        if not (loss < first / BLOW_UP_RATIO or loss > first):
            return None
        ceiling = math.log(MAX_CLASSES)
        return self.report(step, f"the first epoch's mean loss {first:.4g} is "
                           f"{first / ceiling:.3g}x what an untrained softmax classifier "
                           f"scores even over {MAX_CLASSES:,} classes ({ceiling:.3g})",
                           start=ceiling, loss=first)

    def on_window(self, window: Window) -> Finding | None:
        """Compare each window's mean with the first one's."""
        if self.start is None:
            self.start = window.first
            if self.per_epoch and self.softmax and self.classes and self.classes >= 2:
                self.start = math.log(self.classes)
        ceiling = self.t["factor"] * math.log(MAX_CLASSES)
        # a per-epoch log's first epoch is judged by the next one instead (on_step)
        if window.index < self.t["windows"] and self.softmax and self.facts.cross_entropy \
                and not self.per_epoch:
            self.above = self.above + 1 if window.min > ceiling else -math.inf
            self.lowest = min(self.lowest, window.min)
            if self.above >= self.t["windows"]:
                return self.report(window.last_step, f"every loss of the first {self.above:g} "
                                   f"windows is above {ceiling:.3g} (lowest {self.lowest:.4g}), "
                                   f"twice what an untrained softmax scores even over "
                                   f"{MAX_CLASSES:,} classes", start=ceiling, loss=window.mean)
        if self.start > 0 and window.mean > self.t["factor"] * self.start and window.min >= self.start:
            return self.report(window.last_step, f"mean loss {window.mean:.4g} over steps "
                               f"{window.first_step}-{window.last_step} is "
                               f"{window.mean / self.start:.3g}x the starting {self.start:.4g}",
                               start=self.start, loss=window.mean)
        return None
