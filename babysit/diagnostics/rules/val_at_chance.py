"""val-at-chance: training accuracy rises while validation accuracy stays at chance."""

from __future__ import annotations

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.rule import Finding, Rule
from babysit.diagnostics.rules._util import chance_band
from babysit.readers.common import is_finite


class ValAtChance(Rule):
    """After `min_epochs` epochs the best validation accuracy is still within `margin` (or `z`
    standard errors, when the header gives the validation size) of chance, 1/C, while the best
    training accuracy is above that band by `learned` of the way from chance to perfect.

    Why: a net that fits its training labels but predicts validation labels no better than a
    coin is not overfitting in the lecture's sense (a gap that regularization narrows): it has
    learned nothing that carries over, which is what shuffled or misaligned labels, a
    validation set from another distribution, or a preprocessing applied to one split only
    produce. Digits with shuffled labels: training accuracy 50-66%, validation 8.6-8.8% (chance
    10%), reported only as overfitting ("regularize more") before. `margin` 0.02 (the search's
    hopeless margin) and 3 standard errors (4.5 points on 400 examples at 10%) keep a small
    validation set's noise from passing for learning; `learned` 0.25 of the way from chance to
    perfect (22 points at 10 classes) above that band is a clear gap, measured from the band so
    that a tiny validation set (60 spiral examples: a band up to 52% at 3 classes) cannot call
    a net that barely learned (53% training accuracy, the zoo's vanishing-activations run) a
    label problem. Withdrawn if validation accuracy later rises past the band.
    """

    id = "val-at-chance"
    severity = "error"
    needs = ("val_acc",)
    provisional = True
    thresholds = {"min_epochs": 3, "margin": 0.02, "z": 3.0, "learned": 0.25}
    advice = ("Check that the labels match the inputs (shuffled or misaligned labels, a split "
              "from another distribution, preprocessing applied to one split only): the net "
              "fits the training labels but learns nothing that carries over.")
    explains = ("overfitting", "val-plateau")

    def __init__(self, **overrides: float) -> None:
        """Tracks the best accuracies and the epochs seen."""
        super().__init__(**overrides)
        self.best_val = -1.0
        self.best_train = -1.0
        self.epochs = 0

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """Compare the best validation accuracy with chance once training has learned."""
        val, train = ev.val_acc, ev.train_acc
        classes = self.facts.classes
        if not is_finite(val) or not classes:
            return None
        self.epochs += 1
        self.best_val = max(self.best_val, val)
        if is_finite(train):
            self.best_train = max(self.best_train, train)
        chance = 1.0 / classes
        band = chance_band(chance, self.facts.header.val_size, self.t["margin"], self.t["z"])
        if self.best_val > band:
            self.finding = None  # validation learned after all
            return None
        learned = self.best_train >= band + self.t["learned"] * (1.0 - chance)
        if self.epochs >= self.t["min_epochs"] and learned:
            return self.report(ev.step, f"validation accuracy is at chance (best "
                               f"{self.best_val:.3f}, chance {chance:.3f}) while training "
                               f"accuracy rose to {self.best_train:.3f}",
                               best_val_acc=self.best_val, best_train_acc=self.best_train,
                               chance=chance)
        return None
