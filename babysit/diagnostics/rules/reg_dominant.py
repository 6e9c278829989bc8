"""reg-dominant: the L2 term outweighs the data loss from the first step."""

from __future__ import annotations

from babysit.diagnostics.remedy import RegToShare
from babysit.diagnostics.rule import Finding, Record, Rule
from babysit.readers.common import is_finite, number


class RegDominant(Rule):
    """At the first step the regularization loss is above `max_ratio` x the data loss.

    Why: the objective is data loss + reg loss; when the L2 term is the larger part from the
    start, the gradient mostly pulls the weights towards zero instead of fitting the data, and
    the net underfits however wide it is (lecture: crank up the regularization and the loss
    goes up; a net that cannot fit a small subset may have it too strong). Judged at the first
    step because later a well-fitted run's data loss nears zero and any L2 term then looks
    large. Threshold 1 (the terms equal): in a zoo of babysit runs (spiral, digits; one and
    two hidden layers; reg 1e-4 to 1), measured on the spiral and checked on digits, every run
    above it ended 2.8-89 points below the best reg of its setting, and no run at its
    setting's best validation accuracy was above it (bench/RESULTS.md).
    """

    id = "reg-dominant"
    severity = "warning"
    needs = ("reg_loss", "data_loss")
    remedies = (RegToShare("L2 down to 1% of the data loss at the start"),)
    thresholds = {"max_ratio": 1.0}
    advice = ("Lower the L2 strength (weight decay) so that its term starts well below the data loss; "
              "a wider net will not help while the penalty dominates.")
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("underfitting", "loss-flat", "loss-at-init", "val-plateau", "update-ratio-low",
                "not-learning")

    def on_first_step(self, record: Record) -> Finding | None:
        """Compare the two terms at the first step."""
        reg, data = number(record.get("reg_loss")), number(record.get("data_loss"))
        if not (is_finite(reg) and is_finite(data)) or data <= 0:
            return None
        ratio = reg / data
        if ratio > self.t["max_ratio"]:
            return self.report(record["step"], f"the L2 term {reg:.3g} is {ratio:.3g}x the data "
                               f"loss {data:.3g} at the first step: the penalty, not the data, "
                               "drives training", reg_loss=reg, data_loss=data, ratio=ratio)
        return None
