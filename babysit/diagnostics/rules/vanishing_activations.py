"""vanishing-activations: the spread of activations collapses toward zero through depth."""

from __future__ import annotations

from babysit.diagnostics.remedy import BATCHNORM, InitForActivation
from babysit.diagnostics.rule import Finding, LayerSample, Rule
from babysit.diagnostics.rules._util import Sustained

DEAD = 0.5  # dead-relu's default max_dead: a layer this dead is that rule's finding, not this one's


class VanishingActivations(Rule):
    """Some deeper hidden layer's act_std is below `min_ratio` x the first hidden layer's,
    as a median over `samples` samples; or, in the first layer sample (at initialization),
    below `init_ratio` x.

    Why: the lecture's deep net with small random init (std 0.01): every layer multiplies the
    spread by about std * sqrt(fan_in) < 1, so activations shrink toward zero layer by layer,
    and so do the gradients of the weights (they are proportional to the inputs). Two orders
    of magnitude between the first hidden layer and any deeper one is a collapse; Xavier/He
    init or batch norm keep the spread roughly constant (ratios near 1 in healthy zoo runs).
    The smallest layer counts, not the last: once biases start to learn, the deepest layers'
    spread across units can grow back while the signal from the input is still gone.
    At initialization the bar is lower: an init matched to its activation keeps the spread
    within a factor of ~2 over any depth (He for ReLU exactly, Xavier for tanh nearly), while
    the lecture's mismatches shrink it geometrically: Xavier with ReLU halves the variance per
    layer (24x over the 10 layers of its 10 x 200 demo), a fixed std of 0.01 shrinks it by
    orders of magnitude. A 10x collapse at the first sample is therefore the init's scale,
    even if an adaptive optimizer repairs it within a few steps (Adam does, so the sustained
    median never sees it), and the fix is the same. Samples in which a hidden layer is mostly
    dead (dead_frac of 0.5 or more) are left to dead-relu: dead units output zeros whatever
    the init's scale. It explains dead ReLUs that appear after it: once the signal from the
    input has shrunk, a deep unit's pre-activation is mostly its bias, the same for every
    example, so a unit pushed negative is off for all of them.
    """

    id = "vanishing-activations"
    severity = "warning"
    needs = ("layers.act_std",)
    remedies = (InitForActivation("init scaled to the activation"), BATCHNORM)
    thresholds = {"min_ratio": 1e-2, "samples": 2, "init_ratio": 0.1}
    advice = ("Scale the init to the layer: Xavier (tanh) or He (ReLU) instead of a fixed small "
              "std; or add batch norm between affine and nonlinearity.")
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("vanishing-gradients", "exploding-gradients", "update-ratio-low", "loss-flat",
                "plateau-then-drop", "underfitting", "val-plateau", "dead-relu", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """A sliding median of the last/first spread ratio."""
        super().__init__(**overrides)
        self.medians = Sustained(int(self.t["samples"]))
        self.first_sample = True

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Compare the spread of the deepest hidden layer with the first."""
        stds = [(n, e.get("act_std")) for n, e in sample.hidden]
        stds = [(n, s) for n, s in stds if s is not None]
        if len(stds) < 2 or stds[0][1] <= 0:
            return None
        (first, s0) = stds[0]
        last, s1 = min(stds[1:], key=lambda item: item[1])
        trail = ", ".join(f"{n} {s:.1e}" for n, s in stds)
        at_init, self.first_sample = self.first_sample, False
        # Mostly dead layers (a negative bias, a rate that killed them) collapse too, whatever
        # the init's scale: that is dead-relu's finding, so such samples are not judged here.
        if any(e.get("dead_frac", 0.0) >= DEAD for _, e in sample.hidden):
            return None
        if at_init and s1 / s0 < self.t["init_ratio"]:
            fold = f"{s0 / s1:.3g}x" if s1 > 0 else "to zero"
            return self.report(sample.step, f"at initialization, activation std falls {fold} "
                               f"from {s0:.2e} ({first}) to {s1:.2e} ({last}): {trail}",
                               ratio=s1 / s0, first=s0, last=s1, at_init=True)
        med = self.medians.add("ratio", s1 / s0)
        if med is not None and med < self.t["min_ratio"]:
            return self.report(sample.step, f"activation std falls from {s0:.2e} ({first}) to "
                               f"{s1:.2e} ({last}): {trail}", ratio=med, first=s0, last=s1)
        return None
