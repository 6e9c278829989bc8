"""How far the training loss has come: one fact every rule reads, instead of each rule
comparing its own blocks of windows.

The lecture's "loss not going down" is a loss that never went down. A loss that came down
from where it started and then levelled off has converged (or plateaued: another finding), and
a pretrained model that declines slowly from its first log is learning; neither wants the
learning rate raised 10x. Rules that judge a stuck loss ask `went_down` first.

Measured in the run's own noise: the start is the first logged loss (the loss at
initialization, or the first interval's mean), the best is the lowest window mean so far, and
the drop between them must be at least `WENT_DOWN` of the start and `NOISE_Z` standard
deviations of one record's noise (each window's range over d2, the expected range of n normal
values; the median over the latest 64 windows). A stuck run whose first value is a noisy 2.5 SDs high
(tests/families.py) must not read as a descent: that first value, the stuck run's own 2% drift
and the luck of the lowest of ~60 window means (~0.8 SD: each is a mean of 10 records) add up
to about 4 SDs; 5 leaves a margin. Real descents are far past it (T5's: 19 SDs).
"""

from __future__ import annotations

import math
from collections import deque
from statistics import median

from babysit.config import MAX_CLASSES
from babysit.diagnostics.rule import Window

# d2(n): the expected range of n normal values, in standard deviations (range-to-SD factors)
D2 = {1: 1.0, 2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970,
      10: 3.078, 20: 3.735}
# A drop of 10% of the start: twice loss-flat's 5% margin (a block mean's noise is ~2%), the
# point at which loss-flat already withdrew a finding. The flat runs labelled in ../shared
# came down at most 5% from their first loss; the converged and fine-tuned ones it was wrongly
# raised on, 12-37% (T5 summarization 1.996 -> 1.764 over 215k steps).
WENT_DOWN = 0.10
# A first value above twice what an untrained softmax scores over a million classes, and an
# order of magnitude above the rest of its window, is a blow-up the net came back from within
# its first interval (the "929 then 59 epochs at ln 3" run), not where learning started: the
# start is then the first window's mean without it. The ratio keeps a regression's loss of
# 1e4 (above the line from its first record) a start.
BLOW_UP = 2.0 * math.log(MAX_CLASSES)
BLOW_UP_RATIO = 10.0
RANGES = 64
NOISE_Z = 5.0  # a single first value against the lowest of many window means: see above


def without_blow_up(window: Window) -> float:
    """The window's mean, leaving out a first value that is a blow-up (see BLOW_UP)."""
    if window.count < 2 or window.first <= BLOW_UP:
        return window.mean
    rest = (window.mean * window.count - window.first) / (window.count - 1)
    return rest if window.first > BLOW_UP_RATIO * abs(rest) else window.mean


class LossProgress:
    """The start, the best window mean and the per-record noise of the training loss."""

    def __init__(self) -> None:
        """Nothing seen yet."""
        self.start: float | None = None
        self.best: float | None = None
        # each window's range over d2, one record's SD, for the latest RANGES windows: the
        # engine's memory stays flat on a stream of millions of records
        self._ranges: deque[float] = deque(maxlen=RANGES)

    def on_window(self, window: Window) -> None:
        """Take in one closed window of the loss."""
        if self.start is None:
            rest = without_blow_up(window)
            self.start = window.first if rest == window.mean else rest
        if window.count > 1:
            self._ranges.append((window.max - window.min) / D2[min(window.count, 10)])
        if self.best is None or window.mean < self.best:
            self.best = window.mean

    @property
    def noise(self) -> float:
        """One record's standard deviation around its window's mean (0 before any window)."""
        return median(self._ranges) if self._ranges else 0.0

    @property
    def came(self) -> float:
        """How much of the start the loss has shed at its best (0.2: a fifth; 0 when unknown
        or when the loss never went below its start)."""
        if self.start is None or self.best is None or self.start <= 0:
            return 0.0
        return max(0.0, (self.start - self.best) / self.start)

    def went_down(self, fraction: float = WENT_DOWN) -> bool:
        """Whether the loss came down from its start by `fraction` of it and more than its noise."""
        if self.start is None or self.best is None:
            return False
        drop = self.start - self.best
        return drop >= fraction * abs(self.start) and drop > NOISE_Z * self.noise
