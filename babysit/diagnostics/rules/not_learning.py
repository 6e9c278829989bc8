"""not-learning: after several epochs the accuracy is still at chance: the net learned nothing."""

from __future__ import annotations

from collections import deque
from statistics import median

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.rule import Finding, Rule
from babysit.diagnostics.rules._util import chance_band
from babysit.readers.common import is_finite


class NotLearning(Rule):
    """After `min_epochs` epochs (the log's clock) and at least `min_evals` evaluations, the
    accuracy of the last `recent` evaluations (their median; each evaluation's higher of
    validation and training accuracy, where logged) is within `margin` (or `z` standard
    errors, when the header gives the validation size) of chance, 1/C.

    Why: the most basic failure there is; a net at chance after epochs of training has learned
    nothing, and every other reading of its curves (a plateau to decay, a gap to regularize) is
    the wrong first move. Its causes are the lecture's first checks: a learning rate far too
    low (the loss barely moves) or far too high (thrown back to the untrained state), labels
    that do not match the inputs, gradients that never reach the weights. `margin` 0.02 and 3
    standard errors are val-at-chance's band (the search's hopeless margin; 4.5 points on 400
    examples at 10%); 3 epochs give a working rate time to leave chance on any data set babysit
    has seen (digits at lr 1e-3 passes 50% in its first epoch). C comes from the run's facts
    (the header, --classes, or a loss logged at init); without it the rule is not checked.
    On imbalanced data chance is what always guessing the commonest class scores, when the
    header gives the validation majority rate (babysit's trainer does): 91.5% on a 95/5 split
    is below a constant guess, not a success.
    The median of the last 3, not the best so far: one lucky evaluation says nothing of where
    a net is (an MLP at lr 3 touched 14% once and sat at 8-11% for the other 19 epochs; at the
    best-so-far it was never found, and at lr 5e-4 an error shown at epoch 3 was withdrawn at
    epoch 17 by one evaluation at 12.1%). The median of three ignores one outlier either way.
    Withdrawn when that median leaves the band: the net has learned, slowly. A net that fits
    its training labels while validation stays at chance is val-at-chance's finding (a label
    or split problem), not this.
    """

    id = "not-learning"
    severity = "error"
    needs = ("val_acc|train_acc", "classes")
    provisional = True
    symptom = True  # the rules that name why (a flat loss, dead units, ...) explain it
    thresholds = {"min_epochs": 3, "min_evals": 3, "recent": 3, "margin": 0.02, "z": 3.0}
    advice = ("The net has learned nothing yet: check the learning rate first (10x up if the "
              "loss barely moves, 10x down if it jumps), then that labels match inputs and that "
              "gradients reach the weights; overfit 20 examples first (sanity check).")

    def __init__(self, **overrides: float) -> None:
        """Tracks the recent and best accuracies, the evaluations and the clock."""
        super().__init__(**overrides)
        self.best_val = self.best_train = -1.0
        self.levels: deque[float] = deque(maxlen=max(1, int(self.t["recent"])))
        self.evals = 0
        self.first_at: float | None = None

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """Compare the recent accuracy with chance."""
        val, train = ev.val_acc, ev.train_acc
        classes = self.facts.classes
        if not classes or not (is_finite(val) or is_finite(train)):
            return None
        self.evals += 1
        self.first_at = ev.epoch_at if self.first_at is None else self.first_at
        if is_finite(val):
            self.best_val = max(self.best_val, val)
        if is_finite(train):
            self.best_train = max(self.best_train, train)
        self.levels.append(max(v for v in (val, train) if is_finite(v)))
        recent = float(median(self.levels))
        chance = max(1.0 / classes, self.facts.majority or 0.0)  # a constant guess's score
        band = chance_band(chance, self.facts.header.val_size, self.t["margin"], self.t["z"])
        if recent > band:
            self.finding = None  # it learned after all
            return None
        epochs = ev.epoch_at - self.first_at + 1
        if self.evals >= self.t["min_evals"] and epochs >= self.t["min_epochs"]:
            which = " and ".join(name for name, best in (("validation", self.best_val),
                                                          ("training", self.best_train))
                                 if best >= 0)
            best = max(self.best_val, self.best_train)
            floor = (f"always guessing the commonest class scores {chance:.3f}"
                     if chance > 1.0 / classes else f"chance is {chance:.3f} for {classes} classes")
            return self.report(ev.step, f"{which} accuracy is still at chance after "
                               f"{epochs:.3g} {self.facts.clock_unit} (recently {recent:.3f}, best "
                               f"{best:.3f}; {floor}, and up to {band:.3f} is within noise)",
                               recent_acc=recent, best_acc=best, chance=chance, band=band,
                               classes=classes, classes_from=self.facts.classes_from)
        return None
