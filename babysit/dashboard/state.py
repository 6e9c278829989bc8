"""What the dashboard shows, kept up to date from the record stream in bounded memory.

RunState is a sink: the training thread calls emit() (cheap: a few appends); a few times a
second the dashboard takes a snapshot() copy and hands it to the drawing process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from babysit.readers.common import number
from babysit.text import visible, visible_all

Record = dict[str, Any]
MAX_POINTS = 2048  # loss points kept; beyond that neighbours are averaged (halving resolution)
MAX_EPOCHS = 2048


@dataclass
class Snapshot:
    """An immutable copy of the state for one frame."""

    header: Record | None
    loss: list[tuple[float, float]]
    epochs: list[Record]
    layers: dict[str, dict[str, Any]]
    layers_step: int | None
    step: int
    last: Record | None
    summary: Record | None
    elapsed: float
    rate: float  # steps per second, recent
    total_steps: int | None
    log_path: str | None
    status: str = "running"


class RunState:
    """Accumulates the stream: loss series (bucketed), epoch metrics, latest layer statistics."""

    def __init__(self, log_path: str | None = None) -> None:
        """Empty state; `log_path` is shown in the header."""
        self.lock = threading.Lock()
        self.log_path = log_path
        self._clear()

    def reset(self) -> None:
        """Forget the run: its log was replaced by another run's."""
        with self.lock:
            self._clear()

    def _clear(self) -> None:
        self.header: Record | None = None
        self.loss: list[tuple[float, float]] = []
        self._bucket = 1  # steps averaged into one point
        self._acc: list[float] = []  # pending (sum of steps, sum of losses, count)
        self.epochs: list[Record] = []
        self.layers: dict[str, dict[str, Any]] = {}
        self.layers_step: int | None = None
        self.step = 0
        self.last: Record | None = None
        self.last_loss: float | None = None
        self.summary: Record | None = None
        self.started = time.monotonic()
        self._rate_mark: tuple[float, int, bool] = (self.started, 0, False)
        self.rate = 0.0

    def emit(self, record: Record) -> None:
        """Fold one record into the state."""
        kind = record.get("type", "step")
        with self.lock:
            if kind == "header":
                self.header = visible_all(record)  # shown as text: no raw control characters
            elif kind == "summary":  # its status is shown (the dashboard, watch's last line)
                self.summary = visible_all(record)
            elif kind in ("step", "epoch"):
                self._step(record)

    def close(self) -> None:
        """Nothing to release."""

    def _step(self, rec: Record) -> None:
        step = rec.get("step")
        self.step = step if isinstance(step, int) else self.step + 1
        self.last = rec
        loss = number(rec.get("loss"))
        if loss is not None:
            self._add_loss(float(self.step), loss)
            self.last_loss = loss
        layers = rec.get("layers")
        if isinstance(layers, dict):
            self.layers = {visible(k): v for k, v in layers.items() if isinstance(v, dict)}
            self.layers_step = self.step
        if any(k in rec for k in ("train_acc", "val_acc", "val_loss")):
            entry = {k: rec.get(k) for k in ("step", "epoch", "train_acc", "val_acc", "val_loss")}
            # An epoch record of its own (other tools, the PyTorch monitor) has no loss: show
            # the latest logged training loss.
            entry["loss"] = loss if loss is not None else self.last_loss
            self.epochs.append(entry)
            if len(self.epochs) > MAX_EPOCHS:
                self.epochs = self.epochs[::2]
        # The run's own clock when its records carry one: a log read in bursts (a Monitor
        # writes ten records at a time, watch catches up on a backlog) would give a wall-clock
        # rate that is not the run's (8 it/s shown for a run doing 67).
        clock = rec.get("time")
        own = isinstance(clock, (int, float)) and not isinstance(clock, bool) and math.isfinite(clock)
        now = float(clock) if own else time.monotonic()  # type: ignore[arg-type]
        t0, s0, was_own = self._rate_mark
        if own != was_own or now < t0:
            self._rate_mark = (now, self.step, own)
        elif now - t0 >= 1.0:
            self.rate = (self.step - s0) / (now - t0)
            self._rate_mark = (now, self.step, own)

    def _add_loss(self, step: float, loss: float) -> None:
        if not math.isfinite(loss):
            self.loss.append((step, loss))  # a NaN breaks the line where it happened
            self._acc = []
            return
        if not self._acc:
            self._acc = [0.0, 0.0, 0]
        self._acc[0] += step
        self._acc[1] += loss
        self._acc[2] += 1
        if self._acc[2] >= self._bucket:
            n = self._acc[2]
            self.loss.append((self._acc[0] / n, self._acc[1] / n))
            self._acc = []
            if len(self.loss) > MAX_POINTS:
                odd = self.loss[-1:] if len(self.loss) % 2 else []  # keep the latest point
                pairs = zip(self.loss[0:-1:2], self.loss[1::2], strict=False)
                self.loss = [_merge(a, b) for a, b in pairs] + odd
                self._bucket *= 2

    def snapshot(self) -> Snapshot:
        """A consistent copy for drawing."""
        with self.lock:
            total = None
            if self.header:
                cfg = self.header.get("config") or {}
                spe = self.header.get("steps_per_epoch")
                if isinstance(spe, int) and isinstance(cfg.get("epochs"), int):
                    total = spe * cfg["epochs"]
                elif isinstance(self.header.get("total_steps"), int):  # the Monitor, when told
                    total = self.header["total_steps"]
            status = self.summary.get("status", "done") if self.summary else "running"
            elapsed = time.monotonic() - self.started
            if self.last is not None and isinstance(self.last.get("time"), (int, float)):
                elapsed = float(self.last["time"])
            return Snapshot(self.header, list(self.loss), list(self.epochs), dict(self.layers),
                            self.layers_step, self.step, self.last, self.summary, elapsed,
                            self.rate, total, self.log_path, status)


def _merge(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    if not (math.isfinite(a[1]) and math.isfinite(b[1])):
        return a if not math.isfinite(a[1]) else b
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
