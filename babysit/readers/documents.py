"""Logs kept as one JSON document: a Jupyter notebook whose cell outputs hold the training
loop's printed output, and a Keras `history.history` dumped with json.dump (a dict of lists).

Both are read whole, so their size is bounded (MAX_DOCUMENT_BYTES): a notebook full of
base64 plots is refused with a one-line error rather than read into gigabytes of memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record, Run, number
from babysit.readers.fields import FieldMap
from babysit.readers.inputs import is_gzip, is_stream
from babysit.readers.printed import ReadSummary, epochs_go_back, records_of, run_starts
from babysit.readers.sniff import head_bytes, kind_of

MAX_DOCUMENT_BYTES = 100 << 20
_LIST_VALUE = re.compile(rb'"\s*:\s*\[')


def _load(path: Path, what: str) -> Any:
    """The JSON document in `path`, refused when it is too large to read whole."""
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise BabysitError(f"{path} is a {what} of {size / 2**20:,.0f} MB; babysit reads one up to "
                           f"{MAX_DOCUMENT_BYTES >> 20} MB whole (save the training output as text "
                           "and diagnose that)")
    try:
        return json.loads(path.read_bytes())
    except RecursionError:
        raise BabysitError(f"cannot read {path} as JSON: nested too deeply") from None
    except (OSError, ValueError) as exc:
        raise BabysitError(f"cannot read {path} as a {what}: {exc}") from None


def cell_texts(notebook: Any) -> Iterator[tuple[int, str]]:
    """(cell number from 1, the text its outputs printed) for each code cell, in order:
    streams (stdout, stderr) and the text/plain of results; images and HTML are skipped."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return
    for number_, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        parts = []
        for out in cell.get("outputs") or []:
            if not isinstance(out, dict):
                continue
            text = out.get("text") if out.get("output_type") == "stream" else \
                (out.get("data") or {}).get("text/plain") if isinstance(out.get("data"), dict) else None
            if isinstance(text, list):
                text = "".join(t for t in text if isinstance(t, str))
            if isinstance(text, str):
                parts.append(text if text.endswith("\n") else text + "\n")
        if parts:
            yield number_, "".join(parts)


def _notebook_runs(path: Path, notebook: Any, fields: FieldMap) -> list[Run]:
    """One run per training loop printed in a cell (a cell with two `fit` calls holds two)."""
    found: list[tuple[str, list[Record], ReadSummary]] = []
    for cell, text in cell_texts(notebook):
        lines = text.split("\n")  # not splitlines: a `\r` redraw stays within its line
        starts = run_starts(lambda lines=lines: lines) if epochs_go_back([text.encode()]) else [0]
        for part, (start, end) in enumerate(zip(starts, [*starts[1:], len(lines)], strict=True), 1):
            summaries: list[ReadSummary] = []
            records = list(records_of(lines[start:end], fields, summaries, "notebook"))
            if sum(r["type"] == "step" for r in records) >= 2:  # `Accuracy: 53%` once is no loop
                found.append((f"cell {cell}" + (f".{part}" if len(starts) > 1 else ""), records,
                              summaries[0]))
    if not found:
        raise BabysitError(f"{path}: no cell output holds a training metric babysit reads "
                           "(expected printed lines such as `Epoch 3/10 ... loss: 0.41`)")

    def reader(records: list[Record], summary: ReadSummary) -> Callable[[ReadStats, Any], Iterator[Record]]:
        def read(stats: ReadStats, _: Any) -> Iterator[Record]:
            stats.records = len(records)
            stats.described = summary.sentence()
            yield from (dict(r) for r in records)
        return read
    if len(found) == 1:
        return [Run(path.name, path.name, "notebook", reader(*found[0][1:]))]
    return [Run(f"{path.name}#{name}", f"{path.name}#{name}", "notebook", reader(records, summary))
            for name, records, summary in found]


def _history_records(history: dict[str, Any], fields: FieldMap) -> Iterator[Record]:
    """A Keras History dict ({'loss': [...], 'val_loss': [...]}) as one record per epoch."""
    yield {"type": "header", "source": "keras_history", "metrics": list(history)}
    length = max(len(v) for v in history.values())
    for epoch in range(length):
        row = {k: v[epoch] for k, v in history.items() if epoch < len(v)}
        rec = fields.pick(row)
        rec.pop("epoch", None)
        if rec:
            yield {"type": "step", "step": epoch, "epoch": epoch, **rec}


def _is_history(obj: Any, fields: FieldMap) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(v, list) and all(number(x) is not None for x in v[:100]) for v in obj.values()) \
        and any(fields.field_of(str(k)) is not None for k in obj)


def open_runs(path: Path, fields: FieldMap) -> list[Run] | None:
    """A notebook (.ipynb, or JSON with cells) or a Keras history JSON; else None."""
    if path.is_dir() or is_stream(path) or not path.is_file() or is_gzip(path):
        return None
    if path.suffix.lower() == ".ipynb":
        return _notebook_runs(path, _load(path, "notebook"), fields)
    head = head_bytes(path, 4096)
    if not head.lstrip().startswith(b"{") or kind_of(path) not in ("json", "jsonl"):
        return None
    if b'"cells"' in head:  # a notebook saved under another name
        notebook = _load(path, "notebook")
        if isinstance(notebook, dict) and isinstance(notebook.get("cells"), list):
            return _notebook_runs(path, notebook, fields)
        return None
    if not _LIST_VALUE.search(head) or path.stat().st_size > MAX_DOCUMENT_BYTES:
        return None
    try:
        obj = json.loads(path.read_bytes())
    except (ValueError, RecursionError, OSError):
        return None  # JSON lines, or damaged: the JSONL reader says what is wrong
    if not _is_history(obj, fields):
        return None
    return [Run(path.name, path.name, "keras_history",
                lambda stats, _: _history_records(obj, fields), framework="keras")]
