"""What a file holds, told by its first bytes rather than its name: a Keras CSVLogger file is
called `training.log`, a JSONL log `metrics.txt`, printed output `train.out` or `log.csv`.

One of: "jsonl" (a JSON object per line), "json" (one JSON document: a trainer_state.json, a
notebook, a Keras history), "csv", "text" (printed output), "binary" (none of them: NUL bytes
or mostly undecodable), or "empty".
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from pathlib import Path

from babysit.errors import BabysitError
from babysit.readers.common import number
from babysit.readers.inputs import open_log_bytes

SNIFF_BYTES = 1 << 16
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def head_bytes(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first `size` bytes of a regular file (gunzipped); b'' when it cannot be read."""
    try:
        with open_log_bytes(path) as fh:
            return fh.read(size)
    except (BabysitError, OSError, EOFError, zlib.error):
        return b""


def decode_head(head: bytes) -> str | None:
    """The text of a file's first bytes, or None for binary data."""
    if head.startswith(UTF16_BOMS):
        return head.decode("utf-16", errors="replace")
    if b"\x00" in head:
        return None
    text = head.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > 0.1 * max(len(text), 1):  # Latin-1 text has a few; compressed data is mostly that
        return None
    return text


def kind_of(path: Path) -> str:
    """The kind of content `path` holds (see the module docstring). Not cached: a file
    rewritten within the clock's resolution would keep its old kind; 64 KB costs microseconds."""
    head = head_bytes(path)
    if not head.strip():
        return "empty"
    text = decode_head(head)
    if text is None:
        return "binary"
    text = text.lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "empty"
    first = lines[0].strip()
    if first.startswith("["):  # a JSON array: no log format babysit knows, JSONL's error says so
        return "json"
    if first.startswith("{"):
        for candidate in lines[:20]:
            try:
                obj = json.loads(candidate)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                return "jsonl" if "log_history" not in obj or len(lines) > 1 else "json"
        if first == "{" or first.startswith('{"') or first.startswith("{ \""):
            return "json"
        return "text"
    if _is_csv(lines):
        return "csv"
    return "text"


def _is_csv(lines: list[str]) -> bool:
    """A header row of names, then rows of the same width holding numbers."""
    if len(lines) < 2 or "," not in lines[0]:
        return False
    try:
        rows = list(csv.reader(io.StringIO("\n".join(lines[:6]))))
    except csv.Error:
        return False
    names = rows[0]
    if len(names) < 2 or any(number(n) is not None for n in names if n.strip()):
        return False
    if not all(n.strip() and len(n) < 200 and "  " not in n.strip() for n in names[1:]):
        return False
    body = [r for r in rows[1:-1] if r] if len(rows) > 2 else rows[1:]
    return bool(body) and all(len(r) == len(names) and any(number(v) is not None for v in r)
                              for r in body)
