"""loss-oscillation: big swings up and down with no net progress."""

from __future__ import annotations

import math
from collections import deque
from itertools import pairwise

from babysit.diagnostics.progress import D2
from babysit.diagnostics.remedy import Scale, lower_lr
from babysit.diagnostics.rule import Finding, Rule, Window


class LossOscillation(Rule):
    """Over the last `windows` window averages: the loss swings by more than `swing` of its
    level, changes direction at least `turns` x as often as it could, makes less than
    `max_progress` net progress, and sits above `min_level` x its starting value.

    Why: a learning rate too high (or a batch too small) makes each step overshoot, so the loss
    bounces instead of descending. Window averages already remove ordinary minibatch noise, so
    swings of half the loss level between windows are not noise. The level condition keeps a
    converged or converging run, whose small loss has large relative wiggles (a few hard
    examples per batch dominate it), from firing. Nor is a swing the windows' own sampling
    noise explains: with small batches a window of 10 records is a mean of 40 examples, and a
    noisy data set's (moons at 35% noise, batch 4) window means scatter by half their level
    when nothing is wrong. Each window's spread (its range over d2, the expected range of n
    normal values in standard deviations) gives the per-record noise, and the range of the
    `windows` means must exceed `noise` (2) x what that noise alone would give them (d2(20)
    = 3.7 standard errors): twice what sampling gives. Moons at batch 4 swung 1.4-1.5x its
    noise; Adam at a far too high rate on the spiral 2.1x, after ReLUs died 6.6-7.2x.
    """

    id = "loss-oscillation"
    lr_symptom = "high"
    severity = "warning"
    needs = ("loss",)
    remedies = (Scale("lr x0.3", "lr", 0.3),) + lower_lr(0.1)
    thresholds = {"windows": 20, "swing": 0.5, "turns": 0.5, "max_progress": 0.05,
                  "min_level": 0.5, "noise": 2.0}
    advice = ("Lower the learning rate (try 3-10x) or use a larger batch; momentum or Adam "
              "also damp the bouncing.")

    def __init__(self, **overrides: float) -> None:
        """Keeps the last `windows` window means."""
        super().__init__(**overrides)
        self.recent: deque[float] = deque(maxlen=int(self.t["windows"]))
        self.start: float | None = None
        self.errors: deque[float] = deque(maxlen=int(self.t["windows"]))  # each mean's noise

    def on_window(self, window: Window) -> Finding | None:
        """Judge the last `windows` windows."""
        if self.start is None:
            self.start = window.mean
        self.recent.append(window.mean)
        n = window.count
        self.errors.append((window.max - window.min) / D2[min(n, 10)] / math.sqrt(n) if n > 1 else 0.0)
        m = list(self.recent)
        if len(m) < self.recent.maxlen or self.start <= 0:  # type: ignore[operator]
            return None
        level = sum(m) / len(m)
        if level <= 0:
            return None
        swing = (max(m) - min(m)) / level
        progress = (m[0] - m[-1]) / m[0] if m[0] > 0 else 0.0
        if not (swing > self.t["swing"] and progress < self.t["max_progress"]
                and level > self.t["min_level"] * self.start):
            return None  # the cheap conditions first: most windows stop here
        diffs = [b - a for a, b in pairwise(m)]
        turns = sum(1 for a, b in pairwise(diffs) if a * b < 0) / max(1, len(diffs) - 1)
        sampling = D2[20] * sum(self.errors) / len(self.errors)  # the range noise alone gives
        if max(m) - min(m) <= self.t["noise"] * sampling:
            return None
        if turns >= self.t["turns"]:
            return self.report(window.last_step, f"loss swings by {100 * swing:.0f}% of its level "
                               f"{level:.3g} over the last {len(m)} windows, turning "
                               f"{100 * turns:.0f}% of the time, with {100 * progress:.1f}% net "
                               "progress", swing=swing, turns=turns, progress=progress)
        return None
