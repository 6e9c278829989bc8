"""overfitting: training accuracy well above validation accuracy, or validation loss rising."""

from __future__ import annotations

import math
from collections import deque

from babysit.diagnostics.reader import is_finite, number
from babysit.diagnostics.rule import Finding, Record, Rule, Window


class Overfitting(Rule):
    """The train/val accuracy gap exceeds `gap` for `epochs` epoch records in a row, or the
    validation loss stays above both its best and the training loss by `val_rise` (or by
    `z` / sqrt(n) on n validation examples, if larger) for `epochs` records while the training
    loss keeps falling.

    Why: the lecture: "big gap -> overfitting -> increase regularization strength". A gap of
    0.1 is the usual line (AUTOTRAINER, SageMaker). On a small validation set the accuracy is
    itself noisy, so when the header gives the validation size n the gap must also exceed
    `z` standard errors, z * sqrt(p (1 - p) / n). Validation loss rising while training loss
    falls is the other classic sign (UMLAUT); it needs no accuracy at all. The training loss is
    the engine's window average (a single minibatch is too noisy), and the validation loss must
    also exceed it: a validation loss below the training loss is not overfitting, whatever
    its wiggles on a small validation set. Per-example cross-entropy losses have a spread about
    as large as their mean, so the validation loss of n examples moves by ~1/sqrt(n) of itself
    from noise alone: on 60 examples a rise must exceed 39% to count.
    """

    id = "overfitting"
    severity = "warning"
    needs = ("train_acc", "val_acc")
    thresholds = {"gap": 0.1, "z": 3.0, "epochs": 3, "val_rise": 0.2}
    advice = ("Regularize more: raise the L2 strength, add dropout, or get more data (or "
              "augment it); stop early at the best validation epoch.")

    def __init__(self, **overrides: float) -> None:
        """Tracks recent gaps and the best validation loss."""
        super().__init__(**overrides)
        n = int(self.t["epochs"])
        self.gaps: deque[float] = deque(maxlen=n)
        self.n_val: int | None = None
        self.best_val_loss = math.inf
        self.train_loss_at_best: float | None = None
        self.rising = 0
        self.train_loss: float | None = None  # latest window average

    def _rise_limit(self) -> float:
        noise = self.t["z"] / math.sqrt(self.n_val) if self.n_val else 0.0
        return max(self.t["val_rise"], noise)

    def on_window(self, window: Window) -> Finding | None:
        """Remember the smoothed training loss."""
        self.train_loss = window.mean
        return None

    def on_header(self, header: Record) -> Finding | None:
        """The validation set size, when babysit wrote the header."""
        ds = header.get("dataset")
        if isinstance(ds, dict) and isinstance(ds.get("X_val"), list) and ds["X_val"]:
            n = number(ds["X_val"][0])
            self.n_val = int(n) if is_finite(n) and n > 0 else None
        return None

    def on_epoch(self, record: Record) -> Finding | None:
        """Check the gap and the validation loss trend at each epoch end."""
        step = record["step"]
        train, val = number(record.get("train_acc")), number(record.get("val_acc"))
        if is_finite(train) and is_finite(val):
            limit = self.t["gap"]
            if self.n_val:
                p = min(max(val, 0.0), 1.0)
                limit = max(limit, self.t["z"] * math.sqrt(p * (1 - p) / self.n_val))
            self.gaps.append(train - val)
            if len(self.gaps) == self.gaps.maxlen and min(self.gaps) > limit:
                return self.report(step, f"train accuracy {train:.3f} vs validation {val:.3f}: a gap "
                                   f"above {limit:.3f} for {len(self.gaps)} epochs in a row",
                                   train_acc=train, val_acc=val, gap=train - val, limit=limit)
        val_loss, loss = number(record.get("val_loss")), self.train_loss
        if is_finite(val_loss) and loss is not None:
            if val_loss < self.best_val_loss:
                self.best_val_loss, self.train_loss_at_best, self.rising = val_loss, loss, 0
            elif val_loss > (1 + self._rise_limit()) * self.best_val_loss:
                falling = self.train_loss_at_best is not None and loss < self.train_loss_at_best
                above_train = val_loss > (1 + self._rise_limit()) * loss
                self.rising = self.rising + 1 if falling and above_train else 0
                if self.rising >= self.t["epochs"]:
                    return self.report(step, f"validation loss {val_loss:.4g} is "
                                       f"{100 * (val_loss / self.best_val_loss - 1):.0f}% above its "
                                       f"best {self.best_val_loss:.4g} while training loss fell to "
                                       f"{loss:.4g}", val_loss=val_loss,
                                       best_val_loss=self.best_val_loss, loss=loss)
            else:
                self.rising = 0
        return None
