"""underfitting: low training accuracy that has stopped improving, with no train/val gap."""

from __future__ import annotations

import math
from collections import deque

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.remedy import Deepen, LrToTarget, Widen
from babysit.diagnostics.rule import Finding, LayerSample, Record, Rule, Window
from babysit.diagnostics.rules._util import accuracy_noise, fitted_level
from babysit.diagnostics.targets import TARGET_UPDATE_RATIO
from babysit.readers.common import is_finite


class Underfitting(Rule):
    """After `min_epochs` epochs, a net that learned (its best training accuracy reached
    `learned_fraction` of the way from chance to perfect) has training accuracy below
    `low_fraction` of that way, gained less than `min_gain` over the last `patience` epochs,
    and validation is within `gap` of it (or within `z` standard errors of the validation
    accuracy, when the header gives the validation size and that is larger).

    Why: the lecture: "no gap -> increase model capacity". A net that fits its own training
    data poorly and has stopped improving cannot be helped by regularization. The lecture's
    rule has no accuracy condition; "low" only keeps converged, near-perfect runs (which also
    show no gap) from firing. It is measured from chance, 1/C (C from the header; 0.6 without
    it, AUTOTRAINER's bound): 0.83 for 3 classes, 0.78 for 10. "Stopped" follows AUTOTRAINER's
    slow-convergence test (gain below 0.01). "No gap" allows for the noise of a small
    validation set, as overfitting does. Without a header, C is inferred from the first loss
    (about log C at initialization) and the evidence says so. "Learned": underfitting is a net
    too small for its data, which learns and then stalls; one that never left chance (a
    learning rate of 1e-6, a dead or symmetric net) is not short of capacity, and loss-flat or
    the layer rules name its cause. A tenth of the way from chance (0.19 for 10 classes, 0.40
    for 3) is several standard errors above chance on any usual training-accuracy sample (on
    1,000 examples: 9 at 10 classes, 4.5 at 3); without any class count the first training
    accuracy stands in for chance. Accuracy alone can mislead: an untrained net on structured
    data (the spiral) can sit above that mark by the luck of its init, so when the log has a
    loss, the loss must also have fallen `learned_fraction` below where it started (the
    quantity being optimized moved): a later window's mean (10 logged losses) below the first
    window's, or, on logs with one row per epoch, an epoch's mean loss below the first
    epoch's. Single minibatch losses are not compared: on the spiral they scatter by +-15%.
    Logs without training accuracy (a Hugging Face Trainer logs loss and eval_loss) are judged
    on losses the same way: learned (the training loss, the mean of the last 1-10 logged, fell
    `learned_fraction` below the first), low (above -log of the accuracy mark: the geometric
    mean probability of the right class is below it; 0.25 for 10 classes), stalled (less than
    `min_gain` relative progress over the last `patience` epochs) and no gap (the validation
    loss is less than `loss_gap` above the training loss); only with a class count (the header,
    --classes, or a first loss that is the loss at init): without one, a loss's level says
    nothing (a language model fine-tuned from 1.99 to 1.74 is not short of capacity).
    "No gap" is two-sided: validation accuracy `gap` above training accuracy (a moons run
    with 20% of its training labels flipped: 82% training, 89% validation) is a training set
    harder than the validation set, not a net short of capacity; so is, in a log of losses, a
    validation loss `loss_gap` below the training loss (the same run: 0.49 vs 0.32).
    Withdrawn if training accuracy (or loss) later gets past the low mark. Epochs are the log's
    own (the engine's epoch clock), not evaluations: 3 evaluations 50 steps apart are no
    stall.
    """

    id = "underfitting"
    lr_symptom = "low"
    severity = "warning"
    needs = ("train_acc|val_loss", "classes|train_acc")  # losses alone: only with C
    provisional = True  # withdrawn when later evidence contradicts it
    # A slow layer first: with updates 10x under the lecture's 1e-3 (sgd at lr 3e-3: fc1 at
    # 3e-5) the net is not short of capacity; widening it left it at 55%, a faster rate gave 92%.
    remedies = (LrToTarget("lr for the slowest layer's updates ~1e-3 of its weights",
                           target=TARGET_UPDATE_RATIO, lowest=10.0,
                           only_below=TARGET_UPDATE_RATIO / 10),
                Widen("4x wider", 4), Widen("16x wider", 16), Deepen("one more layer"))
    thresholds = {"min_epochs": 5, "patience": 3, "min_gain": 0.01, "gap": 0.05,
                  "low_fraction": 0.75, "low_default": 0.6, "z": 3.0, "learned_fraction": 0.1,
                  "loss_gap": 0.1}
    advice = ("Increase capacity: wider or deeper layers; check that regularization and dropout "
              "are not too strong, and that the learning rate is not too low.")

    def __init__(self, **overrides: float) -> None:
        """Keeps the last `patience` training accuracies and the best one before them."""
        super().__init__(**overrides)
        self.recent: deque[tuple[float, float]] = deque()  # (epoch, accuracy) of the last `patience`
        self.best_before = -1.0
        self.epochs = 0.0  # the log's epochs since the first evaluation, plus one
        self.first_at: float | None = None
        self.best = -1.0
        self.first: float | None = None
        self.per_epoch = False  # each record an epoch's summary: its loss an epoch's mean
        self.epoch_losses: deque[tuple[float, float]] = deque()  # (epoch, loss), as `recent`
        self.best_loss_before = math.inf
        self.first_window: float | None = None
        self.loss_moved = False
        self.slowest: deque[float] = deque(maxlen=5)  # the slowest layer's update ratio

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """The slowest layer's update/weight ratio (for the remedy, not for detection)."""
        ratios = [e["update_ratio"] for _, e in sample.layers if e.get("update_ratio", 0) > 0]
        if ratios:
            self.slowest.append(min(ratios))
        return None

    def _slowest(self) -> float | None:
        return sorted(self.slowest)[len(self.slowest) // 2] if self.slowest else None

    @property
    def low(self) -> float:
        """The low mark: `low_fraction` of the way from chance to perfect."""
        return fitted_level(self.facts.classes, self.t["low_fraction"], self.t["low_default"])

    def on_first_step(self, record: Record) -> Finding | None:
        """Notice a first row that is already an epoch's end (one row per epoch)."""
        self.per_epoch = any(k in record for k in ("train_acc", "val_acc", "val_loss"))
        return None

    def on_window(self, window: Window) -> Finding | None:
        """Note when the loss, smoothed over a window, has moved well below the first window."""
        if self.first_window is None:
            self.first_window = window.mean
        elif window.mean <= (1 - self.t["learned_fraction"]) * self.first_window:
            self.loss_moved = True
        return None

    def _learned(self) -> bool:
        chance = 1.0 / self.facts.classes if self.facts.classes else (self.first or 0.0)
        moved = self.loss_moved or self.facts.first_loss is None
        return moved and self.best >= chance + self.t["learned_fraction"] * (1.0 - chance)

    def _tick(self, at: float) -> None:
        """Epochs judged so far on the log's clock (1 at the first evaluation)."""
        self.first_at = at if self.first_at is None else self.first_at
        self.epochs = at - self.first_at + 1

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """Judge level, stagnation and gap at each epoch end."""
        train = ev.train_acc
        if not is_finite(train):
            return self._by_losses(ev)
        self._tick(ev.epoch_at)
        epoch_loss = ev.loss if self.per_epoch else None
        if is_finite(epoch_loss) and self.facts.first_loss and \
                epoch_loss <= (1 - self.t["learned_fraction"]) * self.facts.first_loss:
            self.loss_moved = True
        self.first = train if self.first is None else self.first
        self.best = max(self.best, train)
        self.recent.append((ev.epoch_at, train))
        while len(self.recent) > 1 and self.recent[0][0] <= ev.epoch_at - self.t["patience"]:
            self.best_before = max(self.best_before, self.recent.popleft()[1])
        if self.fired and train >= self.low:
            self.finding = None  # it learned after all
            return None
        if self.epochs < self.t["min_epochs"] or self.best_before < 0:
            return None
        gain = max(v for _, v in self.recent) - self.best_before
        val = ev.val_acc
        # Either way: validation well above training means the training labels are harder than
        # the validation ones (label noise, or dropout / augmentation in the training numbers),
        # which more capacity does not cure.
        small_gap = not is_finite(val) or abs(train - val) < max(
            self.t["gap"], accuracy_noise(val, self.facts.header.val_size, self.t["z"]))
        if train < self.low and gain < self.t["min_gain"] and small_gap and self._learned():
            return self.report(ev.step, f"training accuracy {train:.3f} is low (below "
                               f"{self.low:.3f}{self.facts.classes_note}) and gained "
                               f"{gain:+.3f} over the last {self.t['patience']:g} epochs, with "
                               "no gap to validation",
                               train_acc=train, gain=gain, low=self.low, best=self.best,
                               classes=self.facts.classes, classes_inferred=self.facts.inferred,
                               update_ratio=self._slowest())
        return None

    def _by_losses(self, ev: Evaluation) -> Finding | None:
        """The same judgement from training and validation losses, without accuracies."""
        val, train = ev.val_loss, ev.recent_loss
        if self.facts.classes is None or not (is_finite(val) and is_finite(train) and self.facts.first_loss):
            return None  # a loss's level means nothing without C (a language model's 1.7)
        self._tick(ev.epoch_at)
        self.epoch_losses.append((ev.epoch_at, train))
        while len(self.epoch_losses) > 1 and \
                self.epoch_losses[0][0] <= ev.epoch_at - self.t["patience"]:
            self.best_loss_before = min(self.best_loss_before, self.epoch_losses.popleft()[1])
        low = -math.log(self.low)
        if self.fired and train <= low:
            self.finding = None
            return None
        if self.epochs < self.t["min_epochs"] or not math.isfinite(self.best_loss_before):
            return None
        gain = (self.best_loss_before - min(v for _, v in self.epoch_losses)) / self.best_loss_before
        learned = train <= (1 - self.t["learned_fraction"]) * self.facts.first_loss
        if train > low and gain < self.t["min_gain"] and abs(val - train) < self.t["loss_gap"] * train \
                and learned:
            return self.report(ev.step, f"training loss {train:.3g} is high (above "
                               f"{low:.3g}{self.facts.classes_note}) and improved {100 * gain:.1f}% over the "
                               f"last {self.t['patience']:g} epochs, with validation loss "
                               f"{val:.3g} no higher", loss=train, val_loss=val, gain=gain,
                               low_loss=low, classes=self.facts.classes, classes_inferred=self.facts.inferred,
                               update_ratio=self._slowest())
        return None
