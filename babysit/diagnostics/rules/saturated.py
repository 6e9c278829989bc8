"""saturated-activations: many sigmoid/tanh outputs sit at their flat ends."""

from __future__ import annotations

from babysit.diagnostics.rule import Finding, LayerSample, Rule
from babysit.diagnostics.rules._util import Sustained


class SaturatedActivations(Rule):
    """A layer's saturated fraction has a median of at least `max_saturated` over `samples`.

    Why: lecture: "saturated neurons kill the gradient". A sigmoid output below 0.01 or above
    0.99 passes back less than 1% of its gradient; so does tanh beyond +-0.99. With most of a
    layer there (DeepDiagnosis: more than 50%), the layers below it stop learning. Typical cause:
    weights initialized too large.
    """

    id = "saturated-activations"
    severity = "warning"
    needs = ("layers.sat_frac",)
    thresholds = {"max_saturated": 0.5, "samples": 3}
    advice = ("Initialize smaller (Xavier: randn / sqrt(fan_in)), add batch norm, or use ReLU "
              "in hidden layers.")

    def __init__(self, **overrides: float) -> None:
        """Per-layer sliding medians."""
        super().__init__(**overrides)
        self.medians = Sustained(int(self.t["samples"]))

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Update each layer's median saturated fraction."""
        for name, entry in sample.layers:
            sat = entry.get("sat_frac")
            if sat is None:
                continue
            med = self.medians.add(name, sat)
            if med is not None and med >= self.t["max_saturated"]:
                return self.report(sample.step, f"layer {name}: {100 * med:.0f}% of outputs "
                                   f"saturated (median of {self.medians.size} samples)",
                                   layer=name, sat_frac=med)
        return None
