"""What centred and scaled inputs are, defined once.

The rules input-not-centered and input-not-scaled, loss-at-init's blame on the inputs, both
sanity checks (NumPy and PyTorch) and the Monitor's header read input statistics
(`babysit.data.input_stats`: per-feature means and stds, their RMS, per-channel figures for
images) and judge them here, so that the same inputs get the same verdict everywhere: raw
0..16 digit pixels are "not scaled" under `babysit train`, the Monitor and `sanity-check` alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babysit.diagnostics.targets import CENTERED_MEAN_OVER_STD

# "Scaled": the inputs' root mean square within these bounds. Xavier and He init assume unit-
# scale inputs: a first layer's pre-activation variance is fan_in * Var(w) * E[x^2], so it is
# the second moment (mean included) that counts, not the std. At RMS 3 the first layer's
# outputs, and through a ReLU net the logits, have 9x the variance the init was built for:
# loss-at-init measured tens of extra nats on images centred but not scaled (CIFAR pixel std
# ~60). Below RMS 0.1 they have a hundredth: the first layer's gradients (proportional to its
# inputs) are 10x smaller than the other layers', so its update ratio lags theirs 10x at any
# one learning rate. Pixels in [0, 1] (MNIST: RMS 0.33) and standardized features (RMS 1)
# are inside; raw 0..16 digits (RMS 7.7) and 0..255 pixels (RMS ~120) are not.
SCALED_RMS = (0.1, 3.0)


@dataclass(frozen=True)
class InputVerdict:
    """How far a set of inputs is from centred and unit scale, and what that makes it."""

    mean_over_std: float | None  # the centring measure (per channel for images); None: unknown
    rms: float | None  # root mean square of all inputs; None: unknown
    image: bool  # centring judged per colour channel
    # Constant features are counted, not judged: a pixel blank in every image (MNIST's border)
    # gets no gradient and does no harm.
    constant: int = 0

    def off_centre(self, limit: float = CENTERED_MEAN_OVER_STD) -> bool:
        """The typical |mean| exceeds `limit` x its std (input-not-centered's line)."""
        return self.mean_over_std is not None and self.mean_over_std > limit

    def unscaled(self, bounds: tuple[float, float] = SCALED_RMS) -> bool:
        """The RMS is outside `bounds` (input-not-scaled's line)."""
        return self.rms is not None and not bounds[0] <= self.rms <= bounds[1]

    @property
    def too_large(self) -> bool:
        """Too large for the init: its outputs start too large (loss-at-init's blame)."""
        return self.rms is not None and self.rms > SCALED_RMS[1]

    def problems(self, centred: float = CENTERED_MEAN_OVER_STD,
                 scaled: tuple[float, float] = SCALED_RMS) -> list[str]:
        """The findings in words, centring first ("not centered (...)", "not scaled (...)")."""
        out = []
        if self.off_centre(centred):
            where = "a colour channel's" if self.image else "the typical feature's"
            out.append(f"not centered ({where} |mean| is {self.mean_over_std:.2f}x its std)")
        if self.unscaled(scaled):
            side = "init assumes ~1" if self.rms > scaled[1] else "so small the first layer barely learns"
            out.append(f"not scaled (RMS {self.rms:.3g}; {side})")
        return out


def init_adapts(scale_first_layer: object, init: object) -> bool:
    """babysit's --scale-first-layer with Xavier / He: the first layer's init divides by the
    inputs' RMS, so their scale is not judged."""
    return scale_first_layer is True and init in ("xavier", "he")


def judge_inputs(stats: Mapping[str, float]) -> InputVerdict:
    """Judge input statistics as `babysit.data.input_stats` writes them (missing keys: unknown)."""
    channel = stats.get("channel_mean_over_std_max")
    mean_abs, std = stats.get("mean_abs_mean"), stats.get("std_mean")
    if channel is not None:
        ratio: float | None = float(channel)
    elif mean_abs is not None and std is not None and std > 0:
        ratio = float(mean_abs) / float(std)
    else:
        ratio = None
    rms = stats.get("rms")
    return InputVerdict(ratio, float(rms) if rms is not None else None, channel is not None,
                        int(stats.get("constant_features") or 0))
