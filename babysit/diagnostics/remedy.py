"""Remedies: a rule's advice as machine-readable config changes, in the order to try them.

A remedy changes options named as babysit's command line names them (lr, reg, init, bias_init,
batchnorm, dropout, activation, hidden, preprocess): the knobs a user of any framework has.
`Remedy.changes(config, finding)` gives concrete values for one run's configuration (a flat dict:
a babysit header's "config", or what a log tells of another tool's run), or None when it does not
apply there (batch norm is already on; the init already suits the activation). An option whose
current value is unknown keeps its relative form, e.g. {"lr": "x0.1"}.

Each remedy is relative to the configuration it is applied to; `babysit train --fix` applies
them to the last configuration that helped, so "lr x0.1, then x0.01" means "10x lower, and if
that did not help, 100x lower".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from babysit.diagnostics.targets import TARGET_UPDATE_RATIO

Config = Mapping[str, Any]
RELU_FAMILY = ("relu", "leaky_relu", "elu", "maxout")  # He init keeps their variance
SQUASHING = ("tanh", "sigmoid")  # Xavier init keeps theirs
MAX_LR_FACTOR = 1e6  # a measured ratio can be noise-level; no remedy moves lr further than this


def _tidy(value: float) -> float:
    """3 significant digits: 0.1 * 30 is 3.0, not 3.0000000000000004."""
    return float(f"{value:.3g}")


@dataclass(frozen=True)
class Remedy:
    """Base: `text` says the change for people; `changes` computes it for a configuration."""

    text: str

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The options to change and their new values, or None when this does not apply."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Scale(Remedy):
    """Multiply a numeric option by `factor`; `floor` stands in for a current value of 0."""

    option: str = "lr"
    factor: float = 0.1
    floor: float | None = None

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{option: value x factor}, or the relative form when the value is unknown."""
        value = config.get(self.option)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return {self.option: f"x{self.factor:g}"}
        if value == 0:
            return {self.option: self.floor} if self.floor is not None else None
        return {self.option: _tidy(value * self.factor)}


@dataclass(frozen=True)
class LrToTarget(Remedy):
    """Scale the learning rate so the measured update/weight ratio lands on `target`.

    Why: SGD's step is lr x gradient and Adam's is ~lr, so both scale with lr: one measured
    ratio tells how far off the rate is, in one attempt instead of a decade at a time.
    `fallback` is the factor when the finding carries no finite ratio.
    """

    fallback: float = 10.0
    target: float = TARGET_UPDATE_RATIO
    lowest: float = 1 / MAX_LR_FACTOR  # the factor's bounds: a diverging run's ratios are
    highest: float = MAX_LR_FACTOR  # not a measurement of the rate, so a side is capped
    only_below: float | None = None  # applies only to a measured ratio under this

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{"lr": lr x 1e-3 / measured ratio}."""
        ratio = (evidence or {}).get("update_ratio")
        if self.only_below is not None and not (
                isinstance(ratio, (int, float)) and 0 < ratio < self.only_below):
            return None
        factor = self.fallback
        if isinstance(ratio, (int, float)) and math.isfinite(ratio) and ratio > 0:
            factor = min(max(self.target / ratio, self.lowest), self.highest)
            factor = 10 ** round(math.log10(factor), 1)  # the ratio is a median: 2 digits is plenty
        return Scale(self.text, "lr", factor).changes(config)


@dataclass(frozen=True)
class RegToShare(Remedy):
    """Scale the L2 strength so that its term at initialization is `share` of the data loss.

    Why: the L2 term is reg/2 x sum(W^2), linear in reg, so the measured ratio of the two terms
    at the first step says how far off reg is, in one attempt. `share` 0.01: the lecture's
    check that regularization raises the initial loss "a little" above log C.
    """

    share: float = 0.01

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{"reg": reg x share / measured ratio}, rounded to a tenth of a decade."""
        ratio = (evidence or {}).get("ratio")
        if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and ratio > self.share):
            return None
        factor = 10 ** round(math.log10(self.share / ratio), 1)
        return Scale(self.text, "reg", factor).changes(config)


@dataclass(frozen=True)
class WhenEvidence(Remedy):
    """`remedy`, only for a finding whose evidence has `key` true (the rule measured a cause)."""

    remedy: Remedy = None  # type: ignore[assignment]
    key: str = ""

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The wrapped remedy's changes, or None without the evidence."""
        return self.remedy.changes(config, evidence) if (evidence or {}).get(self.key) else None


@dataclass(frozen=True)
class Set(Remedy):
    """Set options to fixed values; does not apply when they already have them."""

    values: tuple[tuple[str, Any], ...] = ()

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The values that differ from the config's."""
        out = {k: v for k, v in self.values if config.get(k) != v}
        return out or None


@dataclass(frozen=True)
class SlowerDecay(Remedy):
    """A learning-rate schedule `factor` times slower: a step schedule drops `factor` times less
    often, an exponential or 1/t one decays at 1/`factor` of its rate; the relative form when
    the schedule is not known (another tool's run)."""

    factor: float = 4.0

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{lr_step: x factor} for a step schedule, {lr_decay: / factor} for exp and inv."""
        schedule, step, decay = config.get("lr_schedule"), config.get("lr_step"), config.get("lr_decay")
        if schedule == "step" and isinstance(step, int):
            return {"lr_step": int(step * self.factor)}
        if schedule in ("exp", "inv") and isinstance(decay, (int, float)):
            return {"lr_decay": _tidy(decay / self.factor)}
        if schedule == "constant":
            return None
        return {"lr_step": f"x{self.factor:g}"}


def init_for(activation: Any) -> str | None:
    """He for the ReLU family, Xavier for tanh and sigmoid, None when unknown."""
    if activation in RELU_FAMILY:
        return "he"
    if activation in SQUASHING:
        return "xavier"
    return None


@dataclass(frozen=True)
class InitForActivation(Remedy):
    """Xavier for tanh and sigmoid, He for the ReLU family (the lecture's scaled init), with
    zero biases when they start negative (a negative start kills ReLUs from step 0)."""

    known_only: bool = False  # change the init only when the log says which one is used

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{"init": ...} (and bias_init 0), or None when the init already suits."""
        init = init_for(config.get("activation"))
        out: dict[str, Any] = {}
        if self.known_only and "init" not in config:
            pass
        elif init is None:
            out["init"] = "he (ReLU family) or xavier (tanh, sigmoid)"
        elif config.get("init") != init:
            out["init"] = init
        bias = config.get("bias_init")
        if isinstance(bias, (int, float)) and bias < 0:
            out["bias_init"] = 0.0
        return out or None


@dataclass(frozen=True)
class Center(Remedy):
    """Center the inputs: per channel for images, standardize (center and scale) otherwise."""

    for_images: ClassVar[str] = "per-channel"

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{"preprocess": ...}, or None when the inputs are already treated that way."""
        want = self.for_images if config.get("image_shape") else "standardize"
        if config.get("preprocess") in (want, "auto"):
            return None
        return {"preprocess": want}


@dataclass(frozen=True)
class Rescale(Center):
    """Bring the inputs to unit scale: image (centre, divide by one spread) for images,
    standardize otherwise."""

    for_images: ClassVar[str] = "image"


@dataclass(frozen=True)
class Widen(Remedy):
    """Multiply every hidden layer's width by `factor`."""

    factor: int = 4

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{"hidden": [...]} wider, or the relative form when the sizes are unknown."""
        hidden = config.get("hidden")
        if not isinstance(hidden, (list, tuple)) or not hidden:
            return {"hidden": f"x{self.factor} units"}
        return {"hidden": [int(h) * self.factor for h in hidden]}


@dataclass(frozen=True)
class Deepen(Remedy):
    """Add one hidden layer as wide as the widest (doubling it when it is narrower than 16)."""

    def changes(self, config: Config, evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """{"hidden": [..., one more]}."""
        hidden = config.get("hidden")
        if not isinstance(hidden, (list, tuple)) or not hidden:
            return {"hidden": "one more layer"}
        width = max(int(h) for h in hidden)
        width = width if width >= 16 else 2 * width
        return {"hidden": [int(h) for h in hidden] + [width]}


BATCHNORM = Set("batch norm", (("batchnorm", True),))


def lower_lr(*factors: float) -> tuple[Remedy, ...]:
    """lr x f for each factor, as separate remedies tried in turn."""
    return tuple(Scale(f"lr x{f:g}", "lr", f) for f in factors)


def plan(remedies: tuple[Remedy, ...], config: Config,
         evidence: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The remedies that apply to `config`, in order: [{"change": text, "set": {...}}, ...]."""
    out = []
    for remedy in remedies:
        changes = remedy.changes(config, evidence)
        if changes:
            out.append({"change": remedy.text, "set": changes})
    return out


def show_value(value: Any) -> str:
    """An option's value as typed: 0.003, 100,100."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(changes: dict[str, Any]) -> str:
    """{'lr': 3.0, 'hidden': [8]} -> 'lr=3, hidden=8'."""
    return ", ".join(f"{k}={show_value(v)}" for k, v in changes.items()) or "no change"
