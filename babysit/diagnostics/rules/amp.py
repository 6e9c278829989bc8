"""amp-scale-collapse, amp-skipped-steps, clipping-always: what mixed precision and gradient
clipping did to a run, from the fields babysit.torch.Monitor writes (docs/log-format.md)."""

from __future__ import annotations

from babysit.diagnostics.remedy import lower_lr
from babysit.diagnostics.rule import Finding, Record, Rule
from babysit.readers.common import number


class AmpScaleCollapse(Rule):
    """The GradScaler's loss scale fell below `min_scale`.

    Why: a GradScaler halves its scale on every step whose gradients overflow fp16 and doubles
    it after 2000 clean ones, so it settles where the scaled gradients fit. At a scale of 1 the
    gradients are not scaled at all; an overflow there means the raw gradients exceed fp16's
    range (65504) or are inf/NaN, which no scale fixes, and each further overflow skips the step
    and halves the scale again, towards 0: the run has stopped learning.
    """

    id = "amp-scale-collapse"
    lr_symptom = "high"
    severity = "error"
    needs = ("amp_scale",)
    thresholds = {"min_scale": 1.0}
    remedies = lower_lr(0.1)
    advice = ("The gradients overflow even unscaled: look for the NaN or inf (log(0), division "
              "by 0, an fp16 overflow in the forward pass: compute the loss in float32), lower "
              "the learning rate, or train in bf16, whose range is float32's.")
    explains = ("amp-skipped-steps", "loss-flat", "underfitting", "val-plateau")

    def on_step(self, record: Record) -> Finding | None:
        """Read the scale of a sampled step."""
        scale = record.get("amp_scale")
        if scale is None:
            return None
        scale = number(scale)
        if scale is not None and scale < self.t["min_scale"]:
            return self.report(record["step"], f"the AMP loss scale fell to {scale:.3g} "
                               f"(below {self.t['min_scale']:g}) at step {record['step']}",
                               scale=scale)
        return None


class AmpSkippedSteps(Rule):
    """More than `max_frac` of the steps after the first `settle` were skipped by the
    GradScaler (at least `min_skipped` of them).

    Why: a GradScaler starts at 2^16 and halves on each overflow, so its first dozen or so steps
    may be skipped while it finds its level (16 halvings reach a scale of 1: `settle` is twice
    that); after that a healthy run overflows about once per growth interval (2000 steps: 0.05%).
    Skipping 1% of the steps, 20x that, means the gradients keep overflowing: the updates
    those steps would have made are lost, and the loss is near overflow in fp16.
    """

    id = "amp-skipped-steps"
    lr_symptom = "high"
    severity = "warning"
    needs = ("amp_scale",)
    thresholds = {"max_frac": 0.01, "settle": 32, "min_skipped": 10}
    remedies = lower_lr(0.1)
    advice = ("Gradients keep overflowing fp16: lower the learning rate, clip gradients "
              "(after scaler.unscale_), compute the loss in float32, or train in bf16.")

    def __init__(self, **overrides: float) -> None:
        """Count steps and skipped steps after the settling ones."""
        super().__init__(**overrides)
        self.steps = self.skipped = 0

    def on_step(self, record: Record) -> Finding | None:
        """Count the record's step; judge at sampled steps (those carrying the scale)."""
        if record["step"] < self.t["settle"]:
            return None
        self.steps += 1
        self.skipped += record.get("skipped") is True
        if "amp_scale" not in record or self.skipped < self.t["min_skipped"]:
            return None
        frac = self.skipped / self.steps
        if frac > self.t["max_frac"]:
            return self.report(record["step"], f"{self.skipped} of {self.steps} steps "
                               f"({100 * frac:.1f}%) skipped by the AMP scaler after step "
                               f"{int(self.t['settle'])}", skipped=self.skipped, steps=self.steps)
        return None


class ClippingAlways(Rule):
    """Gradient clipping bit on more than `max_frac` of at least `min_steps` steps.

    Why: clipping is a guard against the rare spike. When it bites on nearly every step every
    update has the length lr x max_norm whatever the gradient: the clip value, not the learning
    rate, sets the step size, and "clip gradients" cannot be the remedy for an unstable run.
    Info only: fine-tunes with a Trainer's default max_grad_norm of 1 often clip most steps and
    train well; the finding says that the rate and the clip value act as one knob.
    """

    id = "clipping-always"
    severity = "info"
    provisional = True  # withdrawn when clipping stops biting (a rough start is common)
    needs = ("clipped_steps",)
    thresholds = {"max_frac": 0.9, "min_steps": 100}
    advice = ("Clipping rescales nearly every update: treat max_norm and the learning rate as "
              "one knob (lower the rate, or raise max_norm above the typical gradient norm, "
              "`grad_norm_total` in the log) so that clipping catches only spikes.")

    def on_step(self, record: Record) -> Finding | None:
        """Judge the cumulative count of clipped steps on a sampled step."""
        clipped = record.get("clipped_steps")
        if clipped is None:
            return None
        clipped = number(clipped)
        steps = record["step"] + 1
        if clipped is None or steps < self.t["min_steps"]:
            return None
        frac = clipped / steps
        if frac > self.t["max_frac"]:
            return self.report(record["step"], f"gradient clipping bit on {int(clipped)} of "
                               f"{steps} steps ({100 * frac:.0f}%)", clipped=int(clipped), steps=steps)
        if self.fired and frac < self.t["max_frac"] - 0.1:  # it stopped biting: withdrawn
            self.finding = None
        return None
