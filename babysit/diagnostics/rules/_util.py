"""Helpers shared by rules: judging "sustained" conditions over the last few samples."""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar

from babysit.diagnostics.rule import Finding, LayerSample, Rule
from babysit.readers.common import number


class Sustained:
    """Per-key sliding windows of the last `size` values; the median once a window is full."""

    def __init__(self, size: int) -> None:
        """Windows of `size` values."""
        self.size = max(1, int(size))
        self.values: dict[str, deque[float]] = {}

    def add(self, key: str, value: float) -> float | None:
        """Add a value; the median of the window if it is full, else None."""
        window = self.values.get(key)
        if window is None:
            window = self.values[key] = deque(maxlen=self.size)
        window.append(value)
        if len(window) < self.size:
            return None
        ordered = sorted(window)  # statistics.median costs 3x more on these tiny windows
        mid = self.size // 2
        return ordered[mid] if self.size % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def accuracy_noise(p: float, n: int | None, z: float) -> float:
    """z standard errors of an accuracy p measured on n examples (0 when n is unknown)."""
    if not n:
        return 0.0
    p = min(max(p, 0.0), 1.0)
    return z * math.sqrt(p * (1 - p) / n)


def chance_band(chance: float, n: int | None, margin: float, z: float) -> float:
    """The highest accuracy still within noise of `chance`: `margin` above it, or `z` standard
    errors on n examples when that is more."""
    return chance + max(margin, accuracy_noise(chance, n, z))


def accuracy_floor(loss: float | None) -> float | None:
    """The least training accuracy a mean cross-entropy `loss` allows: 1 - loss / ln 2.

    A misclassified example's right class has at most half the probability (another class has
    more), so it costs at least ln 2; a mean loss L therefore allows an error rate of at most
    L / ln 2. A training loss of 0.0001 means at least 99.99% of the training batches right.
    None for a loss that is not a finite, non-negative number.
    """
    if loss is None or not math.isfinite(loss) or loss < 0:
        return None
    return max(0.0, 1.0 - loss / math.log(2))


def loss_noise(p: float, n: int | None, z: float) -> float:
    """z relative standard errors of a cross-entropy averaged over n examples at accuracy p.

    Model: examples classified right contribute ~0, the (1 - p) wrong ones a similar large
    loss, so per-example losses have a coefficient of variation sqrt(p / (1 - p)): the better
    the classifier, the more its mean loss hangs on a few confident mistakes (CV 5.7 at 97%).
    p is clipped to [0.5, 0.99]. 0 when n is unknown.
    """
    if not n:
        return 0.0
    p = min(max(p, 0.5), 0.99)
    return z * math.sqrt(p / (1 - p)) / math.sqrt(n)


MAX_INFERRED_CLASSES = 1000


def classes_from_loss(loss: float | None) -> int | None:
    """The class count C whose log C is nearest a first softmax loss; None if implausible.

    At initialization a softmax classifier's loss is about log C (the lecture's first check),
    so a log without a header still gives its class count away: 2.30 -> 10, 1.10 -> 3. A first
    loss logged after some training (an epoch's mean) is lower and gives a smaller C, which only
    moves the accuracy marks that depend on it a little (they saturate as C grows). Losses
    below log(2) / 2 or above log(1000) are not taken for a classifier's initial loss.
    """
    if loss is None or not math.isfinite(loss) or not math.log(2) / 2 <= loss <= math.log(
            MAX_INFERRED_CLASSES):
        return None
    return max(2, round(math.exp(loss)))


EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")


NEAR_CHANCE = 1.5  # an accuracy under 1.5 / C: the net has barely left chance
EARLY_EPOCH = 0.25  # a loss logged in the first quarter of the first epoch is about the init's


def classes_from_first(record: dict) -> int | None:
    """C from the first record's loss, only when that is still the loss at initialization:
    logged at step 0 (not an epoch's mean), or beside an accuracy still near the chance of
    that C (under 1.5 / C: the net has barely started, so its loss is still about log C).

    A loss logged after training started is lower and gives a wrong C: a fine-tune's first
    loss at step 500 (0.7) read as 2 classes, a 250-speaker run's first epoch (4.9 at 27%
    accuracy) as 132, while a Keras run's first epoch at 11% with 2.32 is 10 classes.
    """
    classes = classes_from_loss(number(record.get("loss")))
    if classes is None:
        return None
    if not any(k in record for k in EPOCH_FIELDS):
        epoch = number(record.get("epoch"))
        # A whole-number epoch 0 (Lightning's, Keras's) covers all of the first epoch; only a
        # fractional one (Hugging Face's 0.02) says how far into it the loss was logged.
        early = epoch is not None and isinstance(record.get("epoch"), float) and 0 <= epoch <= EARLY_EPOCH
        if record.get("step") == 0 or early:
            return classes
    return near_chance(classes, record)


def near_chance(classes: int | None, record: dict) -> int | None:
    """`classes` if the record's accuracy (training, else validation) is under 1.5 / classes."""
    acc = number(record.get("train_acc"))
    acc = acc if acc is not None else number(record.get("val_acc"))
    return classes if classes and acc is not None and 0 <= acc < NEAR_CHANCE / classes else None


def fitted_level(num_classes: int | None, fraction: float, default: float) -> float:
    """The accuracy `fraction` of the way from chance (1/C) to perfect; `default` without C."""
    if num_classes is None or num_classes < 2:
        return default
    chance = 1.0 / num_classes
    return chance + fraction * (1.0 - chance)


class LayerFieldRule(Rule):
    """Base for rules of the form "a layer's `field`, as a median over `samples` samples, is
    beyond a threshold": subclasses set `field` and implement `beyond` and `describe`."""

    field: ClassVar[str]

    def __init__(self, **overrides: float) -> None:
        """Per-layer sliding medians of `field`."""
        super().__init__(**overrides)
        self.medians = Sustained(int(self.t["samples"]))

    def beyond(self, median: float) -> bool:
        """True when the median is past the threshold."""
        raise NotImplementedError

    def describe(self, layer: str, median: float) -> str:
        """The finding's message, with the numbers."""
        raise NotImplementedError

    def applies(self, sample: LayerSample) -> bool:
        """Extra conditions on the whole sample (default: none)."""
        return True

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Update each layer's median and report the first layer past the threshold."""
        applies = self.applies(sample)
        for name, entry in sample.layers:
            value = entry.get(self.field)
            if value is None:
                continue
            med = self.medians.add(name, value)
            if applies and med is not None and self.beyond(med):
                return self.report(sample.step, self.describe(name, med), layer=name,
                                   **{self.field: med, **self.more_evidence(name)})
        return None

    def more_evidence(self, layer: str) -> dict[str, Any]:
        """Evidence beyond the median, for messages and remedies (default: none)."""
        return {}
