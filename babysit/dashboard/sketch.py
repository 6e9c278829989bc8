"""A bounded sketch of a run's training loss, for the line that stays on screen at its end."""

from __future__ import annotations

import math

from babysit.dashboard.plot import SPARK
from babysit.readers.common import number

POINTS = 48  # the sketch keeps between POINTS and 2 x POINTS losses, however long the run


class LossSketch:
    """A sink that keeps the training loss as the means of `stride` consecutive steps, the
    stride doubling (neighbours merged) whenever the sketch fills up: bounded memory, points
    evenly spread over the whole run, minibatch noise averaged out."""

    def __init__(self) -> None:
        """Start with one step per point."""
        self.stride = 1
        self._sums: list[float] = []
        self._counts: list[int] = []

    def emit(self, record: dict) -> None:
        """Add this step's loss to the last point, or start a new one."""
        if record.get("type", "step") != "step":
            return
        loss = number(record.get("loss"))
        if loss is None:
            return
        if self._counts and self._counts[-1] < self.stride:
            self._sums[-1] += loss
            self._counts[-1] += 1
            return
        if len(self._sums) == 2 * POINTS:  # every point is full: merge neighbours
            self._sums, self._counts = _pairs(self._sums), _pairs(self._counts)
            self.stride *= 2
        self._sums.append(loss)
        self._counts.append(1)

    @property
    def losses(self) -> list[float]:
        """The sketch: the mean loss of each point, in order."""
        return [s / n for s, n in zip(self._sums, self._counts, strict=True)]

    def close(self) -> None:
        """Nothing to release."""


def _pairs(values: list) -> list:
    """Neighbours summed: [a, b, c, d] -> [a + b, c + d] (an even length)."""
    return [values[i] + values[i + 1] for i in range(0, len(values), 2)]


def loss_line(losses: list[float], width: int = 2 * POINTS) -> str | None:
    """'loss 2.30 ▇▆▄▃▂▁▁ 0.051': first and last loss around a sparkline on a log scale (a
    loss falls over decades), or None with fewer than two finite losses."""
    finite = [v for v in losses if math.isfinite(v)]
    if len(finite) < 2:
        return None
    step = max(1, math.ceil(len(losses) / width))
    points = [losses[i] for i in range(0, len(losses), step)]
    positive = all(v > 0 for v in finite)
    scale = math.log if positive else (lambda v: v)
    lo, hi = scale(min(finite)), scale(max(finite))
    span = hi - lo or 1.0
    bars = "".join("!" if not math.isfinite(v) else SPARK[min(7, int((scale(v) - lo) / span * 7.999))]
                   for v in points)
    last = f"{losses[-1]:.4g}" if math.isfinite(losses[-1]) else str(losses[-1])
    return f"loss {finite[0]:.4g} {bars} {last}" + (" (log scale)" if positive else "")
