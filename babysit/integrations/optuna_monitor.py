"""The Monitor of an Optuna trial (imports torch; babysit/integrations/optuna.py loads it when a
trial asks for a monitor)."""

from __future__ import annotations

from typing import Any

import optuna

from babysit.search.objective import TrialPruned
from babysit.search.trial_monitor import TrialMonitor

REASON, RULE = "babysit_reason", "babysit_rule"  # the trial's user attributes


class Pruned(optuna.TrialPruned, TrialPruned):
    """Optuna's TrialPruned (the study marks the trial pruned) that is also babysit's (the
    Lightning callback closes the trial's log as stopped, not crashed)."""


class OptunaMonitor(TrialMonitor):
    """A TrialMonitor speaking Optuna: the reason into the trial's user attributes, each
    epoch's val_acc reported, the study's pruner asked, Pruned raised."""

    def __init__(self, model: Any, optimizer: Any = None, *, optuna_trial: optuna.Trial,
                 **kw: Any) -> None:
        """As TrialMonitor, for `optuna_trial`."""
        self.optuna_trial = optuna_trial
        super().__init__(model, optimizer, **kw)

    def step(self, loss: Any, grad_norm: Any = None) -> None:
        """TrialMonitor.step; babysit's verdict raised as Pruned."""
        try:
            super().step(loss, grad_norm)
        except TrialPruned as pruned:
            raise self._pruned(pruned.reason, pruned.rule) from None

    def epoch(self, **metrics: Any) -> None:
        """TrialMonitor.epoch, then val_acc reported to the trial and its pruner asked."""
        try:
            super().epoch(**metrics)
        except TrialPruned as pruned:
            raise self._pruned(pruned.reason, pruned.rule) from None
        value = metrics.get("val_acc")
        if value is None:
            return
        trial, at = self.optuna_trial, self.epoch_index - 1
        trial.report(float(value), at)
        if trial.should_prune():  # the pruner BabysitPruner wraps (median, ...) said so
            raise self._pruned(f"the study's pruner at epoch {at}", None)

    def _pruned(self, reason: str, rule: str | None) -> Pruned:
        """The verdict written into the trial (its storage keeps it), as the exception."""
        self.optuna_trial.set_user_attr(REASON, reason)
        if rule:
            self.optuna_trial.set_user_attr(RULE, rule)
        return Pruned(reason, rule)
