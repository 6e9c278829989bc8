"""eval-mode: training steps taken with the model in evaluation mode."""

from __future__ import annotations

from babysit.diagnostics.rule import Finding, Record, Rule


class EvalMode(Rule):
    """`min_steps` or more training steps ran with the model in eval mode (the PyTorch
    Monitor marks such steps `eval_mode`).

    Why: `model.eval()` before a validation pass, with no `model.train()` after it, leaves
    dropout off and batch norm on its running statistics for the rest of training: the net
    trains as a different model than intended, and (as no layer is in training mode) the
    Monitor collects no activations, so rules that read them are silenced. Two steps rather
    than one, so that a single step taken while a callback toggles modes is not reported.
    """

    id = "eval-mode"
    severity = "warning"
    needs = ("eval_mode",)
    thresholds = {"min_steps": 2}
    advice = ("Call model.train() after each evaluation, before the next training step "
              "(Lightning and the HF Trainer do it for you).")

    def __init__(self, **overrides: float) -> None:
        """Counts the steps in eval mode and remembers the first."""
        super().__init__(**overrides)
        self.count = 0
        self.first: int | None = None

    def on_step(self, record: Record) -> Finding | None:
        """Count marked steps; report once there are enough."""
        if record.get("eval_mode") is not True:
            return None
        self.count += 1
        self.first = record["step"] if self.first is None else self.first
        if self.finding is not None:
            self.finding.end_step = record["step"]
            self.finding.evidence["steps"] = self.count
            return None
        if self.count >= self.t["min_steps"]:
            return self.report(self.first, f"the model was in eval mode for training steps from "
                               f"step {self.first} on: dropout and batch norm ran as at test "
                               "time, and no activations were collected", steps=self.count)
        return None
