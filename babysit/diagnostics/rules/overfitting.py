"""overfitting: training accuracy well above validation accuracy, or validation loss rising."""

from __future__ import annotations

import math
from collections import deque

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.remedy import Scale, Set
from babysit.diagnostics.rule import Finding, Rule
from babysit.diagnostics.rules._util import (
    accuracy_floor,
    accuracy_noise,
    fitted_level,
    loss_noise,
)
from babysit.readers.common import is_finite

SCATTER_EVALS = 9  # 8 consecutive differences: a median, and recent enough to follow the run


class Overfitting(Rule):
    """Either the train/val accuracy gap exceeds its limit for `epochs` epoch records in a row
    while training accuracy is at least `fit_fraction` of the way from chance to perfect; or
    the validation loss stays above both its best and the training loss by its limit for
    `epochs` records while the training loss keeps falling.

    Why: the lecture: "big gap -> overfitting -> increase regularization strength". A gap of
    `gap` = 0.1 is the usual line (AUTOTRAINER, SageMaker); a net still near chance on its own
    training data is not overfitting, whatever its gap (the zoo's 2-unit net showed a 0.23 gap
    at 48% training accuracy in its third epoch). On a small validation set accuracy is itself
    noisy: when the header gives the validation size n, the gap must also exceed `z` standard
    errors, z sqrt(p (1 - p) / n). Validation loss rising while training loss falls is the
    other classic sign (UMLAUT). Its limit is `val_rise` or, if larger, `z` relative standard
    errors of a mean cross-entropy on n examples at validation accuracy p, whose per-example
    spread is about sqrt(p / (1 - p)) times the mean (a few confident mistakes carry it): on 60
    examples at 97% a rise must exceed 200%, on 10,000 the 20% floor applies. Without the
    validation size, the run's own noise sets it: `z` robust standard deviations of the
    validation loss from one evaluation to the next (over the latest 9, once there are 6). The
    net changes between evaluations, so a converged net's validation loss wanders though the
    set does not: a Keras run at 99% training accuracy whose validation loss steps between
    0.155 and 0.231 from epoch to epoch (scatter 0.010-0.013, a limit of 18-24% over its best
    0.160, itself a low draw) came in 22%, 30% and 23% above that best, and then at a new
    low: within its noise (by a small margin; a label calls the run healthy, with 94%
    validation accuracy against 99% training). The training
    loss is the engine's average of the last 1-10 logged training losses (a log that records
    the loss once per epoch still has one), and must be below the validation loss by the same
    limit: a validation loss under the training loss is not overfitting. Nor is a validation
    loss that rises while training accuracy (when logged) is below what it was at the best
    validation loss: the net fits its training data worse, too (an unstable run, not one
    that memorizes). Withdrawn when later
    evidence contradicts it: the validation loss falls to a new best, `val_rise` below the one
    it had risen from (an early bump, not overfitting). An accuracy gap is not withdrawn when
    it later narrows: a net that has memorized its training set keeps that gap in expectation
    (the zoo's 20-example run: 100% vs 78-88% on 60 validation examples); it is when validation
    accuracy reaches the training accuracy for `epochs` evaluations in a row (an early gap of a
    net learning faster on its training set: wine at 77% vs 64% on 45 examples, then 100%).
    Logs without accuracies (a Hugging Face Trainer logs loss and eval_loss) have a third sign:
    since an earlier epoch, at least `epochs` epochs back, the training loss fell by
    `loss_drop`x while the validation loss gained less than `val_gain` on its value then; the
    training loss is fitted (below -log of the fitted accuracy mark: the right class's
    geometric mean probability is past it; C from the header or inferred from the first loss)
    and the validation loss is above it by the `val_rise` limit. A net that generalizes what it
    learns gains on both: in the zoo's healthy Keras runs, halving the training loss took the
    validation loss down 40%; in the HF zoo's 60-example runs it moved 1-4% while the training
    loss fell 4x (0.114 -> 0.029, eval_loss 0.45 -> 0.41). The validation set is the same every
    epoch, so its loss does not scatter by sampling between epochs.
    Without a logged training accuracy, the gap is measured from the least training accuracy
    the cross-entropy allows, 1 - L / ln 2 (each error costs at least ln 2): a training loss
    of 0.0001 against 76% validation accuracy is a gap of 24 points.
    "Epochs" are the log's own (the engine's epoch clock): evaluations every 50 steps of a
    Hugging Face run are 0.02 epochs apart, so `epochs` of them in a row must also span
    `epochs` - 1 epochs, and the loss-only sign compares with an evaluation `epochs` epochs back
    (a fine-tune's loss logged at 0.08 epochs, 0.58 with its warm-up still in it, against a
    noisy 0.27 at 0.86 was "fell 2.2x").
    """

    id = "overfitting"
    severity = "warning"
    needs = ("val_acc|val_loss",)
    provisional = True  # withdrawn when later evidence contradicts it
    remedies = (Scale("L2 x10", "reg", 10.0, floor=1e-3), Set("dropout 0.5", (("dropout", 0.5),)),
                Scale("L2 x100", "reg", 100.0, floor=1e-2))
    thresholds = {"gap": 0.1, "z": 3.0, "epochs": 3, "val_rise": 0.2, "fit_fraction": 0.5,
                  "fit_default": 0.6, "val_gain": 0.1, "loss_drop": 2.0}
    advice = ("Regularize more: raise the L2 strength, add dropout, or get more data (or "
              "augment it); stop early at the best validation epoch.")
    explains = ("val-plateau",)

    def __init__(self, **overrides: float) -> None:
        """Tracks recent gaps and the best validation loss."""
        super().__init__(**overrides)
        self.gaps: deque[tuple[float, float]] = deque(maxlen=int(self.t["epochs"]))  # gap, epoch
        self.best_val_loss = math.inf
        self.train_loss_at_best: float | None = None
        self.train_acc_at_best = -math.inf
        self.rising = 0
        self.val_losses: deque[float] = deque(maxlen=SCATTER_EVALS)  # the latest ones
        self.rising_at = 0.0  # the epoch the current rise began
        self.reversed = 0  # evaluations in a row with validation accuracy at or above training
        self.reported_best: float | None = None  # the best validation loss when it was reported
        self.history: list[tuple[float, float, float]] = []  # (training, validation) loss, epoch

    @property
    def fitted(self) -> float:
        """The fitted mark: `fit_fraction` of the way from chance to perfect."""
        return fitted_level(self.facts.classes, self.t["fit_fraction"], self.t["fit_default"])

    def _stalled(self, step: int, val_loss: float, loss: float, at: float) -> Finding | None:
        """The loss-only sign: the training loss fell `loss_drop`x, the validation loss barely."""
        self.history.append((loss, val_loss, at))
        if loss > -math.log(self.fitted) or val_loss <= (1 + self.t["val_rise"]) * loss:
            return None
        back = len(self.history) - 1 - int(self.t["epochs"])
        for then_loss, then_val, then_at in reversed(self.history[: back + 1]):  # the latest
            if at - then_at < self.t["epochs"]:
                continue  # evaluations closer than `epochs` of the log's epochs
            if then_loss >= self.t["loss_drop"] * loss:
                if val_loss <= (1 - self.t["val_gain"]) * then_val:
                    return None
                if not self.fired:
                    self.reported_best = min(self.best_val_loss, val_loss)
                return self.report(step, f"training loss fell {then_loss / loss:.3g}x (to "
                                   f"{loss:.4g}) while validation loss moved only "
                                   f"{then_val:.4g} -> {val_loss:.4g}", val_loss=val_loss,
                                   val_loss_then=then_val, loss=loss, loss_then=then_loss,
                                   classes=self.facts.classes)
        return None

    def _spans(self, since: float, now: float) -> bool:
        """Whether `epochs` evaluations in a row from `since` to `now` cover `epochs` epochs of
        the log's clock (consecutive epochs 0, 1, 2 are 3 epochs: 2 apart)."""
        return now - since >= self.t["epochs"] - 1

    def _scatter(self) -> float:
        """The validation loss's own evaluation-to-evaluation noise, relative to its best: a
        robust standard deviation (1.4826 x the median absolute difference of consecutive
        values, over sqrt 2) of the latest SCATTER_EVALS values; 0 before there are 6."""
        v = self.val_losses
        if len(v) < 6 or not math.isfinite(self.best_val_loss) or self.best_val_loss <= 0:
            return 0.0
        steps = sorted(abs(b - a) for a, b in zip(list(v)[:-1], list(v)[1:], strict=True))
        return 1.4826 * steps[len(steps) // 2] / math.sqrt(2) / self.best_val_loss

    def on_epoch(self, ev: Evaluation) -> Finding | None:
        """Check the gap and the validation loss trend at each epoch end."""
        step = ev.step
        train, val = ev.train_acc, ev.val_acc
        # Without a logged training accuracy, the least one its cross-entropy allows.
        floor = accuracy_floor(ev.recent_loss) \
            if not is_finite(train) and self.facts.header.loss_fn == "softmax" else None
        fit = train if is_finite(train) else floor
        if fit is not None and is_finite(val):
            limit = max(self.t["gap"], accuracy_noise(val, self.facts.header.val_size, self.t["z"]))
            self.gaps.append((fit - val if fit >= self.fitted else -math.inf, ev.epoch_at))
            self.reversed = self.reversed + 1 if val >= fit else 0
            if self.finding is not None and "gap" in self.finding.evidence and \
                    self.reversed >= self.t["epochs"]:
                self.finding = None  # validation caught up and stayed level: no memorization
            if len(self.gaps) == self.gaps.maxlen and min(g for g, _ in self.gaps) > limit \
                    and self._spans(self.gaps[0][1], ev.epoch_at):
                said = f"train accuracy {fit:.3f}" if floor is None else \
                    f"training loss {ev.recent_loss:.3g} (train accuracy at least {fit:.3f})"
                return self.report(step, f"{said} vs validation {val:.3f}: a gap above "
                                   f"{limit:.3f} for {len(self.gaps)} epochs in a row",
                                   train_acc=fit, val_acc=val, gap=fit - val, limit=limit,
                                   train_acc_from_loss=floor is not None)
        val_loss, loss = ev.val_loss, ev.recent_loss
        if not (is_finite(val_loss) and is_finite(loss)):
            return None
        stalled = None if is_finite(train) or is_finite(val) else \
            self._stalled(step, val_loss, loss, ev.epoch_at)
        self.val_losses.append(val_loss)
        if val_loss < self.best_val_loss:
            if self.reported_best is not None and val_loss < (1 - self.t["val_rise"]) * self.reported_best:
                self.finding, self.reported_best = None, None  # it was an early bump
            self.best_val_loss, self.train_loss_at_best, self.rising = val_loss, loss, 0
            self.train_acc_at_best = train if is_finite(train) else -math.inf
            return stalled
        rise = max(self.t["val_rise"], loss_noise(val if is_finite(val) else 0.5, self.facts.header.val_size,
                                                  self.t["z"]), self.t["z"] * self._scatter())
        falling = self.train_loss_at_best is not None and loss < self.train_loss_at_best and \
            not (is_finite(train) and train < self.train_acc_at_best)
        above = val_loss > (1 + rise) * self.best_val_loss and val_loss > (1 + rise) * loss
        self.rising = self.rising + 1 if falling and above else 0
        if self.rising == 1:
            self.rising_at = ev.epoch_at
        if self.rising >= self.t["epochs"] and self._spans(self.rising_at, ev.epoch_at):
            if not self.fired:
                self.reported_best = self.best_val_loss
            return self.report(step, f"validation loss {val_loss:.4g} is "
                               f"{100 * (val_loss / self.best_val_loss - 1):.0f}% above its best "
                               f"{self.best_val_loss:.4g} (limit {100 * rise:.0f}%) while "
                               f"training loss fell to {loss:.4g}", val_loss=val_loss,
                               best_val_loss=self.best_val_loss, loss=loss, limit=rise)
        return stalled
