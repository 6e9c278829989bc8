"""A W&B run's own log, `run-<id>.wandb`: the history rows `run.log()` wrote, as step records.

The file is W&B's "datastore": a 7-byte header (`:W&B`, magic 0xBEE1, version 0), then
LevelDB-style log records in 32 KiB blocks (each: CRC-32 of type + data, length, type FULL /
FIRST / MIDDLE / LAST; a block's tail too short for a record header is padding). The framing is
read here by hand (40 lines, no dependency); the records inside are protobuf messages whose
classes only the wandb package has, so decoding them needs it (the `wandb` extra). Reading stops
at the first damaged record, with a note; what came before it is kept.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babysit.readers.common import ReadStats, Record
from babysit.readers.fields import FieldMap

HEADER = b":W&B\xe1\xbe\x00"
BLOCK = 32768
_RECORD_HEAD = struct.Struct("<IHB")  # crc, length, type
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def protobufs() -> Any | None:
    """wandb's record classes (wandb_internal_pb2), or None when wandb is not installed."""
    try:
        from wandb.proto import wandb_internal_pb2
    except Exception:
        return None
    return wandb_internal_pb2


def is_datastore(path: Path) -> bool:
    """Whether `path` starts with the datastore's header."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(HEADER)) == HEADER
    except OSError:
        return False


def payloads(path: Path, stats: ReadStats) -> Iterator[bytes]:
    """Each whole record's bytes, in order; a bad checksum or a cut record ends the reading."""
    with path.open("rb") as fh:
        if fh.read(len(HEADER)) != HEADER:
            stats.corrupt = "no W&B datastore header"
            return
        pos, pending = len(HEADER), b""
        while True:
            room = BLOCK - pos % BLOCK
            if room < _RECORD_HEAD.size:  # padding to the next block
                fh.read(room)
                pos += room
            head = fh.read(_RECORD_HEAD.size)
            if len(head) < _RECORD_HEAD.size:
                stats.truncated_last_line = bool(head.strip(b"\0")) or bool(pending)
                stats.unit = "record"
                return
            crc, length, kind = _RECORD_HEAD.unpack(head)
            data = fh.read(length)
            pos += _RECORD_HEAD.size + len(data)
            if kind == 0 and length == 0:  # zero fill
                continue
            if len(data) < length:
                stats.truncated_last_line = True
                return
            damaged = zlib.crc32(bytes([kind]) + data) & 0xFFFFFFFF != crc
            if damaged or kind not in (FULL, FIRST, MIDDLE, LAST):
                stats.corrupt = f"a damaged record at byte {pos - len(data) - _RECORD_HEAD.size:,}"
                return
            pending = data if kind in (FULL, FIRST) else pending + data
            if kind in (FULL, LAST):
                yield pending
                pending = b""


def _rows(path: Path, stats: ReadStats, pb: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """(record number, the history row's values by name) for each history record."""
    for index, raw in enumerate(payloads(path, stats)):
        record = pb.Record()
        try:
            record.ParseFromString(raw)
        except Exception:
            stats.note_malformed(index + 1)
            continue
        if record.WhichOneof("record_type") != "history":
            continue
        row: dict[str, Any] = {}
        for item in record.history.item:
            key = "/".join(item.nested_key) or item.key
            try:
                row[key] = json.loads(item.value_json)
            except ValueError:
                stats.note_bad_value(index + 1, key, item.value_json)
        yield index, row


def history_records(path: Path, stats: ReadStats, fields: FieldMap, pb: Any) -> Iterator[Record]:
    """The header (every name the history holds: read once through first, as the names say
    what the run is) and one step record per history row with a metric babysit uses."""
    names = {k: None for _, row in _rows(path, ReadStats(), pb) for k in row if not k.startswith("_")}
    yield {"type": "header", "source": "wandb", "metrics": list(names)}
    for index, row in _rows(path, stats, pb):
        picked = fields.pick({k: v for k, v in row.items() if isinstance(v, (int, float))})
        if not set(picked) - {"epoch"}:
            continue
        step = row.get("_step")
        if isinstance(picked.get("epoch"), float) and picked["epoch"].is_integer():
            picked["epoch"] = int(picked["epoch"])
        stats.records += 1
        whole = isinstance(step, (int, float)) and not isinstance(step, bool) and math.isfinite(step)
        yield {"type": "step", "step": int(step) if whole else index, **picked}
