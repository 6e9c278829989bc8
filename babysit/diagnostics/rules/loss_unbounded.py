"""loss-unbounded: the loss went below zero and keeps falling by orders of magnitude."""

from __future__ import annotations

from babysit.diagnostics.rule import Finding, Rule, Window


class LossUnbounded(Rule):
    """The smoothed loss (a window's mean) is negative, below -`floor`, and `factor` times the
    first negative window's mean.

    Why: cross-entropy, hinge and squared losses are never negative; a loss that crosses zero
    and then grows a hundredfold in magnitude (-3e4 to -6.5e7) is being minimized with no floor:
    NLLLoss fed raw scores instead of log_softmax, a BCE on values outside [0, 1], a flipped
    sign. Every other reading of such a curve ("it fell", "it plateaued") is about a quantity
    that means nothing. Losses that are legitimately negative are bounded: a Gaussian negative
    log-likelihood falls by a few nats as the variance shrinks, never a hundredfold past
    -1,000 (`floor`: e^-1000 is below any float's resolution of a density's scale).
    """

    id = "loss-unbounded"
    severity = "error"
    needs = ("loss",)
    thresholds = {"factor": 100.0, "floor": 1000.0}
    advice = ("The loss has no floor: it is not a proper loss for these outputs. Use "
              "cross_entropy on raw scores (or NLLLoss on log_softmax, BCE on probabilities in "
              "[0, 1]), and check the loss's sign.")
    supersedes = ("loss-flat", "plateau-then-drop", "loss-oscillation", "training-unstable",
                  "overfitting", "underfitting", "val-plateau", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Waits for the first negative window."""
        super().__init__(**overrides)
        self.first_negative: float | None = None

    def on_window(self, window: Window) -> Finding | None:
        """Compare each negative window's mean with the first negative one's."""
        if window.mean >= 0:
            return None
        if self.first_negative is None:
            self.first_negative = window.mean
            return None
        if window.mean < -self.t["floor"] and window.mean <= self.t["factor"] * self.first_negative:
            return self.report(window.last_step, f"the loss went below zero ({self.first_negative:.3g}) "
                               f"and kept falling to {window.mean:.3g}, "
                               f"{window.mean / self.first_negative:.3g}x as far",
                               first_negative=self.first_negative, loss=window.mean)
        return None
