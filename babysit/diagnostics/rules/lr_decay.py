"""lr-decay-too-fast: the learning-rate schedule cut the rate while the loss was still falling,
and the loss stopped as the rate collapsed."""

from __future__ import annotations

import math
from collections import deque

from babysit.diagnostics.remedy import Set, SlowerDecay
from babysit.diagnostics.rule import Finding, Record, Rule

# A fall counts at 2 standard errors of the noise (one-sided, 2.3% by chance): it is one of three
# conditions, with a collapse as long as the fast stretch and a flat loss since, so chance alone
# does not fire the rule; 3 would miss a per-step log with 5% noise and 40 records at the peak.
Z = 2.0
# A fast stretch of at least this many records is judged on the slope of its second half; a
# shorter one by its mean against the loss after the collapse (a plateau schedule cuts only after
# `patience` evaluations without gain, so it cannot have converged and been cut within 3).
LATE_HALF = 4


class Thinned:
    """A series of unknown length in at most 2 x `cap` means of equal runs of values: when full,
    neighbours are averaged in pairs (memory stays flat on a million-record log)."""

    def __init__(self, cap: int = 32) -> None:
        """Empty."""
        self.cap, self.per = cap, 1
        self.means: list[float] = []
        self._run: list[float] = []

    def add(self, value: float) -> None:
        """One more value."""
        self._run.append(value)
        if len(self._run) == self.per:
            self.means.append(sum(self._run) / self.per)
            self._run = []
            if len(self.means) == 2 * self.cap:
                self.means = [(a + b) / 2 for a, b in zip(self.means[::2], self.means[1::2], strict=True)]
                self.per *= 2

    def late_slope(self) -> tuple[float, float] | None:
        """(slope per value, its spread factor) of a least-squares line
        through the second half of the series: the slope's standard error is one value's SD
        times the factor. None for a series under `LATE_HALF` means: too short to have a half."""
        values = self.means
        if len(values) < LATE_HALF:
            return None
        late = values[len(values) // 2:]
        n = len(late)
        xs = [i * self.per for i in range(n)]  # in values, not means
        x_mean, y_mean = sum(xs) / n, sum(late) / n
        sxx = sum((x - x_mean) ** 2 for x in xs)
        slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, late, strict=True)) / sxx
        # each mean averages `per` values: its SD is one value's / sqrt(per)
        return slope, math.sqrt(1 / (sxx * self.per))

    def mean(self) -> tuple[float, int]:
        """The mean of every value and how many there are."""
        count = len(self.means) * self.per + len(self._run)
        total = sum(self.means) * self.per + sum(self._run)
        return total / count, count


class LrDecayTooFast(Rule):
    """The logged lr has fallen to `collapsed` x its peak; the loss fell by `min_drop` while
    the rate was within `fast` x the peak, and has moved less than `min_drop` since the rate
    collapsed; the run has spent at least as many records at the collapsed rate as at the fast
    one, and at least `min_records`.

    Why: the lecture lists the decay schedule as a hyperparameter of its own; a rate that decays
    too fast stops learning early, and then every symptom of a rate too low follows (tiny
    updates, a flat loss, underfitting) though the rate the run started with was right: the
    advice is the schedule's (decay later or less), never "raise the base rate 25,000x".
    `collapsed` = 1e-2, two decades under the peak: a run whose updates were on the lecture's
    1e-3 target at the peak then updates by 1e-5 of the weights, update-ratio-low's line.
    `fast` = 0.1 (one decade). A healthy schedule spends most of its run near the peak: a
    cosine or linear decay to 0 spends its last 1-6% under 1e-2 of it, a step schedule (x0.1
    at 50% and 75%) its last quarter, so "at least as long collapsed as fast" holds only for a
    rate cut early (StepLR(step_size=1, gamma=0.1) over 12 epochs: 10 of them collapsed). The
    loss must have been falling at the fast rate, in the second half of that stretch when it
    holds `LATE_HALF` records or more (`min_drop`, 5%, the loss-flat rule's margin): a run that
    never learned is left to loss-flat and its advice, and a loss that came down and levelled
    off before a plateau schedule (ReduceLROnPlateau) cut the rate again and again was not cut
    while falling. A plateau schedule cuts only after `patience` evaluations without gain, so a
    fast stretch of under 4 records (a per-epoch log) is judged whole. Each stretch is judged by
    the mean of its first and of its last `avg` records (10: a minibatch's 10% noise becomes ~3%
    on the mean, inside the margin), fewer when it is short (a per-epoch log), never overlapping.
    """

    id = "lr-decay-too-fast"
    severity = "warning"
    needs = ("loss", "lr")
    provisional = True  # withdrawn if the loss moves again (a restart, a warm schedule)
    remedies = (SlowerDecay("decay 4x slower"), Set("a constant learning rate",
                                                     (("lr_schedule", "constant"),)))
    thresholds = {"collapsed": 1e-2, "fast": 0.5, "min_drop": 0.05, "falling": 0.02,
                  "min_records": 10, "avg": 10}
    advice = ("The learning-rate schedule decays too fast: the loss was still falling when the "
              "rate collapsed. Decay later or less (a larger step_size or a gamma nearer 1, "
              "a T_max of the whole run, more patience); keep the base rate.")
    supersedes = ("update-ratio-low", "loss-flat")  # their "raise the rate" is the wrong fix
    explains = ("underfitting", "val-plateau", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Nothing seen yet."""
        super().__init__(**overrides)
        avg = max(1, int(self.t["avg"]))
        self.peak = 0.0
        self.fast = Thinned()  # the losses at a fast rate, thinned to bounded memory
        self.slow_head: list[float] = []  # the first losses at the collapsed rate
        self.slow_tail: deque[float] = deque(maxlen=avg)
        self.slow_sum = self.slow_squares = 0.0  # the collapsed stretch's spread: its noise
        self.n_fast = self.n_slow = 0
        self.collapsed_step = 0  # where the rate collapsed: the finding starts there

    def on_step(self, record: Record) -> Finding | None:
        """Sort each record's loss by the rate it was taken at."""
        lr, loss = record.get("lr"), record.get("loss")
        if lr.__class__ is not float or loss is None or lr < 0:
            return None
        avg = self.slow_tail.maxlen or 1
        if lr > self.peak:
            self.peak = lr
        if lr >= self.t["fast"] * self.peak:
            self.fast.add(loss)
            self.n_fast += 1
            if self.n_slow:  # the rate came back up (a restart): judge the new stretch afresh
                self.slow_head, self.n_slow = [], 0
                self.slow_sum = self.slow_squares = 0.0
                self.slow_tail.clear()
                self.finding = None
            return None
        if lr > self.t["collapsed"] * self.peak:
            return None
        self.n_slow += 1
        if self.n_slow == 1:
            self.collapsed_step = record["step"]
        if len(self.slow_head) < avg:
            self.slow_head.append(loss)
        self.slow_tail.append(loss)
        self.slow_sum += loss
        self.slow_squares += loss * loss
        return self._judge(record["step"], lr)

    def _judge(self, step: int, lr: float) -> Finding | None:
        if self.n_slow < max(self.n_fast, self.t["min_records"]):
            return None
        if self.n_fast == 0:
            return None
        mean = lambda values: sum(values) / len(values)  # noqa: E731
        k = min(len(self.slow_head), self.n_slow // 2)
        collapsed_at, now = mean(self.slow_head[:k]), mean(list(self.slow_tail)[-k:])
        # one record's SD, measured on the collapsed stretch (flat, or this rule would not judge)
        sd = math.sqrt(max(0.0, self.slow_squares / self.n_slow - (self.slow_sum / self.n_slow) ** 2))
        line = self.fast.late_slope()
        if line is not None:  # long enough: was it still falling in its second half?
            slope, spread = line
            start, _ = self.fast.mean()
            falling = -slope > Z * sd * spread
            fell = -slope * self.n_fast / 2 / start if start > 0 else 0.0  # over that half
        else:  # a short stretch at the fast rate: did the loss fall from it to the collapse?
            start, n_start = self.fast.mean()
            falling = start - collapsed_at > Z * sd * math.sqrt(1 / n_start + 1 / k)
            fell = (start - collapsed_at) / start if start > 0 else 0.0
        if start <= 0 or collapsed_at <= 0:
            return None
        moved = abs(collapsed_at - now) / collapsed_at
        if self.fired and moved >= self.t["min_drop"]:
            self.finding = None  # the loss moves again at the low rate: it was not stuck
            return None
        if not falling or fell < self.t["falling"] or moved >= self.t["min_drop"]:
            return None
        finding = self.report(self.collapsed_step, f"lr fell under {self.t['collapsed']:g}x its "
                              f"peak {self.peak:.3g} at step {self.collapsed_step} while the loss "
                              f"was still falling ({100 * fell:.1f}% in its last stretch at the "
                              f"peak); since then it moved {100 * moved:.1f}% in {self.n_slow} "
                              f"records (lr now {lr:.3g})", peak=self.peak, lr=lr, fell=fell,
                              moved=moved)
        finding.end_step = step
        return finding
