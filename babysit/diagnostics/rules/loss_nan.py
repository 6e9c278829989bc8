"""loss-nan: the loss (or any metric) became NaN or infinite."""

from __future__ import annotations

import math

from babysit.diagnostics.reader import number
from babysit.diagnostics.rule import Finding, Record, Rule

_METRICS = ("loss", "data_loss", "val_loss")
_LAYER_FIELDS = ("weight_norm", "grad_norm", "update_ratio", "act_mean", "act_std")


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
        """Check the record's metrics (and its layer statistics, when present)."""
        for key in _METRICS:
            value = record.get(key)
            if value is not None:
                v = value if isinstance(value, float) else number(value)
                if v is not None and not math.isfinite(v):
                    return self.report(record["step"], f"{key} became {v} at step {record['step']}",
                                       field=key, value=v)
        layers = record.get("layers")
        if isinstance(layers, dict):
            for name, entry in layers.items():
                if not isinstance(entry, dict):
                    continue
                for key in _LAYER_FIELDS:
                    v = number(entry.get(key))
                    if v is not None and not math.isfinite(v):
                        return self.report(record["step"], f"layer {name} {key} became {v} at step "
                                           f"{record['step']}", field=f"{name}.{key}", value=v)
        return None
