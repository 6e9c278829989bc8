"""What every reader shares: the record type, numbers however they are written, and the
statistics of what a reader had to skip or guess (shown as notes in reports)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
LayersWanted = Callable[[int], bool] | None  # which steps' layer statistics a reader must parse
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
    blank_run_at: int = 0  # the line where reading stopped after too many blank lines
    run_header: bool = False  # a babysit header (with a run id): such a run ends with a summary
    summary: bool = False
    described: str | None = None  # what a reader of printed output took from the text
    unit: str = "line"  # what the log is made of, for the notes: a line, a TensorBoard record
    unread: dict[str, None] = field(default_factory=dict)  # loss-like names no field reads

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




@dataclass(frozen=True)
class Run:
    """One run found in an input: what reports call it, and how to read its records."""

    id: str  # what --run selects: an MLflow run id, a TensorBoard run's directory, a file name
    name: str  # how reports name it (an MLflow run name; else the id)
    format: str
    read: Callable[[ReadStats, LayersWanted], Iterator[Record]]
    # Records as the run is being written (header first; a summary, if any, ends them), polling
    # every given number of seconds; None for formats that are only read whole.
    follow: Callable[[ReadStats, float], Iterator[Record]] | None = None
    framework: str | None = None  # who wrote it, when the file says (a Keras CSV, Lightning's)
