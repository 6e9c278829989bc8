"""eval-in-train-mode: validation metrics computed with dropout or batch norm in training mode."""

from __future__ import annotations

from babysit.diagnostics.records import Evaluation
from babysit.diagnostics.rule import Finding, Rule


class EvalInTrainMode(Rule):
    """An evaluation (a forward pass without gradients whose metrics were then logged) ran with
    dropout or batch norm in training mode (the PyTorch Monitor marks such records
    `eval_train_mode`). The reverse of eval-mode's case.

    Why: without `model.eval()` before the validation loop, dropout drops units while the
    validation metrics are computed (a lower, noisier validation accuracy than the model
    has), and batch norm normalizes each validation batch by its own statistics and folds
    them into its running averages: validation data leaks into the model and the running
    statistics the model is later tested with drift toward the validation set. One
    evaluation is enough (`min_evaluations` 1): the mode is a fact, not a noisy measure.
    A deliberate one (Monte Carlo dropout at test time) gets the same warning; the advice
    says so.
    What it explains: a validation loss held above the training loss by dropout, read as
    overfitting.
    """

    id = "eval-in-train-mode"
    severity = "warning"
    needs = ("eval_train_mode",)
    thresholds = {"min_evaluations": 1}
    advice = ("Call model.eval() before the validation loop and model.train() after it, before "
              "the next training step (Lightning, Keras and the HF Trainer do both for you). "
              "Dropout at test time on purpose (Monte Carlo dropout)? Then ignore this.")
    explains = ("overfitting",)

    def __init__(self, **overrides: float) -> None:
        """Counts the evaluations run in training mode."""
        super().__init__(**overrides)
        self.count = 0

    def on_epoch(self, evaluation: Evaluation) -> Finding | None:
        """Count marked evaluations; report once there are enough."""
        if not evaluation.train_mode:
            return None
        self.count += 1
        if self.finding is not None:
            self.finding.end_step = evaluation.step
            self.finding.evidence["evaluations"] = self.count
            return None
        if self.count < self.t["min_evaluations"]:
            return None
        kinds = " and ".join(evaluation.train_mode)
        effects = []
        if "dropout" in evaluation.train_mode:
            effects.append("dropout dropped units while the validation metrics were computed")
        if "batch norm" in evaluation.train_mode:
            effects.append("batch norm used each validation batch's statistics and folded them "
                           "into its running averages (validation data leaking into the model)")
        return self.report(evaluation.step, f"the model was evaluated with {kinds} in training "
                           f"mode (no model.eval() before validation): {'; '.join(effects)}",
                           layers=list(evaluation.train_mode), evaluations=self.count)
