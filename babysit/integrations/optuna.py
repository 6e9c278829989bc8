"""Optuna: babysit's findings as the pruner of a study, and babysit's staged ranges as its plan.

For users who already run Optuna (its samplers, its storage shared by many machines):

    from babysit.integrations import optuna as babysit_optuna

    def objective(trial):
        config = babysit_optuna.suggest(trial, {"lr": "1e-4:1:log", "hidden": [64, 128]})
        model, optimizer = ...
        with babysit_optuna.monitor(trial, model, optimizer, num_classes=10) as monitor:
            for epoch in range(epochs):
                ...; monitor.step(loss)
                monitor.epoch(val_acc=val_acc)  # also trial.report(val_acc, epoch)
        return val_acc

    study = optuna.create_study(direction="maximize", pruner=babysit_optuna.BabysitPruner())

`babysit_optuna.trial(t)` is babysit's search trial for it, so a `train(config, trial)` written
for `babysit search --objective` runs in a study unchanged (`trial.monitor`, `trial.lightning`).
`monitor` is a babysit Monitor for the trial that raises `optuna.TrialPruned` when babysit judges
the trial hopeless (the search's rule: a non-provisional error finding, or validation accuracy
at chance after the first epoch), after writing why into the trial's user attributes
(`babysit_reason`, `babysit_rule`), so the study's storage keeps the reason. Each epoch's
val_acc is reported to the trial, and the study's pruner is asked: `BabysitPruner` prunes what
babysit flagged and otherwise defers to the pruner it wraps (none by default: only babysit's
findings prune). `next_stage(study, ranges)` narrows the ranges around the study's best trials
as babysit's coarse-to-fine search does, for the next, longer study.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

try:
    import optuna
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("babysit.integrations.optuna needs Optuna: pip install 'babysit[optuna]'") from exc

from babysit.search.objective import Trial
from babysit.search.objective_search import as_space
from babysit.search.search import narrow
from babysit.search.space import LinRange, LogRange, Space, edge_warnings

REASON = "babysit_reason"  # the trial's user attribute that says why babysit pruned it


def suggest(trial: optuna.Trial, ranges: Mapping[str, Any] | Space) -> dict[str, Any]:
    """A config from babysit's ranges ('LO:HI[:log]', (lo, hi[, 'log']), lists), sampled by the
    study's sampler: a log range with suggest_float(log=True), a list with suggest_categorical."""
    config: dict[str, Any] = {}
    for name, dim in as_space(ranges).items():
        if isinstance(dim, LogRange):
            config[name] = trial.suggest_float(name, dim.lo, dim.hi, log=True)
        elif isinstance(dim, LinRange):
            config[name] = trial.suggest_float(name, dim.lo, dim.hi)
        else:
            config[name] = trial.suggest_categorical(name, list(dim.options))
    return config


class OptunaTrial(Trial):
    """babysit's search trial for an Optuna trial: `.monitor(model, optimizer, ...)` and
    `.lightning(...)` as in `babysit search`, raising optuna.TrialPruned (also babysit's)."""

    def __init__(self, optuna_trial: optuna.Trial, log_dir: str | Path = "babysit-trials",
                 prune: bool = True) -> None:
        """Logs go to `log_dir`/trial-<number>.jsonl."""
        n = optuna_trial.number
        super().__init__(f"trial-{n}", 0, n, Path(log_dir) / f"trial-{n}.jsonl", prune)
        self.optuna_trial = optuna_trial

    def monitor_class(self) -> Callable[..., Any]:
        """An OptunaMonitor bound to this trial."""
        from babysit.integrations.optuna_monitor import OptunaMonitor

        return partial(OptunaMonitor, optuna_trial=self.optuna_trial, prune=self.prune)


def trial(optuna_trial: optuna.Trial, log_dir: str | Path = "babysit-trials") -> OptunaTrial:
    """The babysit trial of `optuna_trial`: `.monitor(...)`, `.lightning(...)`."""
    return OptunaTrial(optuna_trial, log_dir)


def monitor(optuna_trial: optuna.Trial, model: Any, optimizer: Any = None,
            log: str | Path | None = None, **kw: Any) -> Any:
    """A babysit Monitor for `optuna_trial` (its log: `log`, default babysit-trials/trial-<n>.jsonl)
    that raises optuna.TrialPruned when babysit or the study's pruner says so."""
    return OptunaTrial(optuna_trial).monitor(model, optimizer, **({"log": log} if log else {}), **kw)


class BabysitPruner(optuna.pruners.BasePruner):
    """Prunes a trial babysit flagged (its `babysit_reason`); otherwise asks `wrapped`."""

    def __init__(self, wrapped: optuna.pruners.BasePruner | None = None) -> None:
        """`wrapped`: another pruner (MedianPruner, ...) for what babysit does not judge."""
        self.wrapped = wrapped

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        """True for a trial babysit judged hopeless, else the wrapped pruner's answer."""
        if REASON in trial.user_attrs:
            return True
        return self.wrapped.prune(study, trial) if self.wrapped is not None else False


def next_stage(study: optuna.Study, ranges: Mapping[str, Any] | Space) -> tuple[Space, list[str]]:
    """The ranges narrowed around the study's best completed trials (babysit's coarse-to-fine
    step), and a warning for each best value at the edge of its range (widen it)."""
    space = as_space(ranges)
    rows = [{"status": "completed", "val_acc": t.value, "params": dict(t.params)}
            for t in study.trials
            if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None
            and all(name in t.params for name in space)]
    if not rows:
        return space, []
    best = max(rows, key=lambda r: r["val_acc"])
    return narrow(space, rows), edge_warnings(space, best["params"])
