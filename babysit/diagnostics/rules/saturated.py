"""saturated-activations: many sigmoid/tanh outputs sit at their flat ends."""

from __future__ import annotations

from babysit.diagnostics.remedy import BATCHNORM, InitForActivation, Set
from babysit.diagnostics.rules._util import LayerFieldRule


class SaturatedActivations(LayerFieldRule):
    """A layer's saturated fraction has a median of at least `max_saturated` over `samples`.

    Why: lecture: "saturated neurons kill the gradient". A sigmoid output below 0.01 or above
    0.99 passes back less than 1% of its gradient; so does tanh beyond +-0.99. With most of a
    layer there (DeepDiagnosis: more than 50%), the layers below it stop learning. Typical cause:
    weights initialized too large.
    """

    id = "saturated-activations"
    severity = "warning"
    needs = ("layers.sat_frac",)
    activations = ("sigmoid", "tanh")
    remedies = (InitForActivation("init scaled to the activation"), BATCHNORM,
                Set("ReLU with He init", (("activation", "relu"), ("init", "he"))))
    field = "sat_frac"
    thresholds = {"max_saturated": 0.5, "samples": 3}
    advice = ("Initialize smaller (Xavier: randn / sqrt(fan_in)), add batch norm, or use ReLU "
              "in hidden layers.")
    explains = ("vanishing-gradients", "update-ratio-low", "loss-flat", "plateau-then-drop",
                "underfitting", "val-plateau")

    def beyond(self, median: float) -> bool:
        """At least max_saturated of the outputs saturated."""
        return median >= self.t["max_saturated"]

    def describe(self, layer: str, median: float) -> str:
        """'layer fc1: 90% of outputs saturated ...'."""
        return (f"layer {layer}: {100 * median:.0f}% of outputs saturated "
                f"(median of {self.medians.size} samples)")
