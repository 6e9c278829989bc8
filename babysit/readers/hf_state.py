"""Hugging Face Trainer's trainer_state.json, streamed: its log_history entries are decoded one
at a time, so a 2 GB state costs megabytes, not the 4 GB of json.loads (a 65 MB one took
290 MB whole).

The file is one JSON object; its top level is walked by hand with json's own decoder for each
value (raw_decode), reading more of the file whenever a value runs past what is buffered. A
value over MAX_VALUE_BYTES is damage, not a log: refused in one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record
from babysit.readers.jsonl import MAX_BLANK_RUN, parse_line

MAX_VALUE_BYTES = 16 << 20
_CHUNK = 1 << 20
_SPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


class _Reader:
    """A text file read as JSON values, a buffer at a time."""

    def __init__(self, fh: IO[str], path: Path) -> None:
        self.fh, self.path = fh, path
        self.buf, self.pos, self.done = "", 0, False

    def _more(self) -> bool:
        chunk = self.fh.read(_CHUNK)
        if not chunk:
            self.done = True
            return False
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def char(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos:self.pos + 1]

    def take(self, expected: str) -> None:
        """Consume `expected`, or say what the file holds instead."""
        if self.char() != expected:
            raise BabysitError(f"cannot read {self.path} as JSON: expected {expected!r} at "
                               f"{self.buf[self.pos:self.pos + 20]!r}")
        self.pos += 1

    def take_separator(self, closing: str) -> None:
        """Consume the `,` after a value, or see `closing` (left for the caller) there."""
        if self.char() != closing:
            self.take(",")

    def value(self) -> Any:
        """The next whole JSON value."""
        self.char()
        while True:
            try:
                value, self.pos = _DECODER.raw_decode(self.buf, self.pos)
                return value
            except RecursionError:
                raise BabysitError(f"cannot read {self.path} as JSON: nested too deeply") from None
            except ValueError as exc:
                if len(self.buf) - self.pos > MAX_VALUE_BYTES or not self._more():
                    raise BabysitError(f"cannot read {self.path} as JSON: {exc}") from None


def state_parts(path: Path) -> Iterator[tuple[str, Any]]:
    """('entry', a log_history entry) for each entry, in order, and (key, value) for each
    other top-level field."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            reader = _Reader(fh, path)
            reader.take("{")
            while reader.char() != "}":
                key = reader.value()
                reader.take(":")
                if key == "log_history" and reader.char() == "[":
                    yield "log_history", []  # there is one (its entries follow)
                    reader.take("[")
                    while reader.char() != "]":
                        yield "entry", reader.value()
                        reader.take_separator("]")
                    reader.take("]")
                else:
                    yield str(key), reader.value()
                reader.take_separator("}")
            reader.take("}")
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None


def is_trainer_state(path: Path) -> bool:
    """True for one JSON object (a trainer_state.json), False for JSONL named .json.

    A trainer_state.json is pretty-printed, its first line a lone "{", or written on one line
    with a log_history; a JSONL log's first line is a whole record of its own.
    """
    with path.open("rb") as fh:
        first = b""
        for _ in range(MAX_BLANK_RUN):
            first = fh.readline(1 << 20)
            if not first:
                return False
            if first.strip():
                break
        else:
            return False  # a million blank lines: not a trainer_state.json
    text = first.strip()
    if text == b"{":
        return True
    if not first.endswith(b"\n"):  # one line over 1 MiB: a trainer_state.json written compactly
        return text.startswith(b"{") and b'"log_history"' in text
    obj = parse_line(text)
    return obj is not None and "log_history" in obj


def read_hf_state(path: Path, stats: ReadStats,
                  to_record: Callable[[dict[str, Any], int], Record | None]) -> Iterator[Record]:
    """Hugging Face Trainer's trainer_state.json: its log_history, train and eval entries, as
    `to_record(entry, index)` makes them. Read twice, streamed: the header (every metric name,
    the batch size and logging steps, written after the history) comes first."""
    names: dict[str, None] = {}
    fields: dict[str, Any] = {}
    entries = 0
    for key, value in state_parts(path):
        if key != "entry":
            fields[key] = value
            continue
        entries += 1
        if isinstance(value, dict):
            names.update((str(k), None) for k in value)
    if not entries and not isinstance(fields.get("log_history"), list):
        raise BabysitError(f"{path}: no log_history list (a Hugging Face trainer_state.json has one)")
    stats.lines = entries
    # A logged loss is the mean over logging_steps steps of train_batch_size examples each
    # (times any gradient accumulation, which the file does not keep: at least that many).
    yield {"type": "header", "source": "trainer_state.json", "metrics": list(names),
           "batch_size": fields.get("train_batch_size"), "log_every": fields.get("logging_steps")}
    produced = index = 0
    for key, entry in state_parts(path):
        if key != "entry":
            continue
        index += 1
        if not isinstance(entry, dict):
            stats.note_malformed(index)
            continue
        if "train_runtime" in entry:  # the end-of-training summary: its train_loss is the run's mean
            continue
        rec = to_record(entry, index - 1)
        if rec is not None:
            produced += 1
            yield rec
    if not produced:
        raise BabysitError(f"{path}: log_history has no loss or eval metric")
