"""MLflow runs, from its SQLite store (`mlflow.db`, the default since MLflow 3.7) or its older
`mlruns/` file store, read with the standard library (sqlite3 and plain files).

SQLite: tables `runs` (run_uuid, name, status, lifecycle_stage), `metrics` (key, value,
timestamp in ms, step, run_uuid, is_nan: NaN is stored as is_nan = 1) and `params`.
File store: `mlruns/<experiment>/<run>/meta.yaml` (run_name, status as a number) and
`metrics/<key>` files of `timestamp value step` lines (a key with `/` is a subdirectory).
Deleted runs are skipped. A finished run gets a summary record; a running one does not.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record, Run
from babysit.readers.fields import FieldMap, StepAssembler, scalar_records
from babysit.readers.inputs import bounded_lines
from babysit.readers.steps import StepTable

FORMAT = "mlflow"
SQLITE_MAGIC = b"SQLite format 3\x00"
DB_NAME = "mlflow.db"
MAX_LINE_CHARS = 1 << 16  # a metric line is `timestamp value step`: a longer one is damage
# MLflow's RunStatus (names in SQLite, numbers in meta.yaml) -> babysit's summary status.
_STATUS = {"FINISHED": "completed", "3": "completed", "FAILED": "crashed", "4": "crashed",
           "KILLED": "interrupted", "5": "interrupted"}


def is_sqlite(path: Path) -> bool:
    """True for an SQLite database file."""
    try:
        with path.open("rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _read_only_uri(path: Path) -> str:
    """An SQLite URI that opens `path` itself, read-only: `%`, `#` and `?` in a name are
    quoted (unquoted, `ml/pct%41` opened another store and `ml/hash#x` created a stray file)."""
    return f"file:{quote(os.fspath(path))}?mode=ro"


def _connect(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(_read_only_uri(path), uri=True)
        db.execute("SELECT run_uuid, status, lifecycle_stage FROM runs LIMIT 1").fetchall()
        db.execute("SELECT key, value, timestamp, step, is_nan FROM metrics LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise BabysitError(f"cannot read {path} as an MLflow store: {exc}") from None
    return db


def sqlite_runs(path: Path) -> dict[str, str]:
    """run id -> name, of the runs that are not deleted."""
    db = _connect(path)
    try:
        rows = db.execute("SELECT run_uuid, name FROM runs WHERE lifecycle_stage != 'deleted' "
                          "ORDER BY start_time, run_uuid").fetchall()
    except sqlite3.Error as exc:
        raise BabysitError(f"cannot read {path} as an MLflow store: {exc}") from None
    finally:
        db.close()
    return {str(uuid): str(name or uuid) for uuid, name in rows}


def _finish(run: str, status: str | None, steps: StepTable, stats: ReadStats) -> Iterator[Record]:
    stats.records = len(steps)
    if not steps:
        raise BabysitError(f"MLflow run {run} has no metric babysit can use (keys such as loss, "
                           "train_loss, val_loss; add one with --map loss=KEY)")
    yield {"type": "header", "source": FORMAT, "run_id": run, "metrics": steps.names}
    yield from steps
    if status in _STATUS:
        yield {"type": "summary", "status": _STATUS[status]}


def _scalars(rows: Iterable[Any], stats: ReadStats) -> Iterator[tuple[str, int, float, float]]:
    """(key, step, value, wall time) of metric rows; a row whose step, value or time is not a
    number (a string, a BLOB: SQLite keeps any type in any column) is counted as malformed."""
    for index, (key, step, value, is_nan, ts) in enumerate(rows):
        try:
            yield (str(key), _step(step or 0), math.nan if is_nan else float(value),
                   float(ts or 0) / 1000)
        except (TypeError, ValueError, OverflowError):
            stats.note_malformed(index + 1)


_INT64 = range(-(1 << 63), 1 << 63)


def _step(value: Any) -> int:
    """A step as an int64, as MLflow's own schema has it; a ValueError for one beyond (a step
    of 2**70, stored as a REAL by SQLite, was an OverflowError that ended the whole reading)."""
    step = int(value)
    if step not in _INT64:
        raise ValueError(f"step {step} is beyond int64")
    return step


def sqlite_records(path: Path, run: str, stats: ReadStats, fields: FieldMap) -> Iterator[Record]:
    """One run of an SQLite store as babysit records."""
    db = _connect(path)
    try:
        status = db.execute("SELECT status FROM runs WHERE run_uuid = ?", (run,)).fetchone()
        # rows streamed from the cursor into compact columns, not fetched as a list of tuples
        rows = db.execute("SELECT key, step, value, is_nan, timestamp FROM metrics WHERE "
                          "run_uuid = ? ORDER BY step, timestamp", (run,))
        steps = scalar_records(_scalars(_counted(rows, stats), stats), fields)
    except sqlite3.Error as exc:
        raise BabysitError(f"cannot read {path} as an MLflow store: {exc}") from None
    finally:
        db.close()
    yield from _finish(run, status[0] if status else None, steps, stats)


def _counted(rows: Iterable[Any], stats: ReadStats) -> Iterator[Any]:
    for row in rows:
        stats.lines += 1
        yield row


def _meta(run_dir: Path) -> dict[str, str]:
    """The flat `key: value` lines of a run's meta.yaml (all babysit needs of it)."""
    out = {}
    try:
        for line in (run_dir / "meta.yaml").read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith(" "):
                out[key.strip()] = value.strip().strip("'\"")
    except (OSError, UnicodeDecodeError):
        pass
    return out


def file_store_runs(root: Path) -> dict[str, Path]:
    """run id -> run directory, for a store (`mlruns/`), an experiment or a run directory."""
    candidates = [root, *root.glob("*"), *root.glob("*/*")]
    runs = {}
    for path in candidates:
        try:  # a folder babysit may not enter (lost+found) is not a run, not an error
            if not ((path / "metrics").is_dir() and (path / "meta.yaml").is_file()):
                continue
            meta = _meta(path)
        except OSError:
            continue
        if meta.get("lifecycle_stage") != "deleted":
            runs[meta.get("run_id") or path.name] = path
    return runs


def file_store_records(run_dir: Path, stats: ReadStats, fields: FieldMap) -> Iterator[Record]:
    """One run of a file store as babysit records."""
    metrics = run_dir / "metrics"

    def scalars() -> Iterator[tuple[str, int, float, float]]:
        for path in sorted(p for p in metrics.rglob("*") if p.is_file()):
            try:  # streamed line by line: a metric file is not read whole
                with path.open(encoding="utf-8", errors="replace") as fh:
                    yield from _metric_lines(str(path.relative_to(metrics)),
                                             bounded_lines(fh, MAX_LINE_CHARS, stats), stats)
            except OSError:
                stats.note_malformed(stats.lines + 1)

    meta = _meta(run_dir)
    yield from _finish(meta.get("run_name") or run_dir.name, meta.get("status"),
                       scalar_records(scalars(), fields), stats)


def follow_sqlite(path: Path, run: str, stats: ReadStats, fields: FieldMap,
                  poll: float) -> Iterator[Record]:
    """A run's records as MLflow writes them into SQLite; ends when the run is no longer running."""
    yield {"type": "header", "source": FORMAT, "run_id": run}
    last_row = 0
    steps = StepAssembler(fields)
    while True:
        try:
            db = sqlite3.connect(_read_only_uri(path), uri=True, timeout=poll)
            try:
                rows = db.execute("SELECT rowid, key, step, value, is_nan, timestamp FROM metrics "
                                  "WHERE run_uuid = ? AND rowid > ? ORDER BY rowid",
                                  (run, last_row)).fetchall()
                status = db.execute("SELECT status FROM runs WHERE run_uuid = ?", (run,)).fetchone()
            finally:
                db.close()
        except sqlite3.OperationalError:  # locked by the writer for a moment: next poll
            rows, status = [], None
        if rows:
            last_row = rows[-1][0]
            stats.lines += len(rows)
        new = list(_scalars([row[1:] for row in rows], stats))
        yield from _count(steps.add(new), stats)
        ended = status[0] if status else None
        if ended in _STATUS:
            yield from _count(steps.flush(), stats)
            yield {"type": "summary", "status": _STATUS[ended]}
            return
        time.sleep(poll)


def follow_file_store(run_dir: Path, stats: ReadStats, fields: FieldMap,
                      poll: float) -> Iterator[Record]:
    """A run's records as MLflow appends to its metric files; ends when the run has ended."""
    meta = _meta(run_dir)
    yield {"type": "header", "source": FORMAT, "run_id": meta.get("run_id") or run_dir.name}
    offsets: dict[Path, int] = {}
    steps = StepAssembler(fields)
    metrics = run_dir / "metrics"
    while True:
        new = []
        for path in sorted(p for p in metrics.rglob("*") if p.is_file()):
            try:
                with path.open("rb") as fh:
                    fh.seek(offsets.get(path, 0))
                    chunk = fh.read()
            except OSError:
                continue
            whole = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits
            offsets[path] = offsets.get(path, 0) + len(whole)
            new += _metric_lines(str(path.relative_to(metrics)),
                                 whole.decode("utf-8", "replace").splitlines(), stats)
        yield from _count(steps.add(new), stats)
        status = _meta(run_dir).get("status")
        if status in _STATUS:
            yield from _count(steps.flush(), stats)
            yield {"type": "summary", "status": _STATUS[status]}
            return
        time.sleep(poll)


def _count(records: list[Record], stats: ReadStats) -> list[Record]:
    stats.records += len(records)
    return records


def _metric_lines(key: str, lines: Iterable[str],
                  stats: ReadStats) -> Iterator[tuple[str, int, float, float]]:
    """(key, step, value, wall time) of a metric file's `timestamp value step` lines."""
    for line in lines:
        stats.lines += 1
        parts = line.split()
        try:
            ts, value, step = float(parts[0]), float(parts[1]), _step(parts[2])
        except (ValueError, IndexError):
            stats.note_malformed(stats.lines)
            continue
        yield key, step, value, ts / 1000


def open_runs(path: Path, fields: FieldMap) -> list[Run] | None:
    """The runs of an MLflow store (mlflow.db, a directory holding it, mlruns/ or a directory
    holding that); None when `path` is not one."""
    db = path / DB_NAME if path.is_dir() else path
    if db.is_file() and is_sqlite(db):
        return [Run(run_id, name, FORMAT,
                    lambda stats, _wanted, run_id=run_id: sqlite_records(db, run_id, stats, fields),
                    lambda stats, poll, run_id=run_id: follow_sqlite(db, run_id, stats, fields, poll))
                for run_id, name in sqlite_runs(db).items()]
    if not path.is_dir():
        return None
    runs = file_store_runs(path)
    if not runs and (path / "mlruns").is_dir():  # a project folder holding its file store
        path = path / "mlruns"
        runs = file_store_runs(path)
    if not runs:
        return None
    return [Run(run_id, _meta(run_dir).get("run_name") or run_id, FORMAT,
                lambda stats, _wanted, run_dir=run_dir: file_store_records(run_dir, stats, fields),
                lambda stats, poll, run_dir=run_dir: follow_file_store(run_dir, stats, fields, poll))
            for run_id, run_dir in runs.items()]
