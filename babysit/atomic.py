"""Replacing a file so a reader sees the old one or the whole new one, never half of it."""

from __future__ import annotations

import os
from pathlib import Path

from babysit.errors import BabysitError


def write_text_atomic(path: Path, text: str, what: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`; a
    BabysitError naming `what` (e.g. "fix report") if that fails."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a lone surrogate from a log (which UTF-8 cannot encode) is written as \ud800
        temp.write_text(text, encoding="utf-8", errors="backslashreplace")
        os.replace(temp, path)
    except OSError as exc:
        _discard(temp)
        raise BabysitError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    except BaseException:  # Ctrl-C mid-write: no .NAME.PID.tmp left behind
        _discard(temp)
        raise


def _discard(temp: Path) -> None:
    """Remove a temporary file if it is there and can be removed."""
    try:
        temp.unlink(missing_ok=True)
    except OSError:  # a read-only file system refuses the cleanup too (EROFS)
        pass


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (a link or another spelling included)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_overwriting_input(target: Path, source: Path, option: str) -> None:
    """A BabysitError when an output (`option`) would replace an input of the same command."""
    if same_file(target, source):
        raise BabysitError(f"{option} {target} is the input {source}: writing it would replace "
                           "the input; give another file name")
