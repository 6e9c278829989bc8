"""The loss sketch that stays on screen after `babysit train`: bounded, spread, averaged."""

from __future__ import annotations

import math

import pytest

from babysit.dashboard.sketch import POINTS, LossSketch, loss_line


@pytest.mark.parametrize("steps", [1, 7, 2 * POINTS, 2 * POINTS + 1, 10_000, 123_457])
def test_the_sketch_is_bounded_and_keeps_every_loss_once(steps: int) -> None:
    sketch = LossSketch()
    for i in range(steps):
        sketch.emit({"type": "step", "step": i, "loss": float(i)})
    sketch.emit({"type": "epoch", "step": steps, "val_loss": 1.0})  # not a training loss
    assert len(sketch.losses) <= 2 * POINTS
    assert sum(sketch._counts) == steps  # every step in exactly one point
    # the points are means of consecutive steps, in order
    assert sketch.losses == sorted(sketch.losses)
    assert sum(s for s in sketch._sums) == pytest.approx(steps * (steps - 1) / 2)


def test_the_line_reads_the_curve_on_a_log_scale() -> None:
    sketch = LossSketch()
    for i in range(5000):
        sketch.emit({"type": "step", "step": i, "loss": 2.3 * math.exp(-i / 1000)})
    line = loss_line(sketch.losses)
    assert line is not None and line.startswith("loss 2.") and line.endswith("(log scale)")
    bars = line.split()[2]
    assert bars[0] == "█" and bars[-1] == "▁" and list(bars) == sorted(bars, reverse=True)
    assert loss_line([1.0]) is None  # one loss is no curve
    assert "!" in (loss_line([2.0, 1.0, math.nan, 0.5]) or "")  # a NaN is shown, not dropped
    negative = loss_line([1.0, -2.0, -5.0])  # a loss below zero: a linear scale
    assert negative is not None and "log scale" not in negative
