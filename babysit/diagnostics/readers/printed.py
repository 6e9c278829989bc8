"""Printed training output as step records: a script's stdout, a `logging` file, a SLURM
capture, a W&B `output.log`, the text of a notebook's cells.

Lines are parsed one at a time (readers/textlines.py); this module decides where each line
sits in the run. A line with a batch counter short of its total (`Step [10/1549]`, tqdm's
`99/1209`) or a step number is a per-step record, placed at epoch x batches + batch. Any other
line with metrics (Keras's last progress bar of an epoch, `Epoch 3: train_loss=...`) is an
epoch's record: at step = epoch while the whole log is per-epoch (as a Keras CSV reads), else
merged into the last step's record. An epoch counter that goes back (a second `fit`, the next
of several runs printed to one file) starts a new run.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from babysit.diagnostics.readers.common import Record, is_finite
from babysit.diagnostics.readers.fields import FieldMap
from babysit.diagnostics.readers.textlines import Line, parse

_ACC_FIELDS = ("train_acc", "val_acc")
# Where a run starts again: an epoch number lower than the last one. A cheap search over the
# raw text, so that a file's runs are known before any of them is parsed in full.
_EPOCH_MARK = re.compile(r"(?i)(?<![/\w])epoch\b[\s:=\[#'\"]{0,4}(\d+(?:\.\d+)?)")
_EPOCH_LOOSE = re.compile(r"[Ee][Pp][Oo][Cc][Hh]\b[\s:=\[#'\"]{0,4}(\d+(?:\.\d+)?)")


_METRIC_MARK = re.compile(r"(?i)(?:loss|acc)\w*\W{0,4}\d")


def run_starts(open_lines: Callable[[], Iterable[str]]) -> list[int]:
    """The indices of the lines where each run printed in `open_lines()` (each line without
    its newline) starts ([0] for one run). A part with no loss or accuracy (a preamble; `best
    epoch: 3` in a closing summary) starts no run of its own. Lines are searched a few thousand
    at a time, joined; a first pass with a looser pattern (no look-behind: ~2x faster) finds
    most logs' epoch numbers never going back, which settles it: what the strict pattern finds
    is a subsequence of that, so it cannot go back either."""
    last = None
    for block, _ in _blocks(open_lines()):
        found = list(map(float, _EPOCH_LOOSE.findall(block)))
        if last is not None and found:
            found.insert(0, last)
        if not all(map(operator.le, found, found[1:])):
            break
        last = found[-1] if found else last
    else:
        return [0]
    starts, last, seen = [0], None, False  # seen: the current run printed a metric
    for block, base in _blocks(open_lines()):
        unsearched = 0  # where the current run's part of the block not yet searched for a metric begins
        for match in _EPOCH_MARK.finditer(block):
            epoch = float(match[1])
            if last is not None and epoch < last:
                seen = seen or _METRIC_MARK.search(block, unsearched, match.start()) is not None
                unsearched = match.start()
                if seen:
                    starts.append(base + block.count("\n", 0, match.start()))
                    seen = False
            last = epoch
        seen = seen or _METRIC_MARK.search(block, unsearched) is not None
    if len(starts) > 1 and not seen:
        starts.pop()
    return starts


def _blocks(lines: Iterable[str], size: int = 4096) -> Iterator[tuple[str, int]]:
    """(lines joined, the index of the first) a few thousand lines at a time."""
    lines, base = iter(lines), 0
    while batch := list(islice(lines, size)):
        yield "\n".join(batch), base
        base += len(batch)


@dataclass
class ReadSummary:
    """What the reader took from the text, for the note under a diagnosis."""

    step_lines: Counter = field(default_factory=Counter)  # the fields of a per-step line -> lines
    epoch_lines: Counter = field(default_factory=Counter)  # the fields of an epoch's line -> lines
    steps: int = 0
    epochs: int = 0
    skipped: int = 0  # non-blank lines with nothing babysit uses

    def sentence(self) -> str:
        """'read as printed output: 25 epoch lines (loss, val_loss); 120 other lines skipped'."""
        parts = []
        for count, fields, what in ((self.epochs, self.epoch_lines, "epoch"),
                                    (self.steps, self.step_lines, "step")):
            if count:
                names = sorted({name for shape in fields for name in shape})
                parts.append(f"{count:,} {what} line{'s' * (count != 1)} ({', '.join(names)})")
        read = "; ".join(parts) if parts else "no line with a metric babysit uses"
        other = f"; {self.skipped:,} other line{'s' * (self.skipped != 1)} skipped" if self.skipped else ""
        return f"read as printed output: {read}{other}"


class Assembler:
    """Turns printed lines into step records, in order, as they arrive."""

    def __init__(self, fields: FieldMap) -> None:
        """Map metric names with `fields`."""
        self.fields = fields
        self.summary = ReadSummary()
        self.columns: list[str] | None = None  # the head of a printed table, while rows follow
        self.epoch: float | None = None
        self.first_epoch: float | None = None
        self.per_step = False  # some line was a per-step record
        self.last_step = -1
        self.step_offset = 0  # added to a step counter that restarts each epoch
        self.last_raw_step: int | None = None
        self.pending: Record | None = None  # the latest record: an epoch line may join it
        self.names: dict[str, None] = {}  # every metric name seen, in order (the task reads them)
        self.marked = False  # a metric line said where it is (an epoch, a step, a k/N counter)
        self._picks: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}  # names -> fields

    def feed(self, text: str) -> list[Record]:
        """The records completed by one more line (the latest is held back for merging)."""
        line = parse(text, self.columns)
        if line.columns is not None:
            used = sum(self.fields.field_of(c) is not None for c in line.columns)
            self.columns = line.columns if used >= 2 else self.columns
            return []
        if line.epoch is not None:
            self.epoch = line.epoch
            if self.first_epoch is None:
                self.first_epoch = line.epoch
        marked = line.epoch is not None or line.step is not None or line.pos is not None or line.row
        record = self._record(line)
        if record is None:
            if text.strip() and line.epoch is None:
                self.summary.skipped += 1
            return []
        if marked:
            self.marked = True
        elif self.marked:  # `Total Validation loss: 0.74` after an epoch's steps: that epoch's
            return self._annotate(record)
        return self._place(line, record)

    def end(self) -> list[Record]:
        """The record still held back."""
        held, self.pending = self.pending, None
        return [held] if held is not None else []

    def _record(self, line: Line) -> Record | None:
        metrics = line.metrics
        shape = tuple(metrics)
        picks = self._picks.get(shape)
        if picks is None:
            picks = self._picks[shape] = self._picks_for(metrics)
        if not picks:
            return None
        record: Record = {"type": "step"}
        for name, key in picks:
            value = metrics[name]
            if key in _ACC_FIELDS and (name in line.percent or 1.0 < value <= 100.0):  # 45.3%, 45.3
                value /= 100.0
            record[key] = value
        return record

    def _picks_for(self, metrics: dict[str, float]) -> tuple[tuple[str, str], ...]:
        """(name, field) for each field a line of these metric names gives (the best-ranked
        name of each, as FieldMap.pick chooses); () when it gives nothing to judge."""
        if "train_runtime" in metrics:  # the Trainer's closing summary: its loss is the run's mean
            return ()
        for name in metrics:
            self.names.setdefault(name, None)
        best: dict[str, tuple[int, str]] = {}
        for name in metrics:
            hit = self.fields.field_of(name)
            if hit is not None and hit[0] != "epoch" and (hit[0] not in best or hit[1] < best[hit[0]][0]):
                best[hit[0]] = (hit[1], name)
        if not best or set(best) == {"lr"}:  # a setting (`LR=0.001`), not a measurement
            return ()
        return tuple((name, key) for key, (_, name) in best.items())

    def _annotate(self, record: Record) -> list[Record]:
        """A line that says nothing of where it is, in a log whose metric lines do: what it
        adds to the latest record (a score without a split after the loop, `Accuracy: 49%`, is
        a test result and dropped). A NaN or infinity is news even where a value was."""
        news = {k: v for k, v in record.items() if k != "type" and (k.startswith("val_") or k == "loss")}
        if self.pending is None or not news:
            return []
        if any(not is_finite(v) and is_finite(self.pending.get(k)) for k, v in news.items()):
            fresh = {"type": "step", **news}
            if "epoch" in self.pending:
                fresh["epoch"] = self.pending["epoch"]
            return self._start(fresh, self.last_step + 1)
        return self._join(news)

    def _place(self, line: Line, record: Record) -> list[Record]:
        step = self._step_of(line)
        fields = tuple(record)  # before its epoch and step are set: its metrics, after "type"
        if self.epoch is not None:
            record["epoch"] = int(self.epoch) if float(self.epoch).is_integer() else self.epoch
        pending = self.pending
        if step is not None:  # a per-step line
            self.per_step = True
            self.summary.steps += 1
            self.summary.step_lines[fields[1:]] += 1
            if pending is not None and step == pending["step"]:
                return self._join(record)
            return self._start(record, step)
        self.summary.epochs += 1
        self.summary.epoch_lines[fields[1:]] += 1
        # An epoch's line joins the step it closes, or the same epoch's other line (Lightning's
        # bar prints val_loss and val_acc on lines of their own).
        same_epoch = "epoch" in record and pending is not None and pending.get("epoch") == record["epoch"]
        if pending is not None and (self.per_step or same_epoch):
            return self._join(record)
        epoch = self.epoch
        whole = epoch is not None and float(epoch).is_integer() and epoch > self.last_step
        return self._start(record, int(epoch) if whole else self.last_step + 1)  # type: ignore[arg-type]

    def _join(self, record: Record) -> list[Record]:
        """Add what `record` has that the held-back record lacks; nothing is released."""
        for key, value in record.items():
            self.pending.setdefault(key, value)  # type: ignore[union-attr]
        return []

    def _start(self, record: Record, step: int) -> list[Record]:
        """Hold `record` back at `step` (never before the last), releasing the one held."""
        record["step"] = max(step, self.last_step + 1)
        self.last_step = record["step"]
        out = self.end()
        self.pending = record
        return out

    def _step_of(self, line: Line) -> int | None:
        """The global step of a per-step line; None for an epoch's line."""
        if line.step is not None:
            raw = line.step
            if self.last_raw_step is not None and raw < self.last_raw_step:
                self.step_offset = self.last_step + 1 - raw  # counted again from each epoch
            self.last_raw_step = raw
            return raw + self.step_offset
        if line.pos is None or line.pos_total is None or line.pos_total <= 0:
            return None
        if line.pos >= line.pos_total and not self.per_step:
            return None  # the last bar of an epoch: the epoch's own record
        known = self.epoch is not None and self.first_epoch is not None
        done = self.epoch - self.first_epoch if known else 0  # type: ignore[operator]
        return int(done * line.pos_total) + line.pos


def records_of(lines: Iterable[str], fields: FieldMap, summary_out: list[ReadSummary] | None = None,
               source: str = "text") -> Iterator[Record]:
    """The header and step records of one run's printed lines."""
    assembler = Assembler(fields)
    if summary_out is not None:
        summary_out.append(assembler.summary)
    started = False
    for text in lines:
        for record in assembler.feed(text):
            if not started:
                started = True
                yield {"type": "header", "source": source, "metrics": list(assembler.names)}
            yield record
    rest = assembler.end()
    if rest and not started:
        yield {"type": "header", "source": source, "metrics": list(assembler.names)}
    yield from rest
