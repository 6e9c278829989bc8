"""Every log format babysit reads, behind one call: `find_runs(path)`, the runs an input holds.

Each format is a module with `open_runs(path, fields) -> list[Run] | None` (None: not this
format). They are asked in order, each telling its format by the bytes, not the name
(readers/sniff.py); JSONL, which takes any file or stream, is last. Adding a
format is one module and one entry in READERS.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from babysit.errors import BabysitError
from babysit.readers import documents, jsonl, mlflow, tables, tensorboard, text, wandb
from babysit.readers.common import LayersWanted, ReadStats, Record, Run, is_finite, number
from babysit.readers.fields import FieldMap, parse_maps
from babysit.readers.inputs import check_readable, is_stream

READERS = (tensorboard, mlflow, wandb, tables, documents, text, jsonl)

__all__ = ["FieldMap", "LayersWanted", "ReadStats", "Record", "Run", "find_runs", "is_finite",
           "number", "parse_maps"]


def find_runs(path: Path, fields: FieldMap | None = None, run: str | None = None) -> list[Run]:
    """The runs in `path` (a log file, a stream, a TensorBoard or MLflow directory or store),
    only the one named `run` if given; a BabysitError when there is none."""
    fields = fields or FieldMap()
    if not path.is_dir():
        check_readable(path)
    found: list[Run] | None = None
    if is_stream(path):
        found = text.open_stream(path, fields) or jsonl.open_runs(path, fields)
    else:
        for reader in READERS:
            found = reader.open_runs(path, fields)
            if found is not None:
                break
    if found is None:
        raise BabysitError(f"{path} is a directory with no log babysit reads (TensorBoard event "
                           "files, an MLflow store, W&B run folders, a trainer_state.json); see "
                           "docs/log-format.md")
    if not found:
        raise BabysitError(f"{path} holds no run (an empty store: nothing to diagnose)")
    found = [_noting_unread(r, fields) for r in found]
    if run is not None:
        chosen = [r for r in found if run in (r.id, r.name)]
        if not chosen:
            names = ", ".join(r.name if r.name == r.id else f"{r.name} ({r.id})" for r in found)
            raise BabysitError(f"no run {run!r} in {path}; it has: {names}")
        return chosen
    return found


def _noting_unread(found: Run, fields: FieldMap) -> Run:
    """The run, its reading handing the loss-like names it did not read to its ReadStats.
    Runs of one input share a FieldMap and are read one after another: what the map saw
    while one run was read is that run's."""
    inner = found.read

    def read(stats: ReadStats, wanted: LayersWanted) -> Iterator[Record]:
        fields.unread.clear()
        yield from inner(stats, wanted)
        stats.unread.update(fields.unread)

    return dataclasses.replace(found, read=read)

