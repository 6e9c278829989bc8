"""loss-nan: the loss (or any metric) became NaN or infinite."""

from __future__ import annotations

import math

from babysit.diagnostics.reader import number
from babysit.diagnostics.rule import Finding, LayerSample, Record, Rule

_METRICS = ("loss", "data_loss", "val_loss")


class LossNaN(Rule):
    """A NaN or infinite loss, gradient or weight norm: the run has diverged.

    Why: the lecture's sign of a learning rate far too high is "loss exploded and encountered
    NaNs". Once a NaN reaches the weights every later step is NaN too. No threshold: any
    non-finite value of the loss, val_loss, or a layer's weight/gradient/activation statistic.
    """

    id = "loss-nan"
    severity = "error"
    needs = ("loss",)
    advice = ("Lower the learning rate (by 10x to start); the lecture's example of a far too high "
              "rate gives NaN. Also check for log(0) or division by zero in custom code.")
    supersedes = ("loss-flat", "loss-oscillation", "underfitting", "overfitting", "val-plateau")

    def on_step(self, record: Record) -> Finding | None:
        """Check the record's metrics."""
        for key in _METRICS:
            value = record.get(key)
            if value is None or (value.__class__ is float and value - value == 0.0):
                continue  # absent, or finite (inf - inf and nan - nan are nan): the fast path
            v = number(value)
            if v is not None and not math.isfinite(v):
                return self.report(record["step"], f"{key} became {v} at step {record['step']}",
                                   field=key, value=v)
        return None

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Check the layer statistics (sampled: a NaN gradient makes the next loss NaN anyway)."""
        if sample.nonfinite:
            where = sample.nonfinite[0]
            return self.report(sample.step, f"{where} became non-finite at step {sample.step}",
                               field=where)
        return None
