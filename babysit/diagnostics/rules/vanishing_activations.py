"""vanishing-activations: the spread of activations collapses toward zero through depth."""

from __future__ import annotations

from babysit.diagnostics.rule import Finding, LayerSample, Rule
from babysit.diagnostics.rules._util import Sustained


class VanishingActivations(Rule):
    """Some deeper hidden layer's act_std is below `min_ratio` x the first hidden layer's,
    as a median over `samples` samples.

    Why: the lecture's deep net with small random init (std 0.01): every layer multiplies the
    spread by about std * sqrt(fan_in) < 1, so activations shrink toward zero layer by layer,
    and so do the gradients of the weights (they are proportional to the inputs). Two orders
    of magnitude between the first hidden layer and any deeper one is a collapse; Xavier/He
    init or batch norm keep the spread roughly constant (ratios near 1 in healthy zoo runs).
    The smallest layer counts, not the last: once biases start to learn, the deepest layers'
    spread across units can grow back while the signal from the input is still gone.
    """

    id = "vanishing-activations"
    severity = "warning"
    needs = ("layers.act_std",)
    thresholds = {"min_ratio": 1e-2, "samples": 2}
    advice = ("Scale the init to the layer: Xavier (tanh) or He (ReLU) instead of a fixed small "
              "std; or add batch norm between affine and nonlinearity.")
    explains = ("vanishing-gradients", "exploding-gradients", "update-ratio-low", "loss-flat",
                "plateau-then-drop", "underfitting", "val-plateau")

    def __init__(self, **overrides: float) -> None:
        """A sliding median of the last/first spread ratio."""
        super().__init__(**overrides)
        self.medians = Sustained(int(self.t["samples"]))

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Compare the spread of the deepest hidden layer with the first."""
        stds = [(n, e.get("act_std")) for n, e in sample.hidden]
        stds = [(n, s) for n, s in stds if s is not None]
        if len(stds) < 2 or stds[0][1] <= 0:
            return None
        (first, s0) = stds[0]
        last, s1 = min(stds[1:], key=lambda item: item[1])
        med = self.medians.add("ratio", s1 / s0)
        if med is not None and med < self.t["min_ratio"]:
            trail = ", ".join(f"{n} {s:.1e}" for n, s in stds)
            return self.report(sample.step, f"activation std falls from {s0:.2e} ({first}) to "
                               f"{s1:.2e} ({last}): {trail}", ratio=med, first=s0, last=s1)
        return None
