"""Weights & Biases run folders, as `wandb` leaves them on disk: `wandb/run-<date>-<id>/` (and
`offline-run-...`), each holding its own log `run-<id>.wandb` and `files/output.log`, the
script's captured stdout and stderr.

The history rows `run.log()` wrote are read from `run-<id>.wandb` (readers/wandb_log.py) when
the wandb package is installed (the `wandb` extra: its record classes decode them); otherwise,
or when the history holds no metric babysit uses, the captured output is read as printed output
(readers/text.py), and a note says which. `wandb-summary.json` (the last values only) is not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from babysit.errors import BabysitError
from babysit.readers.common import LayersWanted, ReadStats, Record, Run
from babysit.readers.fields import FieldMap
from babysit.readers.text import follow_text, read_text
from babysit.readers.wandb_log import history_records, is_datastore, protobufs

OUTPUT = Path("files") / "output.log"
NO_WANDB = ("the W&B history (run-*.wandb) needs the wandb package to decode (pip install "
            "'babysit[wandb]'): read from the printed output the run captured instead")


def run_folders(path: Path) -> list[Path]:
    """The W&B run folders at `path`: itself, or the runs of a `wandb/` folder (the
    `latest-run` link names one of them again and is skipped)."""
    if _is_run(path):
        return [path]
    found: dict[Path, Path] = {}
    for child in sorted(path.glob("*run-*")):
        if child.is_dir() and not child.is_symlink() and _is_run(child):
            found.setdefault(child.resolve(), child)
    return list(found.values())


def _is_run(folder: Path) -> bool:
    return (folder / OUTPUT).is_file() or _history(folder) is not None


def _history(folder: Path) -> Path | None:
    """The run's own log, `run-<id>.wandb`, if it has one."""
    return next((p for p in sorted(folder.glob("run-*.wandb")) if is_datastore(p)), None)


def _reader(folder: Path, fields: FieldMap) -> Callable[[ReadStats, LayersWanted], Iterator[Record]]:
    """The history when wandb can decode it and it holds a metric babysit uses, else the
    captured output."""
    def read(stats: ReadStats, _: LayersWanted) -> Iterator[Record]:
        history, pb = _history(folder), protobufs()
        if history is not None and pb is not None:
            records = list(history_records(history, stats, fields, pb))
            if len(records) > 1:
                stats.described = f"read the W&B history ({history.name}): {len(records) - 1:,} rows"
                yield from records
                return
        if not (folder / OUTPUT).is_file():
            raise BabysitError(f"{folder}: no W&B history babysit can read and no captured output "
                               f"({OUTPUT}){'' if pb is not None else '; ' + NO_WANDB}")
        yield from read_text(folder / OUTPUT, stats, fields, source="wandb")
        if history is not None and pb is None:
            stats.described = f"{stats.described}; {NO_WANDB}"
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
