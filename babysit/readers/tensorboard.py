"""TensorBoard logs: one event file, a run directory, or a directory of runs.

A run is a directory that holds event files (`events.out.tfevents.*`), named by its path below
the directory given: Lightning's `lightning_logs/version_0`, a SummaryWriter's `runs/<date>`.
Keras writes one run as two directories, `train/` and `validation/`, both with `epoch_loss`:
they are read as one run, the validation scalars named `validation/<tag>`. Several event files
in one directory (a restarted writer) are read in name order, which is time order.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record, Run
from babysit.readers.fields import FieldMap, StepAssembler, scalar_records
from babysit.readers.tfevents import DamagedRecord, records, scalars

FORMAT = "tensorboard"
EVENTS = "tfevents"
MAX_DEPTH = 6  # how deep below the given directory runs are looked for
_KERAS_PARTS = ("train", "validation")


def is_event_file(path: Path) -> bool:
    """True for a file named like TensorBoard's event files."""
    return EVENTS in path.name and path.is_file()


def _event_files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if is_event_file(p))
    except OSError:
        return []


def find_runs(root: Path) -> dict[str, list[tuple[str, Path]]]:
    """Runs under `root` (a file or directory): name -> [(tag prefix, event file), ...]."""
    if root.is_file():
        return {root.name: [("", root)]}
    runs: dict[str, list[tuple[str, Path]]] = {}
    for here, dirs, _ in os.walk(root):
        directory = Path(here)
        depth = len(directory.relative_to(root).parts)
        dirs[:] = sorted(dirs) if depth < MAX_DEPTH else []
        name = str(directory.relative_to(root)) if depth else root.name
        files = _event_files(directory)
        parts = {part: _event_files(directory / part) for part in _KERAS_PARTS if part in dirs}
        if not files and len(parts) == 2 and all(parts.values()):  # a Keras run
            runs[name] = [("" if part == "train" else f"{part}/", f)
                          for part, found in parts.items() for f in found]
            dirs[:] = [d for d in dirs if d not in _KERAS_PARTS]
        elif files:
            runs[name] = [("", f) for f in files]
    return runs


def _scalars_from(fh: IO[bytes], prefix: str, stats: ReadStats) -> Iterator[tuple[str, int, float, float]]:
    """(tag, step, value, wall time) of the whole records from fh's position on; a malformed
    Event is counted and skipped, a damaged record raises DamagedRecord."""
    for data in records(fh):
        stats.lines += 1
        try:
            found = scalars(data)
        except (ValueError, IndexError, struct.error):
            stats.note_malformed(stats.lines)
            continue
        for s in found:
            yield prefix + s.tag, s.step, s.value, s.wall_time


def read_scalars(files: list[tuple[str, Path]], stats: ReadStats) -> Iterator[tuple[str, int, float, float]]:
    """(tag, step, value, wall time) of every scalar in the files; damage is noted, not raised."""
    for prefix, path in files:
        try:
            with path.open("rb") as fh:
                yield from _scalars_from(fh, prefix, stats)
                if fh.read(1):  # bytes left over: the last record is still being written
                    stats.truncated_last_line = True
                    stats.unit = "record"
        except DamagedRecord as exc:
            stats.corrupt = f"a damaged TensorBoard record in {path.name} ({exc})"
        except OSError as exc:
            raise BabysitError(f"cannot read {path}: {exc.strerror}") from None


def run_records(files: list[tuple[str, Path]], stats: ReadStats, fields: FieldMap) -> Iterator[Record]:
    """One run's scalars as babysit records: a header, then one step record per logged step."""
    steps = scalar_records(read_scalars(files, stats), fields)
    stats.records = len(steps)
    if not steps:
        if stats.corrupt:  # damage, not names: --map would not help
            raise BabysitError(f"{files[0][1].parent}: the TensorBoard log is damaged before its "
                               f"first scalar: {stats.corrupt}")
        raise BabysitError(f"{files[0][1].parent}: the TensorBoard log holds no scalar babysit can "
                           "use (tags such as loss, train_loss, Loss/train, val_loss; add one with "
                           "--map loss=TAG)")
    yield {"type": "header", "source": FORMAT, "metrics": steps.names}
    yield from steps


def follow_run(root: Path, name: str, stats: ReadStats, fields: FieldMap,
               poll: float) -> Iterator[Record]:
    """A run's records as its event files grow (new files of the run are picked up too)."""
    yield {"type": "header", "source": FORMAT}
    offsets: dict[Path, int] = {}
    damaged: set[Path] = set()
    steps = StepAssembler(fields)
    while True:
        new = []
        for prefix, path in find_runs(root).get(name, []):
            if path in damaged:
                continue
            try:
                with path.open("rb") as fh:
                    fh.seek(offsets.get(path, 0))
                    try:
                        for item in _scalars_from(fh, prefix, stats):
                            new.append(item)
                    except DamagedRecord as exc:
                        stats.corrupt = f"a damaged TensorBoard record in {path.name} ({exc})"
                        damaged.add(path)
                    offsets[path] = fh.tell()
            except OSError:  # rotated away between listing and opening: next poll
                continue
        for rec in steps.add(new):
            stats.records += 1
            yield rec
        time.sleep(poll)


def open_runs(path: Path, fields: FieldMap) -> list[Run] | None:
    """The runs of a TensorBoard file or directory; None when `path` is not one."""
    if path.is_file() and not is_event_file(path):
        return None
    runs = find_runs(path)
    if not runs:
        return None
    return [Run(name, name, FORMAT,
                lambda stats, _wanted, files=files: run_records(files, stats, fields),
                lambda stats, poll, name=name: follow_run(path, name, stats, fields, poll))
            for name, files in runs.items()]
