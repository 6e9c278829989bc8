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
from itertools import chain, islice

from babysit.readers.common import Record, is_finite
from babysit.readers.fields import FieldMap
from babysit.readers.textlines import Plan, markers, shape

_ACC_FIELDS = ("train_acc", "val_acc")
# Where a run starts again: an epoch number lower than the last one. A cheap search over the
# raw text, so that a file's runs are known before any of them is parsed in full.
_EPOCH_MARK = re.compile(r"(?i)(?<![/\w])epoch\b[\s:=\[#'\"]{0,4}(\d+(?:\.\d+)?)")
_EPOCH_LOOSE = re.compile(rb"epoch\b[\s:=\[#'\"]{0,4}(\d+(?:\.\d+)?)")  # on lower-cased bytes
_METRIC_MARK = re.compile(r"(?i)(?:loss|acc)\w*\W{0,4}\d")


def epochs_go_back(chunks: Iterable[bytes]) -> bool:
    """Whether an epoch number printed in `chunks` (text as UTF-8, cut anywhere) is ever lower
    than one before it: a cheap first look, over whole chunks, before run_starts' line by line
    one. Its pattern is looser (any case, no look-behind), so what run_starts finds is a part
    of what it finds: when these never go back, neither do those."""
    last, carry = None, b""
    for chunk in chain(chunks, [b"\n"]):  # streamed: the closing newline settles the last line
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) > 1 << 20:  # one huge line: keep only what a mark could span
            cut = len(data) - 64
        block, carry = data[:cut], data[cut:]
        found = list(map(float, _EPOCH_LOOSE.findall(block.lower())))
        if last is not None and found:
            found.insert(0, last)
        if not all(map(operator.le, found, found[1:])):
            return True
        last = found[-1] if found else last
    return False


def run_starts(open_lines: Callable[[], Iterable[str]]) -> list[int]:
    """The indices of the lines where each run printed in `open_lines()` (each line without
    its newline) starts ([0] for one run): where an epoch number goes back. A part with no
    loss or accuracy (a preamble; `best epoch: 3` in a closing summary) starts no run of its
    own. Lines are searched a few thousand at a time, joined: one regular-expression pass a
    block, not one call a line."""
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


def _blocks(lines: Iterable[str], size: int = 4096, chars: int = 1 << 22) -> Iterator[tuple[str, int]]:
    """(lines joined, the index of the first) up to `size` lines at a time, fewer where they
    are long: a log of megabyte-long redrawn lines stays a few megabytes in memory."""
    lines, base = iter(lines), 0
    while batch := list(islice(lines, size)):
        if sum(map(len, batch)) > chars:  # rare: cut the batch where it passes `chars`
            start = length = 0
            for end, line in enumerate(batch, 1):
                length += len(line)
                if length >= chars or end == len(batch):
                    yield "\n".join(batch[start:end]), base + start
                    start, length = end, 0
        else:
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
    records: int = 0  # records made, the header included

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
        self.epoch_out: float | int | None = None  # the epoch as records carry it (3, not 3.0)
        self.first_epoch: float | None = None
        self.per_step = False  # some line was a per-step record
        self.last_step = -1
        self.step_offset = 0  # added to a step counter that restarts each epoch
        self.last_raw_step: int | None = None
        self.pending: Record | None = None  # the latest record: an epoch line may join it
        self.names: dict[str, None] = {}  # every metric name seen, in order (the task reads them)
        self.marked = False  # a metric line said where it is (an epoch, a step, a k/N counter)
        # per plan: (the plan, what its numbers give: start, end, field, written with %; the fields)
        self._picks: dict[int, tuple[Plan, tuple[tuple[int, int, str, bool], ...], tuple[str, ...]]] = {}

    def feed(self, text: str) -> list[Record]:
        """The records completed by one more line (the latest is held back for merging)."""
        text, plan = shape(text, self.columns)
        heads, _, _, _, _, _, row = plan
        if heads is not None:
            used = sum(self.fields.field_of(c) is not None for c in heads)
            self.columns = heads if used >= 2 else self.columns
            return []
        epoch, _, pos, total, step = markers(text, plan)
        if epoch is not None and epoch != self.epoch:
            self.epoch = epoch
            self.epoch_out = int(epoch) if epoch.is_integer() else epoch  # as records carry it
            if self.first_epoch is None:
                self.first_epoch = epoch
        found = self._picks.get(id(plan))
        if found is None:  # kept with its plan: the id is not reused while the plan is held here
            if len(self._picks) >= 4096:  # a log of ever new shapes: start over, stay bounded
                self._picks.clear()
            picks = self._picks_for(plan)
            found = self._picks[id(plan)] = (plan, picks, tuple(key for _, _, key, _ in picks))
        record = self._record(text, found[1])
        if record is None:
            if text.strip() and epoch is None:
                self.summary.skipped += 1
            return []
        if epoch is not None or step is not None or pos is not None or row:
            self.marked = True
        elif self.marked:  # `Total Validation loss: 0.74` after an epoch's steps: that epoch's
            return self._annotate(record)
        return self._place(self._step_of(step, pos, total), record, found[2])

    def end(self) -> list[Record]:
        """The record still held back."""
        held, self.pending = self.pending, None
        return [held] if held is not None else []

    @staticmethod
    def _record(text: str, picks: tuple[tuple[int, int, str, bool], ...]) -> Record | None:
        if not picks:
            return None
        record: Record = {"type": "step"}
        for start, end, key, percent in picks:
            value = float(text[start:end])
            if key in _ACC_FIELDS and (percent or 1.0 < value <= 100.0):  # 45.3%, 45.3: a percentage
                value /= 100.0
            record[key] = value
        return record

    def _picks_for(self, plan: Plan) -> tuple[tuple[int, int, str, bool], ...]:
        """(start, end, field, written with %) of each number a line of this plan gives a field
        (the best-ranked name of each, as FieldMap.pick chooses); () when it gives nothing to
        judge."""
        _, metrics, _, _, _, percent, _ = plan
        names = [name for _, _, name in metrics]
        if "train_runtime" in names:  # the Trainer's closing summary: its loss is the run's mean
            return ()
        for name in names:
            self.names.setdefault(name, None)
        chosen = {name: key for name, key in self.fields.chosen(names).items() if key != "epoch"}
        if not chosen or set(chosen.values()) == {"lr"}:  # a setting (`LR=0.001`), not a measurement
            return ()
        return tuple((start, end, chosen[name], name in percent) for start, end, name in metrics
                     if name in chosen)  # a name printed twice: the later value, as a dict keeps

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

    def _place(self, step: int | None, record: Record, fields: tuple[str, ...]) -> list[Record]:
        if self.epoch is not None:
            record["epoch"] = self.epoch_out
        pending = self.pending
        if step is not None:  # a per-step line
            self.per_step = True
            self.summary.steps += 1
            self.summary.step_lines[fields] += 1
            if pending is not None and step == pending["step"]:
                return self._join(record)
            return self._start(record, step)
        self.summary.epochs += 1
        self.summary.epoch_lines[fields] += 1
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

    def _step_of(self, step: int | None, pos: int | None, total: int | None) -> int | None:
        """The global step of a per-step line; None for an epoch's line."""
        if step is not None:
            if self.last_raw_step is not None and step < self.last_raw_step:
                self.step_offset = self.last_step + 1 - step  # counted again from each epoch
            self.last_raw_step = step
            return step + self.step_offset
        if pos is None or total is None or total <= 0:
            return None
        if pos >= total and not self.per_step:
            return None  # the last bar of an epoch: the epoch's own record
        known = self.epoch is not None and self.first_epoch is not None
        done = self.epoch - self.first_epoch if known else 0  # type: ignore[operator]
        return int(done * total) + pos


def records_of(lines: Iterable[str | None], fields: FieldMap, summary_out: list[ReadSummary] | None = None,
               source: str = "text") -> Iterator[Record]:
    """The header and step records of one run's printed lines; a None among them is a pause
    (a followed file that has nothing new): the record held back for merging is released."""
    assembler = Assembler(fields)
    if summary_out is not None:
        summary_out.append(assembler.summary)
    started = False
    summary = assembler.summary
    for text in lines:
        for record in assembler.end() if text is None else assembler.feed(text):
            if not started:
                started = True
                summary.records += 1
                yield {"type": "header", "source": source, "metrics": list(assembler.names)}
            summary.records += 1
            yield record
    rest = assembler.end()
    if rest and not started:
        summary.records += 1
        yield {"type": "header", "source": source, "metrics": list(assembler.names)}
    summary.records += len(rest)
    yield from rest
