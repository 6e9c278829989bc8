"""update-ratio-high / update-ratio-low: weight updates far from ~1e-3 of the weights."""

from __future__ import annotations

from babysit.diagnostics.remedy import LrToTarget, Scale, lower_lr
from babysit.diagnostics.rule import LayerSample
from babysit.diagnostics.rules._util import LayerFieldRule
from babysit.diagnostics.targets import TARGET_UPDATE_RATIO

TARGET = TARGET_UPDATE_RATIO


class UpdateRatioHigh(LayerFieldRule):
    """A layer's update/weight ratio has a median above `high` over its last `samples` samples.

    Why: the lecture's check, "weight_update / weight_value ~ 0.001". Healthy runs measured in
    babysit's fault zoo stay within about 2e-4 .. 4e-2; `high` = 1e-1, two orders of magnitude
    above the target (the band DeepDiagnosis and torchmortem use), means each step rewrites a
    tenth of the weights: the learning rate is too high. "Stays": the median of 10 samples
    (100 steps at babysit's default sampling), since the first steps after a high initial loss
    can briefly run above it in healthy runs (seen in the zoo's maxout run: 0.18 at step 0,
    0.03 by step 40).
    """

    id = "update-ratio-high"
    lr_symptom = "high"
    severity = "warning"
    needs = ("layers.update_ratio",)
    # Down to 3e-2, inside the limit where healthy runs were measured (up to 4e-2), not to
    # 1e-3: a rate cut further than needed makes a short run underfit (SGD on the spiral).
    remedies = (LrToTarget("lr for updates ~3e-2 of the weights", fallback=0.1, target=3e-2,
                           lowest=1e-3, highest=0.1),) + lower_lr(0.01, 0.001)
    field = "update_ratio"
    thresholds = {"high": 1e-1, "samples": 10}
    advice = "Lower the learning rate: updates should be about 1e-3 of the weights."
    explains = ("dead-relu", "loss-oscillation", "training-unstable")  # too high a rate

    def beyond(self, median: float) -> bool:
        """Above `high`."""
        return median > self.t["high"]

    def describe(self, layer: str, median: float) -> str:
        """The median ratio against the target and the limit."""
        return (f"layer {layer}: median update/weight ratio {median:.2e} over "
                f"{self.medians.size} samples (target ~{TARGET:g}, limit {self.t['high']:g})")


class UpdateRatioLow(LayerFieldRule):
    """A layer's update/weight ratio has a median below `low` over its last `samples` samples,
    while the loss is still above `min_loss_fraction` of its first value.

    Why: the lecture's ~1e-3 target; `low` = 1e-5 is two orders of magnitude below it (healthy
    zoo runs stay above ~1e-4). Each step then changes the weights by a hundred-thousandth:
    the learning rate is too low. A run whose loss has already fallen a lot is converging, and
    small updates are expected there, hence the loss condition. Nor are updates judged while
    the logged lr is under `decayed` (1e-2, lr-decay-too-fast's line) of its peak: then the
    schedule made them small, and raising the base rate (a "try: lr=1260" for a run whose
    StepLR took 0.01 to 1e-10) is not the fix; lr-decay-too-fast judges that stretch.
    """

    id = "update-ratio-low"
    lr_symptom = "low"
    severity = "warning"
    needs = ("layers.update_ratio", "loss")
    # Up to 3e-3, the middle (in log space) of the band healthy runs were measured in
    # (2e-4 .. 4e-2), not to 1e-3: at 1e-3 SGD runs of 40 epochs still underfit.
    remedies = (LrToTarget("lr for updates ~3e-3 of the weights", fallback=10.0, target=3e-3,
                           lowest=10.0),
                Scale("lr x10", "lr", 10.0), Scale("lr x100", "lr", 100.0))
    field = "update_ratio"
    thresholds = {"low": 1e-5, "samples": 10, "min_loss_fraction": 0.5, "decayed": 1e-2}
    advice = "Raise the learning rate: updates should be about 1e-3 of the weights."
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("loss-flat", "underfitting", "val-plateau", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Also remembers the first loss and the logged lr's peak (over the sampled records:
        no per-record hook on the hot path)."""
        super().__init__(**overrides)
        self.first_loss: float | None = None
        self.lr_peak = 0.0

    def applies(self, sample: LayerSample) -> bool:
        """Only while the net is still learning (loss above min_loss_fraction of the first) and
        the schedule has not cut the rate under `decayed` of its peak."""
        loss = sample.loss
        if loss is not None and self.first_loss is None:
            self.first_loss = loss
        if sample.lr is not None and sample.lr >= 0:
            self.lr_peak = max(self.lr_peak, sample.lr)
            if sample.lr <= self.t["decayed"] * self.lr_peak and self.lr_peak > 0:
                return False
        return (self.first_loss is None or loss is None
                or loss > self.t["min_loss_fraction"] * self.first_loss)

    def beyond(self, median: float) -> bool:
        """Below `low`."""
        return median < self.t["low"]

    def describe(self, layer: str, median: float) -> str:
        """The median ratio against the target and the limit."""
        return (f"layer {layer}: median update/weight ratio {median:.2e} over "
                f"{self.medians.size} samples (target ~{TARGET:g}, limit {self.t['low']:g})")
