"""symmetric-init: a hidden layer starts with all-zero weights or all-identical outputs."""

from __future__ import annotations

from babysit.diagnostics.remedy import InitForActivation
from babysit.diagnostics.rule import Finding, LayerSample, Rule


class SymmetricInit(Rule):
    """At the first layer sample, a hidden layer's weight norm is 0, or its outputs do not vary.

    Why: lecture: "if W = 0, all neurons perform the same way". Units with identical weights
    compute the same output and receive the same gradient, so they stay identical forever and
    the layer is as good as one unit. Zero weights (norm exactly 0) or a zero spread of the
    layer's outputs (act_std below `min_std`) at initialization show it; a layer whose ReLUs
    are all dead also has zero spread, so a fully dead layer is left to dead-relu.
    """

    id = "symmetric-init"
    severity = "error"
    needs = ("layers.weight_norm",)
    remedies = (InitForActivation("random init scaled to the activation"),)
    thresholds = {"min_std": 1e-12}
    advice = ("Initialize weights randomly, scaled to the layer: Xavier (randn / sqrt(fan_in)) "
              "for tanh, He (randn / sqrt(fan_in / 2)) for ReLU.")
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("loss-flat", "plateau-then-drop", "underfitting", "val-plateau", "update-ratio-low",
                "vanishing-activations", "vanishing-gradients", "dead-relu", "saturated-activations",
                "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Only the first record with layers is judged."""
        super().__init__(**overrides)
        self.done = False

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Judge the first layer sample."""
        if self.done:
            return None
        self.done = True
        for name, entry in sample.hidden:
            norm, std = entry.get("weight_norm"), entry.get("act_std")
            if norm == 0.0:
                return self.report(sample.step, f"layer {name} starts with all-zero weights",
                                   layer=name, weight_norm=0.0)
            dead = entry.get("dead_frac")
            if std is not None and std < self.t["min_std"] and (dead is None or dead < 1.0):
                return self.report(sample.step, f"layer {name}: every unit outputs the same "
                                   f"value at init (std {std:.1e})", layer=name, act_std=std)
        return None
