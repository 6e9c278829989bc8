"""Standard output that can never stop a run: it is for progress and reports, which are disposable.

A closed pipe (`babysit train | head -1`), a hung-up terminal or an encoding that cannot show
a character must not crash training or lose its log. Writes that fail go to /dev/null from
then on; characters the encoding lacks are written as escapes.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class DisposableStream:
    """Wraps a text stream: once a write or flush fails, later output goes to /dev/null."""

    def __init__(self, stream: TextIO) -> None:
        """Wrap `stream` (sys.stdout)."""
        self._stream = stream

    def _silence(self) -> None:
        try:  # point the file descriptor at /dev/null, so buffered bytes have somewhere to go
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no descriptor (a test's StringIO)
            pass

    def write(self, text: str) -> int:
        """Write, or drop the text if the reader has gone."""
        try:
            return self._stream.write(text)
        except OSError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        """Flush, or drop the buffered text if the reader has gone."""
        try:
            self._stream.flush()
        except OSError:
            self._silence()
            try:
                self._stream.flush()
            except OSError:
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def make_output_safe() -> None:
    """Make sys.stdout disposable and both output streams escape unencodable characters."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    if sys.stdout is not None and not isinstance(sys.stdout, DisposableStream):
        sys.stdout = DisposableStream(sys.stdout)  # type: ignore[assignment]
