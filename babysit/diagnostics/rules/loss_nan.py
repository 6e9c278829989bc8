"""loss-nan: the loss (or any metric) became NaN or infinite."""

from __future__ import annotations

from babysit.diagnostics.remedy import lower_lr
from babysit.diagnostics.rule import Finding, LayerSample, Record, Rule


class LossNaN(Rule):
    """A NaN or infinite loss, gradient or weight norm: the run has diverged.

    Why: the lecture's sign of a learning rate far too high is "loss exploded and encountered
    NaNs". Once a NaN reaches the weights every later step is NaN too. No threshold: any
    non-finite value of the loss, val_loss, or a layer's weight/gradient/activation statistic.
    """

    id = "loss-nan"
    lr_symptom = "high"
    severity = "error"
    needs = ("loss",)
    remedies = lower_lr(0.1, 0.01, 0.001)
    advice = ("Lower the learning rate (by 10x to start); the lecture's example of a far too high "
              "rate gives NaN. Also check for log(0) or division by zero in custom code.")
    supersedes = ("loss-flat", "loss-oscillation", "underfitting", "overfitting", "val-plateau",
                  "training-unstable", "not-learning")

    def on_nonfinite(self, event: tuple[Record, str, float]) -> Finding | None:
        """The engine saw a NaN or infinite loss, data_loss or val_loss."""
        record, key, value = event
        origin = record.get("nan_origin")  # babysit.torch.Monitor names where it began
        where = f" (origin: {origin})" if isinstance(origin, str) and origin else ""
        evidence = {"origin": origin} if where else {}
        return self.report(record["step"], f"{key} became {value} at step {record['step']}{where}",
                           field=key, value=value, **evidence)

    def on_layers(self, sample: LayerSample) -> Finding | None:
        """Check the layer statistics (sampled: a NaN gradient makes the next loss NaN anyway)."""
        if sample.nonfinite:
            where = sample.nonfinite[0]
            return self.report(sample.step, f"{where} became non-finite at step {sample.step}",
                               field=where)
        return None
