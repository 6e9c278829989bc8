"""Reads run logs robustly: babysit's own, or the minimal JSONL other training code writes.

Never raises on a bad line: malformed lines are skipped and counted with their line numbers,
a half-written last line (a run still writing) is noted, gzip is read transparently. Only a
file that cannot be read at all, or holds no readable record, is a BabysitError.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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

    def note_malformed(self, line_no: int) -> None:
        """Count a line that is not a JSON object."""
        self.malformed += 1
        if len(self.malformed_lines) < MAX_REPORTED_LINES:
            self.malformed_lines.append(line_no)


def check_readable(path: Path) -> None:
    """A BabysitError unless `path` is an existing file."""
    if not path.exists():
        raise BabysitError(f"log not found: {path}")
    if path.is_dir():
        raise BabysitError(f"{path} is a directory, expected a JSONL log file")


def _open(path: Path) -> IO[bytes]:
    check_readable(path)
    try:
        fh: IO[bytes] = path.open("rb")
        magic = fh.read(2)
        fh.seek(0)
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    if magic == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")
    return fh


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
    with _open(path) as fh:
        try:
            for raw in fh:
                lines += 1
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
                if kind == "header" and layers_wanted is not None:
                    skip_layers = _layers_last(obj)
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
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            # A truncated or corrupt gzip stream: keep what was read, note the rest.
            stats.truncated_last_line = True
            if records == 0:
                raise BabysitError(f"cannot read {path}: {exc}") from None
        finally:
            stats.lines, stats.records = lines, records
    if records == 0:
        what = "is empty" if lines == 0 else "has no readable JSON record"
        raise BabysitError(f"{path} {what} (expected one JSON object per line, see "
                           "docs/log-format.md)")


def read_log(path: Path, stats: ReadStats | None = None,
             layers_wanted: Callable[[int], bool] | None = None) -> Iterator[Record]:
    """Any log babysit reads, by its name: .csv (Keras or Lightning CSVLogger), .json
    (Hugging Face trainer_state.json), anything else JSONL (plain or gzip)."""
    from babysit.diagnostics.formats import read_csv_log, read_hf_state

    stats = stats if stats is not None else ReadStats()
    check_readable(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_log(path, stats)
    if suffix == ".json" and not _first_line_is_a_record(path):
        return read_hf_state(path, stats)
    return read_records(path, stats, layers_wanted)


def _first_line_is_a_record(path: Path) -> bool:
    """True when the file's first line is a whole JSON object: JSONL that happens to be
    named .json (a trainer_state.json is one pretty-printed object, its first line "{")."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    return parse_line(first.strip()) is not None
