"""val-plateau: validation accuracy has stopped improving."""

from __future__ import annotations

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.remedy import Set
from babysit.diagnostics.rule import Finding, Rule
from babysit.readers.common import is_finite

MIN_EVALS = 2  # one evaluation after the best is no plateau, however far apart they are


class ValPlateau(Rule):
    """The best validation accuracy has not improved by `min_delta` for `patience` epochs,
    while it is above chance and below perfect.

    Why: once validation accuracy stops rising, more epochs at the same learning rate buy
    nothing; the usual responses are a learning-rate decay or stopping (Keras's
    ReduceLROnPlateau waits 10 epochs). Informational: it is a normal stage of a run.
    Not at the ends: a net whose best is within `min_delta` of 1.0 cannot improve (decaying
    the rate is no advice: stop), and one whose best is within `chance_margin` of chance
    (1/C, from the header or the first loss) has not learned at all, which loss-flat,
    underfitting or a label check must name; "decay the learning rate" there is the wrong
    first move when the rate is far too low (issue 23: chance runs were told to decay it).
    `chance_margin` 0.02: the search's hopeless margin, the spread of a 10-class validation
    accuracy on a few hundred examples at chance.
    Epochs are the log's own (the engine's epoch clock): a Hugging Face run evaluated every 50
    steps has 10 evaluations in a fifth of an epoch, not 10 epochs; at least `MIN_EVALS`
    evaluations without improvement are needed whatever their spacing.
    """

    id = "val-plateau"
    severity = "info"
    needs = ("val_acc",)
    provisional = True  # withdrawn when later evidence contradicts it
    remedies = (Set("step decay of the learning rate", (("lr_schedule", "step"),)),)
    thresholds = {"patience": 10, "min_delta": 0.005, "chance_margin": 0.02}
    advice = "Decay the learning rate (step or exponential schedule), or stop training here."

    def __init__(self, **overrides: float) -> None:
        """Tracks the best validation accuracy and epochs since it."""
        super().__init__(**overrides)
        self.best = -1.0
        self.best_step = 0
        self.since = 0
        self.best_at = 0.0

    @property
    def chance(self) -> float | None:
        """1/C, when the run's class count is known."""
        return 1.0 / self.facts.classes if self.facts.classes else None

    def _at_an_end(self) -> bool:
        if self.best >= 1.0 - self.t["min_delta"]:
            return True
        return self.chance is not None and self.best <= self.chance + self.t["chance_margin"]

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """Count epochs without improvement."""
        val = ev.val_acc
        if not is_finite(val):
            return None
        at = ev.epoch_at
        if val > self.best + self.t["min_delta"]:
            self.best, self.best_step, self.best_at, self.since = val, ev.step, at, 0
            self.finding = None  # improving again
            return None
        self.since += 1
        waited = at - self.best_at
        if self.since >= MIN_EVALS and waited >= self.t["patience"] and not self._at_an_end():
            return self.report(ev.step, f"validation accuracy has not improved on "
                               f"{self.best:.3f} (step {self.best_step}) for {waited:.3g} "
                               f"{self.facts.clock_unit}",
                               best_val_acc=self.best, epochs=waited)
        return None
