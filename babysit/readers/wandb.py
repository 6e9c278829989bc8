"""Weights & Biases run folders, as `wandb` leaves them on disk: `wandb/run-<date>-<id>/` (and
`offline-run-...`), each holding `files/output.log`, the script's captured stdout and stderr.

That capture is read as printed output (readers/text.py). The run's history proper lives in
`run-<id>.wandb`, a log of protobuf records only the wandb package's own classes decode; it is
not read (a note says so), and neither is `wandb-summary.json` (the last values only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from babysit.readers.common import LayersWanted, ReadStats, Record, Run
from babysit.readers.fields import FieldMap
from babysit.readers.text import follow_text, read_text

OUTPUT = Path("files") / "output.log"
HISTORY_NOTE = ("the W&B history (run-*.wandb) is not read, only the printed output the run "
                "captured (files/output.log)")


def run_folders(path: Path) -> list[Path]:
    """The W&B run folders at `path`: itself, or the runs of a `wandb/` folder (the
    `latest-run` link names one of them again and is skipped)."""
    if (path / OUTPUT).is_file():
        return [path]
    found: dict[Path, Path] = {}
    for child in sorted(path.glob("*run-*")):
        if child.is_dir() and not child.is_symlink() and (child / OUTPUT).is_file():
            found.setdefault(child.resolve(), child)
    return list(found.values())


def _reader(folder: Path, fields: FieldMap) -> Callable[[ReadStats, LayersWanted], Iterator[Record]]:
    """How a run folder is read: its captured output, with a note on what is not read."""
    def read(stats: ReadStats, _: LayersWanted) -> Iterator[Record]:
        yield from read_text(folder / OUTPUT, stats, fields, source="wandb")
        stats.described = f"{stats.described}; {HISTORY_NOTE}" if stats.described else HISTORY_NOTE
    return read


def open_runs(path: Path, fields: FieldMap) -> list[Run] | None:
    """A W&B run folder or a `wandb/` folder of them; else None."""
    if not path.is_dir():
        return None
    folders = run_folders(path)
    if not folders:
        return None
    return [Run(folder.name, folder.name, "wandb", _reader(folder, fields),
                follow=lambda stats, poll, log=folder / OUTPUT: follow_text(log, stats, fields, poll))
            for folder in folders]
