"""input-not-scaled: the inputs are far from the unit scale the init assumes."""

from __future__ import annotations

from collections.abc import Mapping

from babysit.diagnostics.inputs import SCALED_RMS, init_adapts, judge_inputs
from babysit.diagnostics.records import Header
from babysit.diagnostics.remedy import Rescale
from babysit.diagnostics.rule import Finding, Rule


class InputNotScaled(Rule):
    """The inputs' root mean square (header input_stats `rms`) is outside `min_rms`..`max_rms`.

    Why: Xavier and He init assume unit-scale inputs (the lecture's preprocessing makes them
    so): a first layer's pre-activation variance is fan_in x Var(w) x E[x^2]. Above RMS 3 the
    logits start with 9x the variance the init was built for (raw 0..16 digit pixels: RMS 7.7;
    0..255 pixels: ~120), the loss at init is tens of nats above log(C), and units saturate or
    die; below RMS 0.1 the first layer's gradients are 10x smaller than the other layers', so
    its updates lag at any one learning rate. The bounds and their reasons are in
    babysit.diagnostics.inputs, which sanity-check and the Monitor read too. Not judged when
    babysit's init adapts to the inputs (--scale-first-layer with --init he / xavier).
    What it explains: the loss at init too high, saturated or dead units from the first step,
    a first layer that learns far slower than the rest.
    """

    id = "input-not-scaled"
    severity = "warning"
    needs = ("header.input_stats",)
    remedies = (Rescale("scale the inputs to unit size (standardize; for images divide by "
                        "the pixels' spread)"),)
    thresholds = {"min_rms": SCALED_RMS[0], "max_rms": SCALED_RMS[1]}
    advice = ("Scale the inputs to unit size: standardize each feature ((x - mean) / std, "
              "statistics from the training split), or for images divide by the pixels' "
              "spread (255 for 8-bit pixels).")
    explains = ("loss-at-init", "saturated-activations", "dead-relu", "update-ratio-low",
                "loss-flat", "underfitting", "not-learning")

    def on_header(self, header: Header) -> Finding | None:
        """Judge the RMS of all inputs."""
        verdict = judge_inputs(header.input_stats)
        rms = verdict.rms
        config = header.raw.get("config")
        config = config if isinstance(config, Mapping) else {}
        if rms is None or init_adapts(config.get("scale_first_layer"), config.get("init")) or \
                not verdict.unscaled((self.t["min_rms"], self.t["max_rms"])):
            return None
        side = "large" if rms > self.t["max_rms"] else "small"
        return self.report(0, f"the inputs are not scaled: their RMS is {rms:.3g}, too {side} "
                           f"for an init that assumes ~1 (line {self.t['min_rms']:g}.."
                           f"{self.t['max_rms']:g})", rms=rms)
