"""Logs written by other tools, read as babysit records: Keras's and Lightning's CSV loggers,
and Hugging Face's trainer_state.json. Only the fields the rules use are mapped."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babysit.diagnostics.reader import ReadStats, number
from babysit.errors import BabysitError

Record = dict[str, Any]

# Column names other tools use -> babysit's field. The first present column wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "loss": ("loss", "train_loss", "train_loss_step", "train/loss", "training_loss",
             "train_loss_epoch"),
    "train_acc": ("train_acc", "accuracy", "acc", "train_accuracy", "train_acc_epoch",
                  "train/acc", "train_acc_step"),
    "val_acc": ("val_acc", "val_accuracy", "eval_accuracy", "val/acc", "val_acc_epoch",
                "validation_accuracy"),
    "val_loss": ("val_loss", "eval_loss", "val/loss", "val_loss_epoch", "validation_loss"),
    "lr": ("lr", "learning_rate", "lr-Adam", "lr-SGD", "lr-AdamW"),
}
_MISSING = {"", "na", "n/a", "none", "null"}


def _pick(row: dict[str, Any], field: str) -> float | None:
    for name in ALIASES[field]:
        if name in row:
            raw = row[name]
            if isinstance(raw, str) and raw.strip().lower() in _MISSING:
                continue
            value = number(raw)
            if value is not None:
                return value
    return None


def _to_record(row: dict[str, Any], index: int, stats: ReadStats) -> Record | None:
    """One row of another tool's log as a step record (None if it has no metric we use)."""
    rec: Record = {"type": "step"}
    for field in ALIASES:
        value = _pick(row, field)
        if value is not None:
            rec[field] = value
    if len(rec) == 1:
        return None
    step = number(row.get("step"))
    rec["step"] = int(step) if step is not None and step == step else index
    epoch = number(row.get("epoch"))
    if epoch is not None and epoch == epoch:
        rec["epoch"] = int(epoch)
    stats.records += 1
    return rec


def read_csv_log(path: Path, stats: ReadStats) -> Iterator[Record]:
    """Keras CSVLogger (one row per epoch) or Lightning CSVLogger (a row per log call)."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BabysitError(f"cannot read {path} as a CSV log: {exc}") from None
    stats.lines = len(rows) + 1
    keras_style = bool(rows) and "step" not in rows[0] and "epoch" in rows[0]
    produced = 0
    for index, row in enumerate(rows):
        if keras_style:  # one row per epoch: the epoch is the step
            row = {**row, "step": row.get("epoch")}
        rec = _to_record(row, index, stats)
        if rec is None:
            continue
        produced += 1
        yield rec
    if not produced:
        raise BabysitError(f"{path}: no column babysit can use (expected one of "
                           f"{', '.join(ALIASES['loss'] + ALIASES['val_loss'])})")


def read_hf_state(path: Path, stats: ReadStats) -> Iterator[Record]:
    """Hugging Face Trainer's trainer_state.json: its log_history, train and eval entries."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise BabysitError(f"cannot read {path} as JSON: nested too deeply") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BabysitError(f"cannot read {path} as JSON: {exc}") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise BabysitError(f"{path}: no log_history list (a Hugging Face trainer_state.json "
                           "has one)")
    stats.lines = len(history)
    produced = 0
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            stats.note_malformed(index + 1)
            continue
        rec = _to_record(entry, index, stats)
        if rec is not None:
            produced += 1
            yield rec
    if not produced:
        raise BabysitError(f"{path}: log_history has no loss or eval metric")
