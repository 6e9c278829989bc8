"""Replacing a file so a reader sees the old one or the whole new one, never half of it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from babysit.errors import BabysitError


def temp_beside(path: Path) -> Path:
    """A temporary name in `path`'s folder, short whatever `path`'s name: a name of 250 bytes
    (file systems allow 255) plus a prefix and suffix could not be created at all."""
    stem = path.name[:40]  # enough of the name to tell what it is for, in a listing
    return path.with_name(f".{stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_text_atomic(path: Path, text: str, what: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`; a
    BabysitError naming `what` (e.g. "fix report") if that fails."""
    temp = temp_beside(path)
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


# What marks a file as babysit's own output of a kind, in its first or last bytes: a report
# page (the generator tag from session 10 on; the closing line before), a --fix-report JSON.
MARKS = {"report": (b'<meta name="generator" content="babysit report">', b"Made by babysit report"),
         "fix report": (b'"fixed":', b'"attempts":')}
_PEEK = 4096


def is_own(path: Path, what: str) -> bool:
    """Whether `path` holds a `what` babysit wrote (so rewriting it is what the user asked)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_PEEK)
            fh.seek(max(0, path.stat().st_size - _PEEK))
            tail = fh.read(_PEEK)
    except OSError:
        return False
    return any(mark in head or mark in tail for mark in MARKS[what])


def refuse_replacing(path: Path, what: str, option: str, overwrite: bool = False) -> None:
    """The one rule for every file babysit writes: an existing file is replaced only when it is
    babysit's own output of the same kind (a report over the last report) or with --overwrite;
    never someone's log, page or data because an output name was mistyped."""
    if overwrite or not path.exists() or path.is_dir() or is_own(path, what):
        return
    raise BabysitError(f"{option} {path} exists and is not a babysit {what}: pass --overwrite to "
                       "replace it, or give another name")


def refuse_overwriting_input(target: Path, source: Path, option: str) -> None:
    """A BabysitError when an output (`option`) would replace an input of the same command."""
    if same_file(target, source):
        raise BabysitError(f"{option} {target} is the input {source}: writing it would replace "
                           "the input; give another file name")
