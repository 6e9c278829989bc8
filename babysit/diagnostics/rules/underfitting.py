"""underfitting: low training accuracy that has stopped improving, with no train/val gap."""

from __future__ import annotations

from collections import deque

from babysit.diagnostics.readers.common import is_finite, number
from babysit.diagnostics.rule import Finding, Record, Rule
from babysit.diagnostics.rules._util import accuracy_noise, fitted_level, validation_size


class Underfitting(Rule):
    """After `min_epochs` epochs, training accuracy is below `low_fraction` of the way from
    chance to perfect, gained less than `min_gain` over the last `patience` epochs, and
    validation is within `gap` of it (or within `z` standard errors of the validation
    accuracy, when the header gives the validation size and that is larger).

    Why: the lecture: "no gap -> increase model capacity". A net that fits its own training
    data poorly and has stopped improving cannot be helped by regularization. The lecture's
    rule has no accuracy condition; "low" only keeps converged, near-perfect runs (which also
    show no gap) from firing. It is measured from chance, 1/C (C from the header; 0.6 without
    it, AUTOTRAINER's bound): 0.83 for 3 classes, 0.78 for 10. "Stopped" follows AUTOTRAINER's
    slow-convergence test (gain below 0.01). "No gap" allows for the noise of a small
    validation set, as overfitting does.
    Withdrawn if training accuracy later climbs past the low mark.
    """

    id = "underfitting"
    severity = "warning"
    needs = ("train_acc",)
    thresholds = {"min_epochs": 5, "patience": 3, "min_gain": 0.01, "gap": 0.05,
                  "low_fraction": 0.75, "low_default": 0.6, "z": 3.0}
    advice = ("Increase capacity: wider or deeper layers; check that regularization and dropout "
              "are not too strong, and that the learning rate is not too low.")

    def __init__(self, **overrides: float) -> None:
        """Keeps the last `patience` training accuracies and the best one before them."""
        super().__init__(**overrides)
        self.low = self.t["low_default"]
        self.recent: deque[float] = deque(maxlen=int(self.t["patience"]))
        self.best_before = -1.0
        self.epochs = 0
        self.n_val: int | None = None

    def on_header(self, header: Record) -> Finding | None:
        """Set the low mark from the number of classes; read the validation size."""
        c = number(header.get("num_classes"))
        self.low = fitted_level(int(c) if is_finite(c) else None, self.t["low_fraction"],
                                self.t["low_default"])
        self.n_val = validation_size(header)
        return None

    def on_epoch(self, record: Record) -> Finding | None:
        """Judge level, stagnation and gap at each epoch end."""
        train = number(record.get("train_acc"))
        if not is_finite(train):
            return None
        self.epochs += 1
        if len(self.recent) == self.recent.maxlen:
            self.best_before = max(self.best_before, self.recent[0])
        self.recent.append(train)
        if self.fired and train >= self.low:
            self.finding = None  # it learned after all
            return None
        if self.epochs < self.t["min_epochs"] or self.best_before < 0:
            return None
        gain = max(self.recent) - self.best_before
        val = number(record.get("val_acc"))
        small_gap = not is_finite(val) or train - val < max(
            self.t["gap"], accuracy_noise(val, self.n_val, self.t["z"]))
        if train < self.low and gain < self.t["min_gain"] and small_gap:
            return self.report(record["step"], f"training accuracy {train:.3f} is low (below "
                               f"{self.low:.3f}) and gained {gain:+.3f} over the last "
                               f"{len(self.recent)} epochs, with no gap to validation",
                               train_acc=train, gain=gain, low=self.low)
        return None
