"""Which metric name of another tool means which babysit field, and how named scalars become
babysit's step records.

The alias table (docs/log-format.md lists it) is matched case-insensitively; for each field the
earliest name in its tuple wins when a log has several (a Lightning log with both
`train_loss_step` and `train_loss_epoch` reads the per-step one). `--map loss=my/train_loss`
puts a name of the user's own in front of them all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from babysit.errors import BabysitError
from babysit.readers.common import Record, number
from babysit.readers.steps import StepTable

# babysit field -> names other tools give it (lower case), most specific first.
ALIASES: dict[str, tuple[str, ...]] = {
    "loss": ("loss", "train_loss", "train_loss_step", "train/loss", "training_loss", "loss/train",
             "train/loss_step", "train_loss_epoch", "epoch_loss", "train/epoch_loss"),
    "train_acc": ("train_acc", "accuracy", "acc", "train_accuracy", "train_acc_step",
                  "train/acc", "train/accuracy", "accuracy/train", "acc/train", "train_acc_epoch",
                  "epoch_accuracy", "train/epoch_accuracy",
                  # Keras names a compiled metric by its class: the same accuracy, per task
                  "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"),
    "val_acc": ("val_acc", "val_accuracy", "eval_accuracy", "eval/accuracy", "val/acc",
                "val/accuracy", "accuracy/val", "accuracy/validation", "acc/val",
                "val_acc_epoch", "validation_accuracy", "validation/epoch_accuracy",
                "val_sparse_categorical_accuracy", "val_categorical_accuracy", "val_binary_accuracy"),
    "val_loss": ("val_loss", "eval_loss", "eval/loss", "val/loss", "loss/val", "loss/validation",
                 "val_loss_epoch", "validation_loss", "validation/epoch_loss"),
    "lr": ("lr", "learning_rate", "train/learning_rate", "lr-adam", "lr-sgd", "lr-adamw",
           "learning_rate/train"),
    "epoch": ("epoch", "train/epoch", "epochs"),
}
_MISSING = {"", "na", "n/a", "none", "null"}
_UNSEEN = object()

# The words of a metric name no table lists (`Loss/Train_Epoch`, `val-Accuracy`, `trainLoss`):
# what it measures, on which split, how often. A name with any other word (`Accuracy/Train_
# Modulation`: one head of several, `test_loss`: a split babysit does not judge) is not read.
# Words that only say how a value was averaged (`mean_loss`, `Total Validation loss`) change
# nothing; a loss named with no split is the training one, as Keras's `loss` is. An accuracy
# needs its split: Lightning's `acc_step` is a single batch's (wild's AIOPS_mnist: its dips
# read as instability).
_METRIC_WORDS = {"loss": "loss", "acc": "acc", "accuracy": "acc"}
_SPLIT_WORDS = {"train": "train", "training": "train", "tr": "train", "val": "val", "valid": "val",
                "validation": "val", "eval": "val", "evaluation": "val"}
_AVERAGE_WORDS = frozenset({"mean", "avg", "average", "total", "running", "overall"})
# Words that name which loss a loss is (`train/nll_loss`, `train_elbo_loss`, `val/rmse_loss`): a
# whole objective, read beside the word "loss" and ranked after a plain name (`train/loss` wins).
# A part of an objective (`kl_loss`, `recon_loss`, `aux_loss`) is not a run's loss: not read.
_KIND_WORDS = frozenset({"nll", "elbo", "xent", "ce", "bce", "mse", "rmse", "mae", "crossentropy",
                         "cross", "entropy", "huber"})
# Words that make a loss-named value something other than a series to read: a setting (fp16's
# `loss_scale`, `loss_weight`), one number summing a run up (`best_val_loss`, HF's
# `train/train_loss`: the run's mean, written once at its end), or a split judged after
# training, once (Lightning's `trainer.test`, HF's `predict_loss`). Naming these under a
# diagnosis would be noise: 13 of the 152 development runs log a test loss beside their own,
# 6 HF runs through TensorBoard `train/train_loss`.
_NOT_A_SERIES = frozenset({"scale", "scaler", "weight", "weights", "coef", "coeff", "lambda", "fn",
                           "type", "function", "name", "best", "final", "min", "test", "predict"})
_RUN_MEANS = frozenset({"train/train_loss"})
_CADENCE_WORDS = {"step": 0, "batch": 0, "iter": 0, "iteration": 0, "epoch": 2}
_SPELLED = {("loss", "train"): "loss", ("loss", "val"): "val_loss", ("acc", "train"): "train_acc",
            ("acc", "val"): "val_acc"}
SPELLED_RANK = 100  # after every name in ALIASES
MAX_UNREAD = 20  # unread names kept per run: bounded memory on a log with thousands of tags


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower())


def spelled_field(name: str) -> tuple[str, int] | None:
    """(field, rank) for a name read by its words, e.g. Loss/Train_Epoch -> (loss, 102)."""
    words = _words(name)
    metric = [_METRIC_WORDS[w] for w in words if w in _METRIC_WORDS]
    split = [_SPLIT_WORDS[w] for w in words if w in _SPLIT_WORDS]
    cadence = [_CADENCE_WORDS[w] for w in words if w in _CADENCE_WORDS]
    averaged = sum(w in _AVERAGE_WORDS for w in words)
    kind = sum(w in _KIND_WORDS for w in words) if metric == ["loss"] else 0
    if len(metric) != 1 or len(split) > 1 or (not split and metric[0] != "loss") or len(cadence) > 1 or \
            len(metric) + len(split) + len(cadence) + averaged + kind != len(words):
        return None
    rank = SPELLED_RANK + (cadence[0] if cadence else 1) + (3 if kind else 0)
    return _SPELLED[metric[0], split[0] if split else "train"], rank


def loss_like(name: str) -> bool:
    """True for a name that reads as a series of some loss (`charts/loss`, `train_kl_loss`),
    not a setting or a summary of one (`loss_scale`, `best_val_loss`): what a user would expect
    babysit to read. A metric alone (`val/rmse`, `mae`) is not a loss."""
    words = _words(name)
    return any("loss" in w for w in words) and not _NOT_A_SERIES & set(words) \
        and name.lower() not in _RUN_MEANS


def map_for(name: str) -> str:
    """The --map that reads a loss-like name: `val_loss=eval/rmse`, else `loss=NAME`."""
    held_out = any(_SPLIT_WORDS.get(w) == "val" or w == "test" for w in _words(name))
    return f"{'val_loss' if held_out else 'loss'}={name}"


def parse_maps(items: list[str] | None) -> dict[str, str]:
    """['loss=my/train_loss', ...] -> {'my/train_loss': 'loss'}, or a BabysitError."""
    out: dict[str, str] = {}
    for item in items or []:
        field, sep, name = item.partition("=")
        field, name = field.strip(), name.strip()
        if not sep or not name or field not in ALIASES:
            raise BabysitError(f"--map expects FIELD=NAME with FIELD one of "
                               f"{', '.join(ALIASES)}, got {item!r}")
        if field in out.values():  # two names for one field: which to read would be a guess
            given = next(n for n, f in out.items() if f == field)
            raise BabysitError(f"--map gives {field} twice ({given!r} and {name!r}): give one name "
                               "per field")
        out[name.lower()] = field
    return out


class FieldMap:
    """Resolves metric names to babysit fields, with the user's --map names first."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        """`extra`: name -> field, from parse_maps."""
        self._rank: dict[str, tuple[str, int]] = {}
        for field, names in ALIASES.items():
            for rank, name in enumerate(names):
                self._rank.setdefault(name, (field, rank))
        self.extra = {name.lower(): field for name, field in (extra or {}).items()}
        for name, field in self.extra.items():
            self._rank[name] = (field, -1)
        # Loss-like names asked about and not read, in order of first sight: a reader's note
        # names them (find_runs hands each run's to its ReadStats).
        self.unread: dict[str, None] = {}
        self._lossy: dict[str, bool] = {}

    def field_of(self, name: str) -> tuple[str, int] | None:
        """(field, rank) for a metric name, lower rank preferred; None when it is not used.
        A name in no table is read by its words (see spelled_field), after every listed name."""
        key = name.lower()
        hit = self._rank.get(key, _UNSEEN)
        if hit is _UNSEEN:
            hit = self._rank[key] = spelled_field(name)
        if hit is None:
            lossy = self._lossy.get(key)
            if lossy is None:
                lossy = self._lossy[key] = loss_like(name)
            if lossy and name not in self.unread and len(self.unread) < MAX_UNREAD:
                self.unread[name] = None
        return hit  # type: ignore[return-value]

    def chosen(self, names: Iterable[str]) -> dict[str, str]:
        """name -> field for the names a line or row of these names reads, the best-ranked
        name of each field (as pick chooses when every value is a number)."""
        best: dict[str, tuple[int, str]] = {}
        for name in names:
            hit = self.field_of(name)
            if hit is not None and (hit[0] not in best or hit[1] < best[hit[0]][0]):
                best[hit[0]] = (hit[1], name)
        return {name: field for field, (_, name) in best.items()}

    def one_name_each(self, names: Iterable[str]) -> set[str]:
        """The names a table of these columns is read from: each field's best-ranked one, so
        that one series never mixes two names (a per-batch and a per-epoch loss)."""
        return set(self.chosen(names))

    def pick(self, row: Mapping[str, Any]) -> Record:
        """The fields a row of named values holds, each from its best-ranked name."""
        best: dict[str, tuple[int, float]] = {}
        for name, raw in row.items():
            hit = self.field_of(str(name))
            if hit is None or (isinstance(raw, str) and raw.strip().lower() in _MISSING):
                continue
            value = number(raw)
            if value is not None and (hit[0] not in best or hit[1] < best[hit[0]][0]):
                best[hit[0]] = (hit[1], value)
        return {field: value for field, (_, value) in best.items()}


def scalar_records(scalars: Iterable[tuple[str, int, float, float]], fields: FieldMap,
                   start: float | None = None) -> StepTable:
    """Step records from (name, step, value, wall_time) scalars, one record per step, made as
    they are iterated (babysit/readers/steps.py keeps the scalars compactly).

    Scalars logged at the same step (a training loss and the epoch's validation metrics)
    share a record; a later value of the same name at the same step replaces an earlier one.
    `time` is seconds since `start` (default: the first scalar's wall time).
    """
    return StepTable(scalars, fields, start)


class StepAssembler:
    """Turns scalars that arrive while a run is being written into step records, in order.

    The latest step is held back (its other metrics may still be on their way); a step is
    released once a later step has arrived, or when a poll brings nothing new (the writer has
    paused or stopped: a run that died with a NaN shows it), or by flush() at the end.
    """

    def __init__(self, fields: FieldMap) -> None:
        """Map names with `fields`."""
        self.fields = fields
        self._pending: list[tuple[str, int, float, float]] = []
        self._released = -(2**63)  # steps at or below this were emitted: late scalars are dropped
        self._start: float | None = None  # wall time of the first scalar: `time` counts from it

    def add(self, scalars: Iterable[tuple[str, int, float, float]]) -> list[Record]:
        """Take new scalars (none: a quiet poll); return the records of the steps now complete."""
        new = [s for s in scalars if s[1] > self._released]
        if not new:
            return self.flush()
        self._pending += new
        if self._start is None:
            times = [s[3] for s in self._pending if math.isfinite(s[3]) and s[3] > 0]
            self._start = min(times) if times else None
        if not self._pending:
            return []
        latest = max(s[1] for s in self._pending)
        done = [s for s in self._pending if s[1] < latest]
        self._pending = [s for s in self._pending if s[1] == latest]
        return self._release(done)

    def flush(self) -> list[Record]:
        """Every step still held (the run has ended)."""
        done, self._pending = self._pending, []
        return self._release(done)

    def _release(self, scalars: list[tuple[str, int, float, float]]) -> list[Record]:
        records = list(scalar_records(scalars, self.fields, self._start))
        if records:
            self._released = max(self._released, records[-1]["step"])
        return records
