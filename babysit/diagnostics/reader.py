"""Reads run logs robustly: babysit's own, or the minimal JSONL other training code writes.

Never raises on a bad line: malformed lines are skipped and counted with their line numbers,
a half-written last line (a run still writing) is noted, gzip is read transparently. Only a
file that cannot be read at all, or holds no readable record, is a BabysitError.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babysit.diagnostics.inputs import check_readable, is_stream, open_log_bytes
from babysit.errors import BabysitError

try:  # orjson parses log lines ~4x faster; it rejects the bare NaN tokens json accepts
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, but stay usable without it
    _fast_loads = json.loads

Record = dict[str, Any]
MAX_REPORTED_LINES = 20  # line numbers kept per problem kind: bounded memory on huge logs
_NONFINITE_STRINGS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
                      "-infinity"}


def number(value: Any) -> float | None:
    """A metric value as float; NaN/Infinity however written; None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _NONFINITE_STRINGS:
            return float(text.replace("infinity", "inf"))
        try:
            return float(text)
        except ValueError:
            return None
    return None


def is_finite(value: float | None) -> bool:
    """True for a real, finite number."""
    return value is not None and math.isfinite(value)


@dataclass
class ReadStats:
    """What the reader had to skip or guess, for the report."""

    lines: int = 0
    records: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)
    truncated_last_line: bool = False
    non_monotonic_steps: int = 0
    long_lines: int = 0
    bad_values: int = 0
    bad_value_examples: list[str] = field(default_factory=list)
    corrupt: str | None = None  # why reading stopped early (a damaged gzip stream)
    run_header: bool = False  # a babysit header (with a run id): such a run ends with a summary
    summary: bool = False

    def note_malformed(self, line_no: int) -> None:
        """Count a line that is not a JSON object."""
        self.malformed += 1
        if len(self.malformed_lines) < MAX_REPORTED_LINES:
            self.malformed_lines.append(line_no)

    def note_bad_value(self, line_no: int, key: str, value: Any) -> None:
        """Count a metric that is neither a number nor null (true, {}, [], "abc")."""
        self.bad_values += 1
        if len(self.bad_value_examples) < MAX_REPORTED_LINES:
            text = json.dumps(value) if isinstance(value, (bool, str, list, dict)) else repr(value)
            self.bad_value_examples.append(f"line {line_no} {key}={text[:20]}")


def parse_line(text: bytes) -> Record | None:
    """One log line as a JSON object, or None if it is not one (any JSON dialect we accept)."""
    try:
        obj = _fast_loads(text)
    except (ValueError, RecursionError):
        try:  # bare NaN / Infinity tokens, as Python's json.dumps writes them
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return None
    return obj if isinstance(obj, dict) else None


def normalize(obj: Record, index: int) -> Record:
    """Default the type to step and the step to the record's position; flags -> NaN."""
    kind = obj.get("type")
    if kind is None:  # absent or null: a step, as the minimal format says
        kind = obj["type"] = "step"
    if kind == "step":
        step = obj.get("step")
        if step.__class__ is not int:
            step = number(step)
            obj["step"] = int(step) if is_finite(step) else index
        for key in obj.get("nonfinite", ()) if isinstance(obj.get("nonfinite"), list) else ():
            if isinstance(key, str) and obj.get(key) is None:
                obj[key] = math.nan
    return obj


# Metric fields whose value must be a number (or null, or a NaN / Infinity spelling). They are
# checked on every line whose loss is not a plain float and on every epoch-end line.
METRIC_KEYS = ("loss", "data_loss", "reg_loss", "val_loss", "train_acc", "val_acc", "lr")
# Longer lines are skipped (and counted) unread: memory stays bounded on any input.
MAX_LINE_BYTES = 16 << 20


def check_values(obj: Record, line_no: int, stats: ReadStats) -> None:
    """Note metric values that are not numbers; they are then ignored like absent ones."""
    for key in METRIC_KEYS:
        value = obj.get(key)
        if value is not None and value.__class__ is not float and number(value) is None:
            stats.note_bad_value(line_no, key, value)
            obj[key] = None


LAYERS_LAST_SCHEMA = 2  # babysit logs from this schema on write `layers` as the last field
_LAYERS_KEY = b',"layers":'


def _layers_last(header: Record) -> bool:
    """True for a header of babysit's own log with `layers` written last on every step."""
    version = header.get("schema_version")
    return (isinstance(version, int) and version >= LAYERS_LAST_SCHEMA
            and isinstance(header.get("config"), dict) and "run_id" in header)


def _without_layers(raw: bytes, wanted: Callable[[int], bool]) -> Record | None:
    """The record parsed without its `layers` object, if its step's layers are not wanted.

    Only for babysit logs (see _layers_last), where `layers` is the last field: cutting the
    line before it leaves valid JSON. None when the layers are wanted or cannot be cut.
    """
    cut = raw.find(_LAYERS_KEY)
    if cut < 0:
        return None
    try:
        head = _fast_loads(raw[:cut] + b"}")
    except ValueError:
        return None
    step = head.get("step") if isinstance(head, dict) else None
    if step.__class__ is not int or wanted(step):
        return None
    return head


def read_records(path: Path, stats: ReadStats | None = None,
                 layers_wanted: Callable[[int], bool] | None = None) -> Iterator[Record]:
    """Yield the log's records in order (header, steps, summary), normalized.

    A step record always has an int `step`. Raises BabysitError only if the file cannot be
    opened, or when it is exhausted without a single readable record. The loop is written for
    speed (a million lines should take seconds): a well-formed step line takes the fast path,
    anything unusual falls back to parse_line and normalize. With `layers_wanted(step)`, a
    babysit log's layer statistics are not parsed for steps whose layers will not be used.
    """
    stats = stats if stats is not None else ReadStats()
    step_index = 0
    last_step = -(2**63)
    lines = records = 0
    loads = _fast_loads
    skip_layers = False
    limit = MAX_LINE_BYTES
    last_kind = None
    with open_log_bytes(path) as fh:
        readline = fh.readline
        try:
            while raw := readline(limit):
                lines += 1
                if len(raw) == limit and not raw.endswith(b"\n"):
                    while (rest := readline(limit)) and not rest.endswith(b"\n"):
                        pass  # skip the rest of the overlong line without keeping it
                    stats.long_lines += 1
                    stats.note_malformed(lines)
                    continue
                obj = _without_layers(raw, layers_wanted) if skip_layers else None  # type: ignore[arg-type]
                if obj is None:
                    try:
                        obj = loads(raw)  # JSON allows the trailing newline as whitespace
                    except (ValueError, RecursionError):
                        obj = None
                if obj.__class__ is not dict:
                    text = raw.strip()
                    if not text:
                        continue
                    obj = parse_line(text)
                    if obj is None:
                        if not raw.endswith(b"\n"):
                            stats.truncated_last_line = True
                        else:
                            stats.note_malformed(lines)
                        continue
                kind = obj.get("type")
                step = obj.get("step")
                # A float loss on a line without epoch metrics is the common, well-formed case.
                if (obj.get("loss").__class__ is not float or "val_loss" in obj
                        or "val_acc" in obj or "train_acc" in obj):
                    check_values(obj, lines, stats)
                if kind == "header":
                    stats.run_header = "run_id" in obj
                    if layers_wanted is not None:
                        skip_layers = _layers_last(obj)
                last_kind = kind
                if kind is None or kind == "step":
                    if kind is None or step.__class__ is not int or "nonfinite" in obj:
                        obj = normalize(obj, step_index)
                        step = obj["step"]
                    step_index += 1
                    if step <= last_step:
                        stats.non_monotonic_steps += 1
                    last_step = step
                records += 1
                yield obj
        except EOFError:  # gzip cut short: a run still writing, or a copy taken too early
            stats.truncated_last_line = True
            if records == 0:
                raise BabysitError(f"cannot read {path}: its gzip data ends before the first "
                                   "whole line") from None
        except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError: CRC, bad data
            where = f"after line {lines}" if lines else "at its start"
            stats.corrupt = f"damaged gzip data {where} ({exc})"
            if records == 0:
                raise BabysitError(f"cannot read {path}: {stats.corrupt}") from None
        finally:
            stats.lines, stats.records = lines, records
            stats.summary = last_kind == "summary"
    if records == 0:
        what = "is empty" if lines == 0 else "has no readable JSON record"
        raise BabysitError(f"{path} {what} (expected one JSON object per line, see "
                           "docs/log-format.md)")


def read_log(path: Path, stats: ReadStats | None = None,
             layers_wanted: Callable[[int], bool] | None = None) -> Iterator[Record]:
    """Any log babysit reads: .csv (Keras or Lightning CSVLogger), a Hugging Face
    trainer_state.json, anything else JSONL (plain or gzip). Pipes and stdin are JSONL."""
    from babysit.diagnostics.formats import read_csv_log, read_hf_state

    stats = stats if stats is not None else ReadStats()
    check_readable(path)
    if not is_stream(path):
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return read_csv_log(path, stats)
        if suffix == ".json" and _is_trainer_state(path):
            return read_hf_state(path, stats)
    return read_records(path, stats, layers_wanted)


def _is_trainer_state(path: Path) -> bool:
    """True for one JSON object (a trainer_state.json), False for JSONL named .json.

    A trainer_state.json is pretty-printed, its first line a lone "{", or written on one line
    with a log_history; a JSONL log's first line is a whole record of its own.
    """
    with path.open("rb") as fh:
        first = b""
        while not first.strip():
            first = fh.readline(1 << 20)
            if not first:
                return False
    text = first.strip()
    if text == b"{":
        return True
    obj = parse_line(text)
    return obj is not None and "log_history" in obj
