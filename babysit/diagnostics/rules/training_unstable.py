"""training-unstable: the loss keeps jumping back up, or training accuracy falls from its best."""

from __future__ import annotations

import math
from collections import deque

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.remedy import lower_lr
from babysit.diagnostics.rule import Finding, Rule, Window
from babysit.diagnostics.rules._util import chance_band
from babysit.readers.common import is_finite


class TrainingUnstable(Rule):
    """Either `spikes` windows whose largest loss is over `spike` x the recent level (the median
    of the last `history` window means) and over `reset` x the loss at initialization; or
    training accuracy below its best by more than `acc_drop`, with the error rate at least
    `error_growth` x the best one's, for `epochs` epoch ends in a row.

    Why: a learning rate that is too high for the later part of training (Adam at 50x its usual
    rate, no warm-up) throws a net that had learned back towards its untrained state, again and
    again, before any average explodes. Minibatch noise makes single losses wander by a few
    times their level near convergence (a few hard examples), but a jump to a quarter of the
    untrained loss from ten times lower is the net forgetting, not noise; "repeatedly" (2
    windows) keeps one bad batch from firing it. In the healthy per-step logs of both zoos no
    window's worst loss came near 10x the recent level (the largest ratio was 1.0), while Adam
    at 100x on digits (PyTorch) jumped 14-17x, twice per run; logs that keep one loss in 5 or 10
    (TensorBoard, MLflow, Lightning in the cross-framework zoo) sample most such jumps away.
    Training accuracy is measured on the same examples every epoch, so falling 5 points below
    its best for 2 epochs is the same forgetting seen from the other side, when it also doubles
    the error rate (98% -> 88% is six times the errors): early in training, accuracies of 60-80%
    wander by 5-8 points from epoch to epoch in healthy runs (babysit's zoo: SVM loss with
    RMSProp, Adagrad), a change of a fifth of their errors. The epochs must be consecutive: on
    babysit's 240-example spiral a healthy batch-norm net with momentum dips from 97.5% to 89%
    and recovers the next epoch, several times while it converges (each point there is 2.4
    examples); a known miss is therefore Adam at 100x on digits over 30 epochs logged sparsely
    (TensorBoard, MLflow, Lightning), whose accuracy dips of 5-7 points last one epoch each.
    Low accuracies fall differently: a net thrown back to chance (10 classes: 29% -> 10%) has
    not doubled its errors, so losing `gain_lost` (half) of what it had gained over chance,
    1/C from the run's facts, is the same sign, when the best was clearly above chance
    (`margin` or `z` standard errors on the validation size: not-learning's band). A log
    without training accuracy (a Hugging Face Trainer logs eval accuracy only) is judged on
    its validation accuracy, measured on the same examples every time too, by the fall to
    chance only: a net that memorizes loses validation accuracy slowly, not half its gain
    over chance within two evaluations, and a fine-tune at 90% by predicting the majority
    class falls to 49% when it starts predicting the others (doubled errors, no instability).
    The validation side shows it too, in logs that keep the training loss too sparsely to see
    a jump: a validation loss over `val_spike` (3) x the median of its last `history` values,
    `spikes` times (Adam at lr 0.1: 1.6 -> 9.0 and back), and over `reset` x the untrained
    loss, as on the training side: a confident net's 0.017 on 60 spiral examples becomes 0.13
    with one or two confident mistakes, which is noise, not forgetting. A net that memorizes
    raises its validation loss a little each epoch, never threefold at once.
    An accuracy dip is withdrawn when the accuracy later passes its old best: a net that
    recovers and goes on improving was wobbling (SGD at 0.12 on the spiral: 91% -> 75% for two
    epochs, then 97.5%), and --fix, which acted on the dip at once, undid the rate that
    reached 92% validation. A net that keeps being thrown back reports it again.
    A jump is measured against the examples behind the logged loss too, when the log says
    how many there are (a Hugging Face Trainer's batch size times its logging interval): a net
    that fits its training data to a mean loss L gives its right answers a margin of about
    -ln L nats, so an example it is as sure of but labelled the other way (label noise, a
    truly ambiguous text) costs about -ln L (at least 1 nat) on its own. A jump of the mean of
    n examples by h that `hard_examples` (3) or fewer such examples account for, n x h <=
    3 x -ln L, is those examples, not forgetting: batch 1 logged every 50 steps, at a level of
    0.0003, jumps to 0.14-0.34 for one record and is back at 0.0003 the next (17 nats: two
    such examples in fifty). Adam at 100x on a 64-example batch jumps by 2 nats: 128 nats,
    80 mislabelled examples' worth, is the net. L is read from the quiet records (the median
    of the recent windows' lowest loss), not from window means that the hard examples
    themselves raise: CodeBERT's records sit at 0.0002-0.0003 (8 nats of margin) while its
    window means, jumps included, are 0.018 (4 nats); its jump to 0.18 over 80 examples is
    14 nats, two such examples.
    A log that also has epoch-end training accuracy must show the jumps there: a loss jump
    that never takes the training accuracy `acc_drop` below its best is a few hard examples in
    a small batch, whatever the batch size the log does not state (breast cancer at batch 4:
    spikes from 0.02 to 1.3 while the training accuracy climbed to 100%, its worst fall 1.2
    points; Adam at 100x on digits fell 6.7-6.8 points). Such jumps are reported once the
    accuracy falls, and withdrawn at the end if it never did.
    Superseded by loss-explosion and loss-nan, which name the end of this road.
    """

    id = "training-unstable"
    lr_symptom = "high"
    severity = "warning"
    needs = ("loss",)
    provisional = True  # an accuracy dip is withdrawn when the accuracy passes its old best
    remedies = lower_lr(0.3, 0.1, 0.03)  # a net that learned, then forgets: a gentle cut first
    thresholds = {"spike": 10.0, "reset": 0.25, "history": 5, "spikes": 2, "acc_drop": 0.05,
                  "error_growth": 2.0, "gain_lost": 0.5, "margin": 0.02, "z": 3.0, "epochs": 2,
                  "val_spike": 3.0, "hard_examples": 3.0}
    advice = ("Lower the learning rate (or decay it), warm it up over the first epochs, or clip "
              "gradients; a larger batch also steadies the updates.")
    # A net thrown back and forth also scores its validation set worse and worse: that rise
    # is this problem's doing, not memorization (overfitting's val-loss sign).
    explains = ("loss-oscillation", "overfitting")

    def __init__(self, **overrides: float) -> None:
        """Keeps recent window means, the spike count and the best training accuracy."""
        super().__init__(**overrides)
        self.recent: deque[float] = deque(maxlen=int(self.t["history"]))
        self.floors: deque[float] = deque(maxlen=int(self.t["history"]))  # the windows' lowest
        self.start: float | None = None
        self.count = 0
        self.best = -1.0
        self.below = 0
        self.val_only = True  # no training accuracy logged so far: judge the validation one
        self.val_recent: deque[float] = deque(maxlen=int(self.t["history"]))
        self.val_spikes = 0
        self.val_first: float | None = None
        self.train_drop = 0.0  # the most the training accuracy fell below its best so far
        self.spike: tuple[int, str, dict] | None = None  # the latest counted jump, to report

    def _val_spike(self, val_loss: float | None, step: int) -> Finding | None:
        """A validation loss `val_spike` x the median of the last `history` ones (after 3)."""
        if not is_finite(val_loss):
            return None
        if len(self.val_recent) >= 3:
            ordered = sorted(self.val_recent)
            level = ordered[len(ordered) // 2]
            untrained = self.start if self.start is not None else self.val_first
            if level > 0 and val_loss > self.t["val_spike"] * level and \
                    val_loss > self.t["reset"] * untrained:
                self.val_spikes += 1
                if self.val_spikes >= self.t["spikes"]:
                    return self.report(step, f"the validation loss jumped to {val_loss:.3g} "
                                       f"({val_loss / level:.3g}x its recent level {level:.3g}); "
                                       f"{self.val_spikes} such jumps", val_spikes=self.val_spikes,
                                       val_level=level, val_peak=val_loss)
        if self.val_first is None:
            self.val_first = val_loss
        self.val_recent.append(val_loss)
        return None

    def finish(self) -> Finding | None:
        """Withdraw loss jumps that the training accuracy, logged after them, never felt."""
        if self.finding is not None and "spikes" in self.finding.evidence and self._unfelt():
            self.finding = None
        return None

    def _a_few_examples(self, jump: float) -> bool:
        """Whether `hard_examples` confidently wrong examples account for a jump of the mean."""
        examples = self.facts.header.examples_per_loss
        ordered = sorted(self.floors)
        floor = ordered[len(ordered) // 2] if ordered else 0.0
        if not examples or floor <= 0:
            return False
        return examples * jump <= self.t["hard_examples"] * max(-math.log(floor), 1.0)

    def on_window(self, window: Window) -> Finding | None:
        """Count windows whose worst loss jumps far above the recent level."""
        if self.start is None:
            self.start = window.first
        if len(self.recent) == self.recent.maxlen and self.start > 0:
            ordered = sorted(self.recent)  # statistics.median costs 3x more on 5 values
            level = ordered[len(ordered) // 2]
            if window.max > self.t["spike"] * level and window.max > self.t["reset"] * self.start \
                    and not self._a_few_examples(window.max - level):
                self.count += 1
                self.spike = (window.last_step, f"the loss jumped back to {window.max:.3g} "
                              f"({window.max / level:.3g}x its recent level {level:.3g}, "
                              f"{window.max / self.start:.0%} of the untrained "
                              f"{self.start:.3g}) in {self.count} windows",
                              {"spikes": self.count, "level": level, "peak": window.max})
                if self.count >= self.t["spikes"] and not self._unfelt():
                    return self._report_spike()
        self.recent.append(window.mean)
        self.floors.append(window.min)
        return None

    def _unfelt(self) -> bool:
        """Whether the epoch-end training accuracy, logged, never fell `acc_drop` below its best:
        the jumps cost the net nothing measured on its own training set."""
        return not self.val_only and self.train_drop < self.t["acc_drop"]

    def _report_spike(self) -> Finding | None:
        if self.spike is None or (self.finding is not None and "spikes" not in self.finding.evidence):
            return None
        step, message, evidence = self.spike
        return self.report(step, message, **evidence)

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """Count validation-loss spikes, and epochs whose training accuracy (validation
        accuracy in a log without one) is well below its best."""
        spiked = self._val_spike(ev.val_loss, ev.step)
        if spiked is not None:
            return spiked
        which = "training"
        acc = ev.train_acc
        if is_finite(acc):
            self.val_only = False
            self.train_drop = max(self.train_drop, max(self.best, acc) - acc)
            if self.count >= self.t["spikes"] and self.finding is None and not self._unfelt():
                return self._report_spike()
        else:
            acc, which = ev.val_acc, "validation"
            if not (self.val_only and is_finite(acc)):
                return None
        if acc > self.best and self.finding is not None and "acc" in self.finding.evidence:
            self.finding = None  # past its old best again: that dip was a wobble
        self.best = max(self.best, acc)
        chance = 1.0 / self.facts.classes if self.facts.classes else None
        # Thrown back towards chance from a best clearly above it (beyond not-learning's band
        # of chance: a 2-unit net's 50% on 60 spiral examples is within noise of 33%).
        back_to_chance = chance is not None and self.best > chance_band(
            chance, self.facts.header.val_size, self.t["margin"], self.t["z"]) and \
            acc - chance <= (1 - self.t["gain_lost"]) * (self.best - chance)
        doubled = which == "training" and 1.0 - acc >= self.t["error_growth"] * (1.0 - self.best)
        forgot = acc < self.best - self.t["acc_drop"] and (doubled or back_to_chance)
        self.below = self.below + 1 if forgot else 0
        if self.below >= self.t["epochs"]:
            return self.report(ev.step, f"{which} accuracy fell to {acc:.3f} from its "
                               f"best {self.best:.3f} and stayed down for {self.below} epochs",
                               acc=acc, best=self.best, accuracy=which)
        return None
