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
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise BabysitError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
