"""val-plateau: validation accuracy has stopped improving."""

from __future__ import annotations

from babysit.diagnostics.readers.common import is_finite, number
from babysit.diagnostics.remedy import Set
from babysit.diagnostics.rule import Finding, Record, Rule


class ValPlateau(Rule):
    """The best validation accuracy has not improved by `min_delta` for `patience` epochs.

    Why: once validation accuracy stops rising, more epochs at the same learning rate buy
    nothing; the usual responses are a learning-rate decay or stopping (Keras's
    ReduceLROnPlateau waits 10 epochs). Informational: it is a normal stage of a run.
    """

    id = "val-plateau"
    severity = "info"
    needs = ("val_acc",)
    provisional = True  # withdrawn when later evidence contradicts it
    remedies = (Set("step decay of the learning rate", (("lr_schedule", "step"),)),)
    thresholds = {"patience": 10, "min_delta": 0.005}
    advice = "Decay the learning rate (step or exponential schedule), or stop training here."

    def __init__(self, **overrides: float) -> None:
        """Tracks the best validation accuracy and epochs since it."""
        super().__init__(**overrides)
        self.best = -1.0
        self.best_step = 0
        self.since = 0

    def on_epoch(self, record: Record) -> Finding | None:
        """Count epochs without improvement."""
        val = number(record.get("val_acc"))
        if not is_finite(val):
            return None
        if val > self.best + self.t["min_delta"]:
            self.best, self.best_step, self.since = val, record["step"], 0
            self.finding = None  # improving again
            return None
        self.since += 1
        if self.since >= self.t["patience"]:
            return self.report(record["step"], f"validation accuracy has not improved on "
                               f"{self.best:.3f} (step {self.best_step}) for {self.since} epochs",
                               best_val_acc=self.best, epochs=self.since)
        return None
