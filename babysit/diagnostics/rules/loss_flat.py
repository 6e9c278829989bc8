"""loss-flat: after many steps the loss has barely moved from where it started."""

from __future__ import annotations

from collections import deque

from babysit.diagnostics.progress import without_blow_up
from babysit.diagnostics.remedy import Scale
from babysit.diagnostics.rule import Finding, Record, Rule, Window


class LossFlat(Rule):
    """After `min_steps` steps, the average of the latest `block` windows is within `min_drop`
    (relative) of the average of the first `block` windows.

    Why: the lecture's "loss barely changing" means the learning rate is too low (its example:
    1e-6); a dead net (no gradient reaching the weights) looks the same. A workable rate
    removes well over 5% of the initial loss within a few hundred updates. Comparing averages
    of `block` windows (50 records) keeps minibatch noise (often 10% of the loss per batch,
    so ~2% on such an average) well inside that margin, in both directions: a loss that rose
    is not flat. Superseded by plateau-then-drop when the loss later falls suddenly (then the
    flat start was a bad initialization), and by loss-explosion / loss-nan.
    Withdrawn once the loss (the latest window's mean) has moved by `withdraw` x min_drop
    from the first block: then it was a slow start,
    not a stuck run (10% is five times the noise of a block's mean, and the gap between 5%
    and 10% keeps the finding from flapping; the zoo's 2-unit nets start this slowly, then
    fall 16%, and their problem is their size). A known limit: fine-tuning from a good start
    can improve by less than 5%.
    Steps are training steps, whatever the logging interval: a loss logged every 10 steps
    spans 200 steps in 20 records. When the run has been logged too sparsely for two blocks of
    `block` windows by then, the first and the latest half of the windows are compared, down to
    `min_block` windows each (20 records: the noise of their mean, ~2% of the loss, stays
    inside the margin), or down to one window each when every loss in both lies within
    `min_drop` of its window's mean (a loss that quiet cannot hide a drop of `min_drop`).
    A learning-rate warmup is not a flat loss: while the logged lr keeps rising (by more than
    `warmup_rise`, 0.1%: far above float rounding, far below any schedule's step) the rate is
    deliberately small, so the comparison starts from the first window after the last rise.
    A loss that came down from its start by `withdraw` x min_drop (10%) and 3 noise SDs
    (facts.progress, the first logged loss to the best window) is
    not flat, whatever a later stretch does: it converged, or it is a pretrained model
    declining slowly (T5 1.996 -> 1.764 over 215k steps, "fell 1.4%" between two blocks).
    A log of one row per epoch (Keras's CSVLogger) counts epochs, not steps: `min_epochs` 10
    epochs are at least the 200 updates of `min_steps` on any data set of 640 examples or more
    at Keras's default batch of 32 (20 updates an epoch); a loss moving 0.08% in 20 epochs at
    5.5% accuracy was "no problems found". Its first row is the first epoch's mean, which holds
    whatever the loss did at initialization: one above twice what an untrained softmax scores
    over a million classes (27.6, loss-explosion's line) and 10x the rest of its window
    (progress.without_blow_up: a regression's 1e4 start is no blow-up) is one the net came back from
    within the epoch, not where learning started, and is left out of the start (a run whose
    first epoch averaged 929 and then sat at 1.0986 for 59 epochs learned nothing after it).
    """

    id = "loss-flat"
    lr_symptom = "low"
    severity = "warning"
    needs = ("loss",)
    provisional = True  # withdrawn when later evidence contradicts it
    remedies = (Scale("lr x10", "lr", 10.0), Scale("lr x100", "lr", 100.0), Scale("lr x1000", "lr", 1000.0))
    thresholds = {"min_steps": 200, "min_epochs": 10, "min_drop": 0.05, "block": 5,
                  "min_block": 2, "withdraw": 2, "warmup_rise": 0.001}
    advice = ("Raise the learning rate (try 10x); if that does not help, check that gradients "
              "reach the weights (dead units, zero init, vanishing activations).")
    # not-learning as a consequence, not hidden: a net at chance is an error however it got
    # there (docs/findings.md), and this names why
    explains = ("underfitting", "val-plateau", "not-learning")

    def __init__(self, **overrides: float) -> None:
        """Keeps the first block's sum and the latest `block` window means."""
        super().__init__(**overrides)
        self.lr_peak = 0.0
        self.warm_until = -1  # the last step whose lr rose: the warmup lasts until then
        self.per_epoch = False  # each record an epoch's summary (a Keras CSV): steps are epochs
        self._restart()

    def _restart(self) -> None:
        """Forget the windows seen so far: the comparison starts again."""
        self.first: list[float] = []
        self.first_step: int | None = None
        self.latest: deque[float] = deque(maxlen=int(self.t["block"]))
        self.windows = 0
        self.first_quiet = False  # the first window's losses all lie within min_drop of its mean

    def on_first_step(self, record: Record) -> Finding | None:
        """Notice a log of one row per epoch (Keras's CSVLogger): its steps are epochs."""
        self.per_epoch = any(k in record for k in ("train_acc", "val_acc", "val_loss"))
        return None

    def on_step(self, record: Record) -> Finding | None:
        """Note where a rising learning rate (a warmup) was last seen."""
        lr = record.get("lr")
        if lr.__class__ is float and lr > self.lr_peak:
            if self.lr_peak > 0 and lr > self.lr_peak * (1 + self.t["warmup_rise"]):
                self.warm_until = record["step"]
            self.lr_peak = lr
        return None

    def on_window(self, window: Window) -> Finding | None:
        """Compare the latest block with the first, once enough steps have passed."""
        if window.first_step <= self.warm_until and not self.fired:
            self._restart()  # still warming up: judge from after the warmup
            return None
        if self.facts.progress.went_down(self.t["withdraw"] * self.t["min_drop"]):
            # it came down and levelled off, or declines slowly: not a flat loss
            if self.fired:
                self.finding = None
            return None
        quiet = window.mean > 0 and (window.max - window.min) / window.mean < self.t["min_drop"]
        if self.first_step is None:
            self.first_step, self.first_quiet = window.first_step, quiet
        mean = without_blow_up(window) if self.per_epoch and window.index == 0 else window.mean
        if len(self.first) < self.latest.maxlen:  # type: ignore[operator]
            self.first.append(mean)
        self.latest.append(window.mean)
        self.windows += 1
        span = window.last_step - self.first_step
        k = min(len(self.latest), self.windows // 2)  # first and latest blocks do not overlap
        enough = k >= self.t["min_block"] or (k >= 1 and quiet and self.first_quiet)
        if span < (self.t["min_epochs"] - 1 if self.per_epoch else self.t["min_steps"]) or not enough:
            return None
        start = sum(self.first[:k]) / k
        now = sum(list(self.latest)[-k:]) / k
        if start <= 0:
            return None
        change = (start - now) / start
        moved = (start - self.latest[-1]) / start  # where the loss is now: the latest window
        if self.fired and abs(moved) >= self.t["withdraw"] * self.t["min_drop"]:
            self.finding = None
        if abs(change) < self.t["min_drop"]:
            # said as the loss moved: a loss that fell 0.1% once read "+0.1%"
            how = (f"fell {100 * change:.1f}%" if change >= 0.0005 else
                   f"rose {-100 * change:.1f}%" if change <= -0.0005 else "did not move")
            return self.report(window.last_step, f"loss {how} in {span} steps "
                               f"(average {start:.4g} at the start, {now:.4g} now)",
                               start=start, now=now, drop=change)
        return None
