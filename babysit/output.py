"""Standard output that can never stop a run: it is for progress and reports, which are disposable.

A closed pipe (`babysit train | head -1`), a hung-up terminal or an encoding that cannot show
a character must not crash training or lose its log. Writes that fail go to /dev/null from
then on; characters the encoding lacks are written as escapes.
"""

from __future__ import annotations

import codecs
import os
import sys
from typing import Any, TextIO

ONE_CELL = "babysit-one-cell"  # an encoding error handler for full-screen drawing (below)
_SPARK = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
_SPARK_ASCII = "_.-=+*%#"
_SIMILAR = {"\u00b7": ".", "\u2026": ".", "\u2192": ">", "\u2190": "<", "\u2014": "-",
            "\u2013": "-", "\u00b1": "+"}


def _one_cell(char: str) -> str:
    """An ASCII stand-in of the same width: braille plot dots by density, bars by height."""
    code = ord(char)
    if 0x2800 <= code <= 0x28FF:  # braille: the plots
        dots = (code - 0x2800).bit_count()
        return " " if dots == 0 else "." if dots <= 2 else ":" if dots <= 5 else "#"
    if char in _SPARK:
        return _SPARK_ASCII[_SPARK.index(char)]
    return _SIMILAR.get(char, "?")


def _one_cell_errors(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(_one_cell(c) for c in exc.object[exc.start:exc.end]), exc.end


# Escapes like \u2800 would be six cells wide and tear a full-screen layout apart.
codecs.register_error(ONE_CELL, _one_cell_errors)


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


def make_output_safe(errors: str = "backslashreplace") -> None:
    """Make sys.stdout disposable, and both output streams write characters their encoding
    lacks as escapes (or, with errors=ONE_CELL, as ASCII look-alikes one cell wide)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=errors)
    if sys.stdout is not None and not isinstance(sys.stdout, DisposableStream):
        sys.stdout = DisposableStream(sys.stdout)  # type: ignore[assignment]
