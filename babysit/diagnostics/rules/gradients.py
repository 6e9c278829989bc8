"""vanishing-gradients / exploding-gradients: gradient size across depth and over time."""

from __future__ import annotations

from babysit.diagnostics.remedy import BATCHNORM, InitForActivation, lower_lr
from babysit.diagnostics.rule import Finding, LayerSample, Rule
from babysit.diagnostics.rules._util import Sustained


def relative_gradients(sample: LayerSample) -> list[tuple[str, float]]:
    """Per layer, grad_norm / weight_norm (or grad_norm alone when weights are not logged).

    Dividing by the weight norm cancels the layer's size, which otherwise makes a wide first
    layer's gradient look large next to a narrow output layer's.
    """
    out = []
    for name, entry in sample.layers:
        g, w = entry.get("grad_norm"), entry.get("weight_norm")
        if g is None:
            continue
        out.append((name, g / w if w else g))
    return out


class VanishingGradients(Rule):
    """The first layer's relative gradient is below `min_ratio` x the last layer's (median of
    `samples` samples).

    Why: backprop multiplies the gradient by each layer's local derivative; with saturated
    units or shrinking activations it decays geometrically, and the first layers stop learning.
    Three orders of magnitude (AUTOTRAINER's 1e-3) is far beyond the spread of healthy nets.
    """

    id = "vanishing-gradients"
    severity = "warning"
    needs = ("layers.grad_norm",)
    remedies = (InitForActivation("init scaled to the activation"), BATCHNORM)
    thresholds = {"min_ratio": 1e-3, "samples": 2}
    # A gradient grown from ~0 is not an explosion; a net whose gradients vanish is not learning:
    # that is its consequence, still an error (docs/findings.md).
    supersedes = ("exploding-gradients",)
    explains = ("not-learning",)
    advice = ("Use ReLU-family activations with He init (or Xavier for tanh), add batch norm, "
              "and avoid sigmoid in hidden layers.")

    def __init__(self, **overrides: float) -> None:
        """A sliding median of the first/last ratio."""
        super().__init__(**overrides)
        self.medians = Sustained(int(self.t["samples"]))

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Compare first and last layers."""
        rel = relative_gradients(sample)
        if len(rel) < 2 or rel[-1][1] <= 0:
            return None
        med = self.medians.add("ratio", rel[0][1] / rel[-1][1])
        if med is not None and med < self.t["min_ratio"]:
            return self.report(sample.step, f"relative gradient of {rel[0][0]} is {med:.1e} x "
                               f"that of {rel[-1][0]}", ratio=med)
        return None


class ExplodingGradients(Rule):
    """The first layer's relative gradient is above `max_ratio` x the last layer's, or a
    layer's gradient norm grows to `growth` x its first value, and to at least `min_relative`
    x its weights' norm, while the loss has not improved.

    Why: the mirror image of vanishing gradients: local derivatives above 1 compound through
    depth, and the updates of the first layers blow up. Growth over time without progress in
    the loss is the other face (a 1e3 rise; AUTOTRAINER flags a loss of 1e3). A gradient that
    grew from nothing to almost nothing (8.7e-10 to 3.4e-6 in a vanishing net) is not
    exploding: below `min_relative` (1e-3) x the weights' norm, an update at any learning rate
    up to 1 stays under the lecture's healthy update/weight ratio of 1e-3, so it cannot blow
    the weights up. Vanishing gradients, when found, supersede this rule.
    """

    id = "exploding-gradients"
    severity = "warning"
    needs = ("layers.grad_norm",)
    remedies = lower_lr(0.1) + (InitForActivation("init scaled to the activation"), BATCHNORM)
    thresholds = {"max_ratio": 1e3, "growth": 1e3, "min_relative": 1e-3, "samples": 2}
    advice = ("Lower the learning rate, clip gradients, use Xavier/He init and batch norm.")

    def __init__(self, **overrides: float) -> None:
        """First gradient norms per layer, the first loss, and a sliding median."""
        super().__init__(**overrides)
        self.medians = Sustained(int(self.t["samples"]))
        self.first_grad: dict[str, float] = {}
        self.first_loss: float | None = None

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Compare across depth, then against the start."""
        loss = sample.loss
        if self.first_loss is None and loss is not None:
            self.first_loss = loss
        rel = relative_gradients(sample)
        if len(rel) >= 2 and rel[-1][1] > 0:
            med = self.medians.add("ratio", rel[0][1] / rel[-1][1])
            if med is not None and med > self.t["max_ratio"]:
                return self.report(sample.step, f"relative gradient of {rel[0][0]} is {med:.1e}"
                                   f" x that of {rel[-1][0]}", ratio=med)
        no_progress = loss is not None and self.first_loss is not None and loss >= self.first_loss
        for name, entry in sample.layers:
            g, w = entry.get("grad_norm"), entry.get("weight_norm")
            if g is None:
                continue
            g0 = self.first_grad.setdefault(name, g)
            large = not w or g >= self.t["min_relative"] * w
            if no_progress and g0 > 0 and g > self.t["growth"] * g0 and large:
                return self.report(sample.step, f"layer {name}: gradient norm grew from "
                                   f"{g0:.2e} to {g:.2e} while the loss rose to {loss:.4g}",
                                   layer=name, growth=g / g0)
        return None
