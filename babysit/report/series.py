"""A run's records gathered into series for drawing: loss and lr per step, epoch metrics, per-layer
statistics over time and activation histograms. Pure NumPy; no diagnostics here.

Per-step values (and their steps) are kept in float64 arrays, 8 bytes each: a step costs
16-32 bytes (a million steps, 32 MB), not the ~130 bytes of Python floats in lists. Layer
statistics arrive only at the steps the engine samples (see Engine.wants_layers), so they stay
small on any run.
"""

from __future__ import annotations

import itertools
import math
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from babysit.readers.common import Record, number

EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")
MAX_STEP = 2**53  # steps are drawn as float64, exact up to here
LAYER_FIELDS = ("update_ratio", "grad_norm", "weight_norm", "act_mean", "act_std", "dead_frac", "sat_frac")


@dataclass
class Histogram:
    """One layer's activation histogram at one step."""

    step: int
    lo: float
    hi: float
    counts: list[float]


@dataclass
class RunSeries:
    """Everything drawable in one run, filled record by record (`add`)."""

    header: Record = field(default_factory=dict)
    summary: Record = field(default_factory=dict)
    steps: array = field(default_factory=lambda: array("d"))
    loss: array = field(default_factory=lambda: array("d"))  # NaN where a loss was not finite
    lr_steps: array = field(default_factory=lambda: array("d"))
    lr: array = field(default_factory=lambda: array("d"))
    epochs: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    layers: dict[str, dict[str, tuple[array, array]]] = field(default_factory=dict)
    hists: dict[str, list[Histogram]] = field(default_factory=dict)
    first_nonfinite: int | None = None  # the step whose loss first was NaN or infinite
    last_epoch: int | None = None

    def add(self, record: Record) -> None:
        """Take one record (after the engine saw it, so its step is an int)."""
        kind = record.get("type", "step")
        if kind == "header":
            self.header = record
            return
        if kind == "summary":
            self.summary = record
            return
        if kind not in ("step", "epoch"):
            return
        step = record.get("step")
        if not isinstance(step, int) or not -MAX_STEP <= step <= MAX_STEP:
            return  # a step no plot axis can place (the engine still judged the record)
        epoch = number(record.get("epoch"))
        if epoch is not None and math.isfinite(epoch):
            self.last_epoch = int(epoch)
        loss = number(record.get("loss"))
        if loss is not None:
            if not math.isfinite(loss) and self.first_nonfinite is None:
                self.first_nonfinite = step
            self.steps.append(step)
            self.loss.append(loss if math.isfinite(loss) else math.nan)
        lr = number(record.get("lr"))
        if lr is not None and math.isfinite(lr):
            self.lr_steps.append(step)
            self.lr.append(lr)
        for key in EPOCH_FIELDS:
            value = number(record.get(key))
            if value is not None and math.isfinite(value):
                xs, ys = self.epochs.setdefault(key, ([], []))
                xs.append(step)
                ys.append(value)
        layers = record.get("layers")
        if isinstance(layers, dict):
            self._add_layers(step, layers)

    def _add_layers(self, step: int, layers: dict[str, Any]) -> None:
        for name, entry in layers.items():
            if not isinstance(entry, dict):
                continue
            series = self.layers.setdefault(str(name), {})
            for key in LAYER_FIELDS:
                value = number(entry.get(key))
                if value is not None and math.isfinite(value):
                    xs, ys = series.setdefault(key, (array("d"), array("d")))
                    xs.append(step)
                    ys.append(value)
            hist = _histogram(step, entry.get("hist"))
            if hist is not None:
                self.hists.setdefault(str(name), []).append(hist)

    @property
    def num_classes(self) -> int | None:
        """C from the header, if it says."""
        value = number(self.header.get("num_classes"))
        return int(value) if value is not None and math.isfinite(value) and value >= 2 else None

    def layer_names(self, key: str) -> list[str]:
        """Layers that have `key` at two or more samples, in the log's order."""
        return [n for n, s in self.layers.items() if key in s and len(s[key][0]) >= 2]


def _histogram(step: int, hist: Any) -> Histogram | None:
    """A valid {"lo", "hi", "counts"} object as a Histogram; None for anything else."""
    if not isinstance(hist, dict):
        return None
    lo, hi, counts = number(hist.get("lo")), number(hist.get("hi")), hist.get("counts")
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return None
    if not isinstance(counts, list) or not counts or len(counts) > 1000:
        return None
    values = [number(c) for c in counts]
    if any(v is None or not math.isfinite(v) or v < 0 for v in values):
        return None
    return Histogram(step, lo, hi, values)  # type: ignore[arg-type]


def thin(x: list[int] | array | np.ndarray, y: list[float] | array | np.ndarray,
         points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ~`points` points of a curve for drawing: each bucket keeps its min and max, in step
    order, so spikes survive (a plain stride would drop them); NaNs stay NaN."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(x)
    if n <= points:
        return x, y
    buckets = max(1, points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep = []
    for a, b in itertools.pairwise(edges):  # ~1000 buckets: the loop is cheap
        if b <= a:
            continue
        chunk = y[a:b]
        if np.all(np.isnan(chunk)):
            keep.append(a)
            continue
        lo, hi = a + int(np.nanargmin(chunk)), a + int(np.nanargmax(chunk))
        keep.extend(sorted({lo, hi}))
    idx = np.asarray(keep)
    return x[idx], y[idx]


def smooth(y: list[float] | array | np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` values, ignoring NaNs (NaN where a window holds none)."""
    y = np.asarray(y, dtype=np.float64)
    if window <= 1 or len(y) == 0:
        return y
    finite = np.isfinite(y)
    sums = np.concatenate(([0.0], np.cumsum(np.where(finite, y, 0.0))))
    counts = np.concatenate(([0], np.cumsum(finite)))
    lo = np.maximum(np.arange(1, len(y) + 1) - window, 0)
    hi = np.arange(1, len(y) + 1)
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)
