"""JSONL logs, read robustly: babysit's own, or the minimal JSONL other training code writes.

Never raises on a bad line: malformed lines are skipped and counted with their line numbers,
a half-written last line (a run still writing) is noted, gzip is read transparently. Only a
file that cannot be read at all, or holds no readable record, is a BabysitError.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record, Run, is_finite, number
from babysit.readers.fields import FieldMap, loss_like
from babysit.readers.inputs import is_stream, open_log_bytes

try:  # orjson parses log lines ~4x faster; it rejects the bare NaN tokens json accepts
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, but stay usable without it
    _fast_loads = json.loads

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
# No log writer leaves a million empty lines in a row; a file that holds them (2 GiB of
# newlines, gzipped to 2 MB) would take ~50 minutes to read at ~1.5 us a line. Reading stops
# there (about a second) and says so.
MAX_BLANK_RUN = 1_000_000


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
                 layers_wanted: Callable[[int], bool] | None = None,
                 span: tuple[int, int] | None = None) -> Iterator[Record]:
    """Yield the log's records in order (header, steps, summary), normalized.

    A step record always has an int `step`. Raises BabysitError only if the file cannot be
    opened, or when it is exhausted without a single readable record. The loop is written for
    speed (a million lines should take seconds): a well-formed step line takes the fast path,
    anything unusual falls back to parse_line and normalize. With `layers_wanted(step)`, a
    babysit log's layer statistics are not parsed for steps whose layers will not be used.
    With `span` (start, end byte offsets of a plain file), only the lines in it are read: one
    of several runs appended to the file.
    """
    stats = stats if stats is not None else ReadStats()
    step_index = 0
    last_step = -(2**63)
    lines = records = 0
    loads = _fast_loads
    skip_layers = False
    limit = MAX_LINE_BYTES
    last_kind = None
    blank_run = 0
    with open_log_bytes(path) as fh:
        readline = fh.readline if span is None else _bounded_readline(fh, *span)
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
                        blank_run += 1
                        if blank_run >= MAX_BLANK_RUN:
                            stats.blank_run_at = lines
                            break
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
                blank_run = 0
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
        what = ("is empty" if lines == 0 else f"starts with {MAX_BLANK_RUN:,} blank lines"
                if stats.blank_run_at else "has no readable JSON record")
        raise BabysitError(f"{path} {what} (expected one JSON object per line, see "
                           "docs/log-format.md)")


def _bounded_readline(fh: IO[bytes], start: int, end: int) -> Callable[[int], bytes]:
    """fh.readline for the lines from byte `start` up to (not including) the line at `end`."""
    fh.seek(start)
    left = end - start

    def readline(limit: int) -> bytes:
        nonlocal left
        if left <= 0:
            return b""
        raw = fh.readline(min(limit, left))
        left -= len(raw)
        return raw
    return readline


_HEADER_MARKS = (b'"type":"header"', b'"type": "header"')
_SCAN_CHUNK = 1 << 20


def header_offsets(path: Path) -> list[int]:
    """The byte offsets of the lines of a plain (not gzip) file that hold a header record.

    A byte search, not a parse (a million-line log is scanned in a fraction of a second); a
    line found is then parsed to make sure its record really is a header.
    """
    starts: list[int] = []
    keep = max(len(mark) for mark in _HEADER_MARKS) - 1
    with path.open("rb") as fh:
        base, carry = 0, b""  # the absolute offset of `carry + chunk`, and the overlap kept
        while chunk := fh.read(_SCAN_CHUNK):
            data = carry + chunk
            for mark in _HEADER_MARKS:
                at = data.find(mark)
                while at >= 0:
                    starts.append(_line_start(fh, base + at))
                    at = data.find(mark, at + 1)
            carry = data[-keep:]
            base += len(data) - len(carry)
    found = []
    with path.open("rb") as fh:
        for start in sorted(set(starts)):
            fh.seek(start)
            record = parse_line(fh.readline(MAX_LINE_BYTES).strip())
            if record is not None and record.get("type") == "header":
                found.append(start)
    return found


def _line_start(fh: IO[bytes], at: int) -> int:
    """The offset just after the last newline before `at` (the file position is kept)."""
    here = fh.tell()
    start = at
    while start > 0:
        size = min(start, 4096)
        fh.seek(start - size)
        cut = fh.read(size).rfind(b"\n")
        if cut >= 0:
            start = start - size + cut + 1
            break
        start -= size
    fh.seek(here)
    return start


def open_runs(path: Path, fields: FieldMap | None = None) -> list[Run] | None:
    """A JSONL log (plain or gzip, a file or a stream): the fallback for any non-directory.

    A plain file holding several headers holds several runs appended to it (a Monitor with
    append=True, or `>>`): each is its own run, named NAME#1, NAME#2, ... Names given with
    --map (`loss=train_loss`) are read as the field they name.
    """
    if path.is_dir():
        return None
    renames = fields.extra if fields is not None else {}

    def reader(span: tuple[int, int] | None) -> Callable[[ReadStats, Callable[[int], bool] | None],
                                                       Iterator[Record]]:
        if renames:
            return lambda stats, wanted: renamed(read_records(path, stats, wanted, span), renames)
        return lambda stats, wanted: read_records(path, stats, wanted, span)

    starts = _appended_runs(path)
    if len(starts) < 2:
        return [Run(path.name, path.name, "jsonl", reader(None))]
    size = path.stat().st_size
    spans = list(zip(starts, [*starts[1:], size], strict=True))
    return [Run(f"{path.name}#{i}", f"{path.name}#{i}", "jsonl", reader(span))
            for i, span in enumerate(spans, 1)]


def unread_keys(keys: Iterable[str]) -> list[str]:
    """The loss-like keys of a JSONL log's records that no field is read from, sorted."""
    return sorted(k for k in keys if isinstance(k, str) and "." not in k and k not in METRIC_KEYS
                  and loss_like(k))


def renamed(records: Iterator[Record], renames: dict[str, str]) -> Iterator[Record]:
    """The records with each --map name (matched case-insensitively) read as its field."""
    for record in records:
        if record.get("type", "step") in ("step", "epoch"):
            for key in [k for k in record if k.lower() in renames]:
                value = number(record.pop(key))
                if value is not None:
                    record[renames[key.lower()]] = value
        yield record


def _appended_runs(path: Path) -> list[int]:
    """Where each run of a plain file starts: [0] unless it holds more than one header."""
    if is_stream(path) or not path.is_file():
        return [0]
    with path.open("rb") as fh:
        if fh.read(2) == b"\x1f\x8b":  # gzip: read whole, as one run
            return [0]
    starts = header_offsets(path)
    if len(starts) < 2:
        return [0]
    return starts if starts[0] == 0 else [0, *starts]
