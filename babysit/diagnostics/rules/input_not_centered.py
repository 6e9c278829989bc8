"""input-not-centered: the inputs sit far from zero compared with their spread."""

from __future__ import annotations

from babysit.diagnostics.inputs import judge_inputs
from babysit.diagnostics.records import Header
from babysit.diagnostics.remedy import Center
from babysit.diagnostics.rule import Finding, Rule
from babysit.diagnostics.targets import CENTERED_MEAN_OVER_STD


class InputNotCentered(Rule):
    """The typical feature's |mean| exceeds `max_mean_over_std` x its std (header input_stats).

    Why: lecture: zero-mean inputs give good gradients; if every input of a unit is positive,
    all its weight gradients share one sign and the updates zig-zag. With |mean| > std a
    Gaussian-like feature has the sign of its mean more than 84% of the time. The measure is
    scale-free on purpose: an input merely outside [-1, 1] is not a problem (the known false
    alarm of DeepDiagnosis), and images in [0, 1] with mean 0.13 and std 0.3 are not flagged.
    Images are judged per colour channel (the header's channel_mean_over_std_max), as the
    lecture centres them ("for images, center only": subtract the mean image or the mean of
    each channel): per-pixel means of images differ by position (a digit's border is always
    blank), which per-channel centring leaves in place and which does no harm, while a whole
    channel sitting off zero is the all-positive input the lecture warns about.
    What it explains: inputs too large (the offset is part of their RMS); a shared offset
    dominates every unit's pre-activation, so a unit has one sign for all examples (a ReLU
    unit is then on for all or dead for all), and the zig-zag updates make learning slow (a
    flat loss, a late drop, a net that stalls short of fitting).
    """

    id = "input-not-centered"
    severity = "warning"
    needs = ("header.input_stats",)
    remedies = (Center("center the inputs (per channel for images, else standardize)"),)
    thresholds = {"max_mean_over_std": CENTERED_MEAN_OVER_STD}
    # In words every framework shares: the remedies ("try:") say it in the run's own terms.
    advice = ("Center the inputs (subtract the mean image or each channel's mean for images) "
              "or standardize them, with statistics from the training split only.")
    # input-not-scaled: an offset raises the inputs' RMS (the mean is part of it), and the
    # advice (standardize) fixes both.
    explains = ("input-not-scaled", "saturated-activations", "loss-at-init", "dead-relu",
                "loss-flat", "plateau-then-drop", "underfitting", "not-learning")

    def on_header(self, header: Header) -> Finding | None:
        """Judge the typical feature (each colour channel for images): |mean| over std."""
        verdict = judge_inputs(header.input_stats)
        ratio = verdict.mean_over_std
        if ratio is None or not verdict.off_centre(self.t["max_mean_over_std"]):
            return None
        if verdict.image:
            return self.report(0, f"image inputs are off-center: a colour channel's mean is "
                               f"{ratio:.3g}x its std", channel_mean_over_std=ratio)
        stats = header.input_stats
        mean_abs, std = stats["mean_abs_mean"], stats["std_mean"]
        return self.report(0, f"inputs are off-center: the average feature's |mean| "
                           f"{mean_abs:.3g} is {ratio:.3g}x its std {std:.3g}",
                           mean_abs_mean=mean_abs, std_mean=std, ratio=ratio)
