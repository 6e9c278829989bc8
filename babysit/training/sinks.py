"""Where records go: anything with emit(record) and close() can watch a run."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Protocol

from babysit.errors import BabysitError
from babysit.training.records import encode

Record = dict[str, Any]


class Sink(Protocol):
    """An observer of the record stream."""

    def emit(self, record: Record) -> None:
        """Receive one record (header, step or summary), in order."""

    def close(self) -> None:
        """The run is over; release resources."""


class JsonlSink:
    """Writes one strict-JSON line per record and flushes it, so a crash loses at most one line."""

    def __init__(self, path: Path, overwrite: bool = False) -> None:
        """Open `path` for writing; refuse to replace an existing log unless overwrite."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: io.TextIOWrapper | None = path.open("w" if overwrite else "x", encoding="utf-8")
        except FileExistsError:
            raise BabysitError(f"log {path} already exists (pass --overwrite to replace it)") from None
        except OSError as exc:
            raise BabysitError(f"cannot write log {path}: {exc.strerror}") from None

    def emit(self, record: Record) -> None:
        """Append the record as one line and flush it to the OS."""
        if self._fh is None:
            return
        self._fh.write(encode(record) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class MemorySink:
    """Keeps every record in a list: for tests and the Python API."""

    def __init__(self) -> None:
        """Start with no records."""
        self.records: list[Record] = []

    def emit(self, record: Record) -> None:
        """Keep the record."""
        self.records.append(record)

    def close(self) -> None:
        """Nothing to release."""
