"""saturated-activations: many sigmoid/tanh outputs sit at their flat ends."""

from __future__ import annotations

from typing import Any

from babysit.diagnostics.remedy import BATCHNORM, InitForActivation, Scale, Set, WhenEvidence
from babysit.diagnostics.rule import Finding, LayerSample
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
    remedies = (WhenEvidence("lr x0.1 (saturated by training, not by the init)",
                             Scale("lr x0.1", "lr", 0.1), "grew_in_training"),
                InitForActivation("init scaled to the activation"), BATCHNORM,
                Set("ReLU with He init", (("activation", "relu"), ("init", "he"))))
    field = "sat_frac"
    thresholds = {"max_saturated": 0.5, "samples": 3}
    advice = ("Initialize smaller (Xavier: randn / sqrt(fan_in)), add batch norm, or use ReLU "
              "in hidden layers; if the layer was not saturated at the start (the message says), "
              "lower the learning rate first.")
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("vanishing-gradients", "update-ratio-low", "loss-flat", "plateau-then-drop",
                "underfitting", "val-plateau", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Also remembers each layer's first saturated fraction."""
        super().__init__(**overrides)
        self.first: dict[str, float] = {}

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Note the first sample's values, then judge as every layer rule."""
        for name, entry in sample.layers:
            if entry.get("sat_frac") is not None:
                self.first.setdefault(name, entry["sat_frac"])
        return super().on_layers(sample)

    def more_evidence(self, layer: str) -> dict[str, Any]:
        """Where the layer started, and whether training (not the init) saturated it."""
        start = self.first.get(layer)
        return {"first_sat_frac": start,
                "grew_in_training": start is not None and start < self.t["max_saturated"] / 2}

    def beyond(self, median: float) -> bool:
        """At least max_saturated of the outputs saturated."""
        return median >= self.t["max_saturated"]

    def describe(self, layer: str, median: float) -> str:
        """'layer fc1: 90% of outputs saturated ...'."""
        start = self.first.get(layer)
        grew = (f"; {100 * start:.0f}% at the start: training, not the init, saturated it"
                if start is not None and start < self.t["max_saturated"] / 2 else "")
        return (f"layer {layer}: {100 * median:.0f}% of outputs saturated "
                f"(median of {self.medians.size} samples){grew}")
