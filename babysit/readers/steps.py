"""Step records from a stream of (name, step, value, wall time) scalars, in bounded memory.

TensorBoard event files and MLflow stores hold one scalar per row, not in step order across
tags (Keras writes train/ and validation/ files; MLflow's rows follow the logging calls), so
their step records can only be made once every scalar is read. Scalars are kept in typed
arrays, 25 bytes each (a list of dicts cost ~0.7 KB per scalar: 700 MB for a million), sorted
per field with numpy, and records are made one at a time as they are read.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported when a table is made: `babysit` starts without it
    import numpy as np

Record = dict[str, Any]
BLOCK = 65536  # steps turned into Python objects at a time while records are made


class StepTable:
    """One record per step: for each field the value of its best-ranked name in the run (a
    later value at the same step replaces an earlier one); `time`: seconds since `start` (default: the
    earliest step's wall time)."""

    def __init__(self, scalars: Iterable[tuple[str, int, float, float]], fields: Any,
                 start: float | None = None) -> None:
        """Read every scalar into per-field columns (names mapped with `fields.field_of`)."""
        import numpy as np

        columns: dict[str, tuple[array, array, array, array]] = {}
        hits: dict[str, tuple[str, int] | None] = {}  # a log repeats a few names many times
        for name, step, value, wall_time in scalars:
            hit = hits[name] if name in hits else hits.setdefault(name, fields.field_of(name))
            if hit is None:
                continue
            col = columns.get(hit[0])
            if col is None:
                col = columns[hit[0]] = (array("q"), array("d"), array("d"), array("b"))
            col[0].append(step)
            col[1].append(value)
            col[2].append(wall_time)
            col[3].append(hit[1])
        self.names = list(hits)  # every metric name read, used or not
        self.fields: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        all_steps, all_times = [], []
        for field, (st, va, ti, ra) in columns.items():
            steps, values = np.frombuffer(st, np.int64), np.frombuffer(va, np.float64)
            ranks, arrival = np.frombuffer(ra, np.int8), np.arange(len(st))
            # One name per field for the whole run, its best-ranked: a step where only a worse
            # name was logged gets no value, rather than a series that mixes Lightning's
            # per-batch `val_loss_step` into the per-epoch `val_loss_epoch` (read as spikes).
            kept = ranks == ranks.min()
            steps, values, ranks, arrival = steps[kept], values[kept], ranks[kept], arrival[kept]
            order = np.lexsort((-arrival, ranks, steps))  # by step, latest first
            steps, values = steps[order], values[order]
            first = np.ones(len(steps), dtype=bool)
            first[1:] = steps[1:] != steps[:-1]
            self.fields[field] = (steps[first], values[first])
            all_steps.append(np.frombuffer(st, np.int64))
            all_times.append(np.frombuffer(ti, np.float64))
        if all_steps:
            steps = np.concatenate(all_steps)
            times = np.concatenate(all_times)
            order = np.argsort(steps, kind="stable")
            steps, times = steps[order], np.nan_to_num(times[order], nan=-np.inf)
            starts = np.flatnonzero(np.r_[True, steps[1:] != steps[:-1]])
            self.steps = steps[starts]
            self.times = np.maximum.reduceat(times, starts)  # a step's latest wall time
        else:
            self.steps, self.times = np.zeros(0, np.int64), np.zeros(0)
        if start is None:
            valid = self.times[np.isfinite(self.times) & (self.times > 0)]
            start = float(valid.min()) if len(valid) else math.inf
        self.start = start

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Record]:
        import numpy as np

        timed = math.isfinite(self.start)
        for b in range(0, len(self.steps), BLOCK):  # Python objects for one block at a time
            block = self.steps[b:b + BLOCK]
            cols = {}
            for field, (steps, values) in self.fields.items():
                lo, hi = np.searchsorted(steps, block[0], "left"), np.searchsorted(steps, block[-1], "right")
                cols[field] = (steps[lo:hi].tolist(), values[lo:hi].tolist())
            at = dict.fromkeys(cols, 0)
            for step, wall_time in zip(block.tolist(), self.times[b:b + BLOCK].tolist(), strict=True):
                rec: Record = {"type": "step", "step": step}
                for field, (steps, values) in cols.items():
                    i = at[field]
                    if i < len(steps) and steps[i] == step:
                        at[field] = i + 1
                        value = values[i]
                        if field != "epoch":
                            rec[field] = value
                        elif math.isfinite(value):  # a fractional epoch is kept
                            rec["epoch"] = int(value) if value.is_integer() else value
                if timed and math.isfinite(wall_time) and wall_time > 0:
                    rec["time"] = round(wall_time - self.start, 6)
                yield rec
