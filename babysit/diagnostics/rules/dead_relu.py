"""dead-relu: many units of a ReLU layer output zero for every example."""

from __future__ import annotations

from babysit.diagnostics.remedy import InitForActivation, Set, lower_lr
from babysit.diagnostics.rules._util import LayerFieldRule


class DeadReLU(LayerFieldRule):
    """A layer's dead fraction has a median above `max_dead` over `samples` samples.

    Why: a ReLU whose input is negative for every example gets no gradient and never recovers
    (lecture: ReLU "dies"; Leaky ReLU, ELU and Maxout "will not die"). Some units can be
    silent on one batch by chance; a majority dead (SageMaker's 50%; AUTOTRAINER and
    DeepDiagnosis use 70%) for several samples in a row is a broken layer, typically from a
    learning rate that knocked the weights too far, or a bad (negative-bias) initialization.
    A majority means more than half: in a 2-unit layer one dead unit is not a broken layer
    (the zoo's 2-unit net lost one unit on some seeds; its problem is its size).
    """

    id = "dead-relu"
    severity = "warning"
    needs = ("layers.dead_frac",)
    activations = ("relu",)
    # The init is suspect only when known to be wrong (Xavier, negative biases); a log that does
    # not say (PyTorch's default is Kaiming-uniform) points at the rate first.
    remedies = (InitForActivation("He init, biases not negative", known_only=True),) + lower_lr(0.1) + (
        Set("Leaky ReLU", (("activation", "leaky_relu"),)),)
    field = "dead_frac"
    thresholds = {"max_dead": 0.5, "samples": 3}
    advice = ("Lower the learning rate; use He init; start ReLU biases slightly positive "
              "(0.01); or switch to Leaky ReLU / ELU, which do not die.")
    # Dead layers output zeros, so the spread of activations collapses behind them: that
    # collapse is this problem's consequence (unless it was there first, at initialization).
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("vanishing-activations", "vanishing-gradients", "update-ratio-low", "loss-flat",
                "underfitting", "val-plateau", "not-learning")

    def beyond(self, median: float) -> bool:
        """More than max_dead of the units dead."""
        return median > self.t["max_dead"]

    def describe(self, layer: str, median: float) -> str:
        """'layer fc1: 60% of units dead ...'."""
        return f"layer {layer}: {100 * median:.0f}% of units dead (median of {self.medians.size} samples)"
