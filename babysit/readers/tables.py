"""Tables of metrics written by other tools, read as babysit records: Keras's and Lightning's
CSV loggers, and Hugging Face's trainer_state.json. Only the fields the rules use are mapped
(readers/fields.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, Record, Run, is_finite, number
from babysit.readers.fields import ALIASES, FieldMap
from babysit.readers.hf_state import is_trainer_state, read_hf_state
from babysit.readers.inputs import bounded_lines, is_gzip
from babysit.readers.sniff import kind_of

MAX_CSV_LINE = 1 << 20  # longer lines are no metrics row: counted and skipped, never held whole


def csv_rows(fh: Any, stats: ReadStats) -> tuple[list[str] | None, Iterator[dict[str, Any]]]:
    """(the column names, the rows as dicts) of an open CSV; a row the csv module cannot take
    (a field over its 128 KB limit) is counted as malformed and skipped, not the whole file."""
    reader = csv.DictReader(bounded_lines(fh, MAX_CSV_LINE, stats))
    names = reader.fieldnames

    def rows() -> Iterator[dict[str, Any]]:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:  # raised before the line that holds the row is counted
                stats.note_malformed(reader.line_num + 1)
                continue
            yield row
    return (list(names) if names else None), rows()


def _to_record(row: dict[str, Any], index: int, stats: ReadStats, fields: FieldMap) -> Record | None:
    """One row of another tool's log as a step record (None if it has no metric we use)."""
    rec: Record = {"type": "step", **fields.pick(row)}
    if not set(rec) - {"type", "epoch"}:
        return None
    step = number(row.get("step"))
    rec["step"] = int(step) if is_finite(step) else index
    if isinstance(rec.get("epoch"), float):  # fractional epochs (Hugging Face's) are kept
        epoch = rec["epoch"]
        rec["epoch"] = (int(epoch) if epoch.is_integer() else epoch) if is_finite(epoch) else None
    stats.records += 1
    return rec


def merged_by_step(records: Iterator[Record]) -> Iterator[Record]:
    """Consecutive records of one step as one: Lightning writes the metrics logged in
    different hooks of a step (validation end, training epoch end) as separate rows, and a
    rule must see an epoch's training and validation accuracy together."""
    pending: Record | None = None
    for rec in records:
        if rec["type"] != "step":
            yield rec
            continue
        if pending is not None and rec["step"] == pending["step"]:
            pending.update(rec)
            continue
        if pending is not None:
            yield pending
        pending = rec
    if pending is not None:
        yield pending


HF_STATE = "trainer_state.json"


def open_runs(path: Path, fields: FieldMap) -> list[Run] | None:
    """A CSV log, a trainer_state.json (or a checkpoint directory holding one); else None."""
    if path.is_dir() and (path / HF_STATE).is_file():
        path = path / HF_STATE
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix == ".csv" or (suffix not in (".json", ".jsonl", ".ipynb", ".gz") and not is_gzip(path) \
            and kind_of(path) == "csv"):
        framework = csv_framework(path)
        spans = appended_runs(path)
        if len(spans) < 2:
            return [Run(path.name, path.name, "csv",
                        lambda stats, _: merged_by_step(read_csv_log(path, stats, fields)),
                        framework=framework)]
        return [Run(f"{path.name}#{i}", f"{path.name}#{i}", "csv",
                    lambda stats, _, rows=rows: merged_by_step(read_csv_log(path, stats, fields, rows)),
                    framework=framework)
                for i, rows in enumerate(spans, 1)]
    if suffix == ".json" and is_trainer_state(path):
        return [Run(path.name, path.name, "trainer_state",
                    lambda stats, _: merged_by_step(read_hf_state(
                        path, stats, lambda entry, index: _to_record(entry, index, stats, fields))))]
    return None


def csv_framework(path: Path) -> str | None:
    """'keras' for a CSVLogger file (an epoch column, no step), 'lightning' for one with a
    step column, else None; from the first line only."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            columns = {c.strip() for c in fh.readline(1 << 16).split(",")}
    except OSError:
        return None
    if "epoch" in columns and "step" not in columns:
        return "keras"
    return "lightning" if "step" in columns and "epoch" in columns else None


def appended_runs(path: Path) -> list[tuple[int, int]]:
    """The row ranges of the runs a CSV log holds: more than one when its epoch column starts
    again from a lower number (Keras's CSVLogger with append=True, or several runs written to
    one file; a resumed run continues its epochs and stays one)."""
    starts = [0]
    rows = 0
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            last: float | None = None
            for rows, row in enumerate(csv_rows(fh, ReadStats())[1], 1):
                epoch = number(row.get("epoch"))
                if epoch is None:
                    continue
                if last is not None and epoch < last:
                    starts.append(rows - 1)
                last = epoch
    except (OSError, UnicodeDecodeError, csv.Error):
        return [(0, rows)]  # read_csv_log says what is wrong
    return list(zip(starts, [*starts[1:], rows], strict=True))


def read_csv_log(path: Path, stats: ReadStats, fields: FieldMap,
                 rows: tuple[int, int] | None = None) -> Iterator[Record]:
    """Keras CSVLogger (one row per epoch) or Lightning CSVLogger (a row per log call); with
    `rows`, only the data rows from the first up to (not including) the second: one run of
    several appended."""
    produced = 0
    first, end = rows if rows is not None else (0, None)
    try:  # rows streamed (a list of dicts cost ~25x the file's size)
        # Undecodable bytes are replaced: a Latin-1 byte in a column babysit does not use is no
        # reason to refuse the log.
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            stats.lines = 1
            keras_style = None
            names, reader = csv_rows(fh, stats)
            if names:  # the columns say what the run is (diagnostics/task.py)
                yield {"type": "header", "source": "csv", "metrics": names}
            read = fields.one_name_each(names or []) | {"step"}
            for index, row in enumerate(reader):
                if index < first:
                    continue
                if end is not None and index >= end:
                    break
                stats.lines += 1
                if keras_style is None:
                    keras_style = "step" not in row and "epoch" in row
                if keras_style:  # one row per epoch: the epoch is the step
                    row = {**row, "step": row.get("epoch")}
                rec = _to_record({k: v for k, v in row.items() if k in read}, index, stats, fields)
                if rec is None:
                    continue
                produced += 1
                yield rec
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BabysitError(f"cannot read {path} as a CSV log: {exc}") from None
    if not produced:
        raise BabysitError(f"{path}: no column babysit can use (expected one of "
                           f"{', '.join(ALIASES['loss'] + ALIASES['val_loss'])})")
