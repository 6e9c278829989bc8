"""The Monitor a search trial gets: babysit's findings as the pruner (imports torch)."""

from __future__ import annotations

from typing import Any

from babysit.diagnostics.rule import Finding
from babysit.search.objective import HOPELESS_MARGIN, SearchStopped, TrialPruned
from babysit.search.runner import stop_requested
from babysit.torch.monitor import Monitor, TrainingStopped
from babysit.torch.values import metric_value


class TrialMonitor(Monitor):
    """A Monitor that raises TrialPruned from step() at the first error finding that is not
    provisional (a NaN; a loss past twice its start over a window: loss-explosion, the
    lecture's "cost > 3x the original, break out early" made robust to one noisy batch), and
    from epoch() when validation accuracy is within HOPELESS_MARGIN of chance after the first
    epoch (with num_classes given)."""

    def __init__(self, model: Any, optimizer: Any = None, prune: bool = True, **kw: Any) -> None:
        """As Monitor, stopping at errors by raising (stop_on may be set lower); `prune` False:
        nothing stops the trial (the search's pruning switched off, to measure what it saves)."""
        kw["stop_on"] = kw.get("stop_on", "error") if prune else None
        super().__init__(model, optimizer, raise_on_stop=True, **kw)
        self.classes: int | None = kw.get("num_classes") if prune else None
        self.stopped_by: str | None = None  # the rule whose finding pruned the trial

    def _heard(self, finding: Finding) -> None:
        """Remember which finding stopped the trial, for the results row."""
        super()._heard(finding)
        if self.should_stop and self.stopped_by is None:
            self.stopped_by = finding.rule

    def step(self, loss: Any, grad_norm: Any = None) -> None:
        """Monitor.step; a trial babysit judged hopeless raises TrialPruned (and one whose
        search is stopping, SearchStopped: it is not finished, a resume runs it again)."""
        if stop_requested():
            raise SearchStopped("the search was interrupted")
        try:
            super().step(loss, grad_norm)
        except TrainingStopped as stop:
            reason = str(stop).removeprefix("babysit: ")
            raise TrialPruned(reason, self.stopped_by) from None

    def epoch(self, **metrics: Any) -> None:
        """Monitor.epoch; after the first, validation accuracy at chance raises TrialPruned."""
        super().epoch(**metrics)
        raw = metrics.get("val_acc")
        if self.epoch_index != 1 or raw is None or not self.classes:
            return
        value, _ = metric_value(raw)
        chance = 1.0 / self.classes
        if value is not None and value <= chance + HOPELESS_MARGIN:
            raise TrialPruned(f"validation accuracy {value:.3f} at chance ({chance:.3f}) after "
                              "the first epoch")

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        """A pruned trial's log ends "stopped", a trial of a stopping search's "interrupted"."""
        if kind is not None and issubclass(kind, (TrialPruned, SearchStopped)):
            self.close("stopped" if issubclass(kind, TrialPruned) else "interrupted")
            return
        super().__exit__(kind, *rest)
