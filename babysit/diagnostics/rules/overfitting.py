"""overfitting: training accuracy well above validation accuracy, or validation loss rising."""

from __future__ import annotations

import math
from collections import deque

from babysit.diagnostics.readers.common import is_finite, number
from babysit.diagnostics.rule import Finding, Record, Rule
from babysit.diagnostics.rules._util import (
    accuracy_noise,
    fitted_level,
    header_classes,
    loss_noise,
    validation_size,
)


class Overfitting(Rule):
    """Either the train/val accuracy gap exceeds its limit for `epochs` epoch records in a row
    while training accuracy is at least `fit_fraction` of the way from chance to perfect; or
    the validation loss stays above both its best and the training loss by its limit for
    `epochs` records while the training loss keeps falling.

    Why: the lecture: "big gap -> overfitting -> increase regularization strength". A gap of
    `gap` = 0.1 is the usual line (AUTOTRAINER, SageMaker); a net still near chance on its own
    training data is not overfitting, whatever its gap (the zoo's 2-unit net showed a 0.23 gap
    at 48% training accuracy in its third epoch). On a small validation set accuracy is itself
    noisy: when the header gives the validation size n, the gap must also exceed `z` standard
    errors, z sqrt(p (1 - p) / n). Validation loss rising while training loss falls is the
    other classic sign (UMLAUT). Its limit is `val_rise` or, if larger, `z` relative standard
    errors of a mean cross-entropy on n examples at validation accuracy p, whose per-example
    spread is about sqrt(p / (1 - p)) times the mean (a few confident mistakes carry it): on 60
    examples at 97% a rise must exceed 200%, on 10,000 the 20% floor applies. The training
    loss is the engine's average of the last 1-10 logged training losses (a log that records
    the loss once per epoch still has one), and must be below the validation loss by the same
    limit: a validation loss under the training loss is not overfitting. Withdrawn when later
    evidence contradicts it: the validation loss falls to a new best, `val_rise` below the one
    it had risen from (an early bump, not overfitting). An accuracy gap is not withdrawn when
    it later narrows: a net that has memorized its training set keeps that gap in expectation
    (the zoo's 20-example run: 100% vs 78-88% on 60 validation examples).
    """

    id = "overfitting"
    severity = "warning"
    needs = ("train_acc", "val_acc")
    thresholds = {"gap": 0.1, "z": 3.0, "epochs": 3, "val_rise": 0.2, "fit_fraction": 0.5,
                  "fit_default": 0.6}
    advice = ("Regularize more: raise the L2 strength, add dropout, or get more data (or "
              "augment it); stop early at the best validation epoch.")
    explains = ("val-plateau",)

    def __init__(self, **overrides: float) -> None:
        """Tracks recent gaps and the best validation loss."""
        super().__init__(**overrides)
        self.gaps: deque[float] = deque(maxlen=int(self.t["epochs"]))
        self.n_val: int | None = None
        self.fitted = self.t["fit_default"]
        self.best_val_loss = math.inf
        self.train_loss_at_best: float | None = None
        self.rising = 0
        self.reported_best: float | None = None  # the best validation loss when it was reported
    def on_header(self, header: Record) -> Finding | None:
        """The validation set size and the number of classes, when the header gives them."""
        self.n_val = validation_size(header)
        self.fitted = fitted_level(header_classes(header), self.t["fit_fraction"],
                                   self.t["fit_default"])
        return None


    def on_epoch(self, record: Record) -> Finding | None:
        """Check the gap and the validation loss trend at each epoch end."""
        step = record["step"]
        train, val = number(record.get("train_acc")), number(record.get("val_acc"))
        if is_finite(train) and is_finite(val):
            limit = max(self.t["gap"], accuracy_noise(val, self.n_val, self.t["z"]))
            self.gaps.append(train - val if train >= self.fitted else -math.inf)
            if len(self.gaps) == self.gaps.maxlen and min(self.gaps) > limit:
                return self.report(step, f"train accuracy {train:.3f} vs validation {val:.3f}: "
                                   f"a gap above {limit:.3f} for {len(self.gaps)} epochs in a row",
                                   train_acc=train, val_acc=val, gap=train - val, limit=limit)
        val_loss, loss = number(record.get("val_loss")), record.get("recent_loss")
        if not (is_finite(val_loss) and loss is not None):
            return None
        if val_loss < self.best_val_loss:
            if self.reported_best is not None and val_loss < (1 - self.t["val_rise"]) * self.reported_best:
                self.finding, self.reported_best = None, None  # it was an early bump
            self.best_val_loss, self.train_loss_at_best, self.rising = val_loss, loss, 0
            return None
        rise = max(self.t["val_rise"], loss_noise(val if is_finite(val) else 0.5, self.n_val,
                                                  self.t["z"]))
        falling = self.train_loss_at_best is not None and loss < self.train_loss_at_best
        above = val_loss > (1 + rise) * self.best_val_loss and val_loss > (1 + rise) * loss
        self.rising = self.rising + 1 if falling and above else 0
        if self.rising >= self.t["epochs"]:
            if not self.fired:
                self.reported_best = self.best_val_loss
            return self.report(step, f"validation loss {val_loss:.4g} is "
                               f"{100 * (val_loss / self.best_val_loss - 1):.0f}% above its best "
                               f"{self.best_val_loss:.4g} (limit {100 * rise:.0f}%) while "
                               f"training loss fell to {loss:.4g}", val_loss=val_loss,
                               best_val_loss=self.best_val_loss, loss=loss, limit=rise)
        return None
