"""The results file of a search: a header naming what was searched, then one row per trial.

The header holds everything that decides which trials a search runs and what they mean: the
fixed options, the ranges, the stage plan and a fingerprint of the training data. `--resume`
refuses a file whose header disagrees, instead of mixing another search's trials into this one.
Rows are appended and flushed as trials finish; a row cut short by a crash is skipped (that
trial runs again), anything else unreadable is an error, never a silent guess.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from babysit.config import Config
from babysit.data import Dataset
from babysit.errors import BabysitError

# Statuses written to the results file; "failed": the user's objective raised (out of memory, a
# bug for one setting): recorded with its error, and not run again on --resume.
FINISHED = ("completed", "diverged", "hopeless", "failed")
HEADER_TYPE = "search"
STAGE_TYPE = "stage"  # after each stage: the ranges it sampled and its warnings
ENSEMBLE_TYPE = "ensemble"  # after the search, with --ensemble
# Trial-level values that differ between the trials of one search (not part of its identity).
_PER_TRIAL = ("seed", "epochs")


def fingerprint(data: Dataset) -> str:
    """A short hash of the training and validation arrays: the same file edited is other data."""
    h = hashlib.blake2b(digest_size=8)
    for array in (data.X_train, data.y_train, data.X_val, data.y_val):
        h.update(str(array.shape).encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def search_header(base: Config, space: dict[str, Any], stages: list[tuple[int, int]],
                  data: Dataset) -> dict[str, Any]:
    """The identity of a search, as its results file's first line."""
    fixed = {k: v for k, v in base.to_dict().items() if k not in space}
    return {"type": HEADER_TYPE, "config": fixed, "space": {k: str(v) for k, v in space.items()},
            "stages": [list(s) for s in stages], "data": fingerprint(data)}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    diffs = []
    for key in sorted(set(old.get("config", {})) | set(new["config"])):
        a, b = old.get("config", {}).get(key), new["config"].get(key)
        if a != b:
            diffs.append(f"--{key.replace('_', '-')} {a} -> {b}")
    if old.get("space") != new["space"]:
        diffs.append(f"ranges {old.get('space')} -> {new['space']}")
    shared = min(len(old.get("stages", [])), len(new["stages"]))
    if old.get("stages", [])[:shared] != new["stages"][:shared]:
        diffs.append(f"stages (trials, epochs) {old.get('stages')} -> {new['stages']}")
    if old.get("data") != new["data"]:
        diffs.append("the training data")
    return diffs


def _check_row(row: Any) -> str | None:
    """What is wrong with a parsed results row, or None if it is a finished trial's row."""
    if not isinstance(row, dict):
        return "not a JSON object"
    if not isinstance(row.get("trial"), str) or row.get("status") not in FINISHED:
        return "no trial id or finished status"
    if not isinstance(row.get("params"), dict):
        return "no params object"
    for key in ("val_acc", "val_loss", "train_acc"):
        value = row.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value)):
            return f"{key} is {json.dumps(value)[:30]}, not a number"
    return None


@dataclass
class ResultsFile:
    """What a results file holds: its header, finished trials by id, and the records written
    after each stage (its ranges and warnings) and after the search (the ensemble)."""

    header: dict[str, Any] | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    stages: dict[int, dict[str, Any]] = field(default_factory=dict)  # the last record per stage
    ensemble: dict[str, Any] | None = None


def read_results(path: Path) -> ResultsFile:
    """Parse a results file; a BabysitError naming the line for a row that is not a trial."""
    found = ResultsFile()
    if not path.exists():
        return found
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise BabysitError(f"{path} is not a search results file (not UTF-8 text)") from None
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line cut short by a crash: that trial simply runs again
        kind = row.get("type") if isinstance(row, dict) else None
        if kind == HEADER_TYPE:
            found.header = row
        elif kind == STAGE_TYPE:
            stage = _stage_record(row)
            if stage is not None:
                found.stages[stage["stage"]] = stage
        elif kind == ENSEMBLE_TYPE:
            found.ensemble = _ensemble_record(row) or found.ensemble
        else:
            problem = _check_row(row)
            if problem:
                raise BabysitError(f"{path}:{line_no}: not a search result row ({problem})")
            found.rows[row["trial"]] = row
    return found


def _stage_record(row: dict[str, Any]) -> dict[str, Any] | None:
    """A stage record with the types the report relies on; None if it has no stage number."""
    stage = row.get("stage")
    if not isinstance(stage, int) or isinstance(stage, bool):
        return None
    space, warnings, epochs = row.get("space"), row.get("warnings"), row.get("epochs")
    return {"stage": stage, "epochs": epochs if isinstance(epochs, int) else None,
            "space": {str(k): str(v) for k, v in space.items()} if isinstance(space, dict) else {},
            "warnings": [w for w in warnings if isinstance(w, str)] if isinstance(warnings, list) else []}


def _ensemble_record(row: dict[str, Any]) -> dict[str, Any] | None:
    """An ensemble record with a list of members and a numeric accuracy, else None."""
    members, acc = row.get("members"), row.get("val_acc")
    if not isinstance(members, list) or not isinstance(acc, (int, float)) or isinstance(acc, bool):
        return None
    best = row.get("best_single_val_acc")
    return {"members": [str(m) for m in members], "val_acc": float(acc),
            "best_single_val_acc": best if isinstance(best, (int, float)) else None}


def load_results(path: Path, expected: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Finished trials already in a results file, by trial id.

    With `expected` (the resuming search's header), a file from a different search is a
    BabysitError naming what differs.
    """
    found = read_results(path)
    if expected is not None and path.exists():
        _check_same_search(path, found.header, expected, found.rows)
    return found.rows


def _check_same_search(path: Path, header: dict[str, Any] | None, expected: dict[str, Any],
                       rows: dict[str, dict[str, Any]]) -> None:
    if header is not None:
        diffs = _differences(header, expected)
    else:  # written before results files had a header: each row still carries its config
        diffs = sorted({f"--{k.replace('_', '-')} {row['config'].get(k)} -> {v}"
                        for row in rows.values() if isinstance(row.get("config"), dict)
                        for k, v in expected["config"].items()
                        if k not in _PER_TRIAL and row["config"].get(k) != v})
    if diffs:
        raise BabysitError(f"--resume: {path} holds a different search ({'; '.join(diffs)}); "
                           "resume it with its own options, or start a new --results file")


def ends_with_newline(path: Path) -> bool:
    """True for an empty file or one whose last byte is a newline."""
    with path.open("rb") as fh:
        if fh.seek(0, 2) == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"
