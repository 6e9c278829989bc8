"""A search over the user's own training function, each trial babysat and pruned by its findings.

The contract is Optuna's objective and TrialPruned, made familiar: the user writes
`def train(config, trial)`; `config` holds the sampled values and `config["epochs"]`;
`trial.monitor(model, optimizer, **kw)` returns a babysit Monitor writing the trial's own log;
the loop calls `monitor.step(loss)` and `monitor.epoch(val_acc=...)` as usual and returns the
validation metric (higher is better). When the trial is hopeless in the lecture's sense (a NaN,
an exploding loss, any error finding; validation accuracy at chance after its first epoch), the
Monitor raises TrialPruned, which the search catches and records with the finding as its reason.
A trial that raises anything else (a CUDA out-of-memory error, a bug for one setting) is
recorded as failed and the search goes on. This module imports no framework: the Monitor (and
torch) load in the worker, when a trial asks for one.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babysit.errors import BabysitError

DIVERGED_RULES = ("loss-nan", "loss-explosion")  # a pruned trial with these diverged
# Cut after the first epoch when validation accuracy is within this of chance (1/C): the
# trial has learned nothing at all, and more epochs at the same rate rarely rescue it.
HOPELESS_MARGIN = 0.02
Objective = Callable[[dict[str, Any], "Trial"], Any]


class TrialPruned(Exception):
    """Raised by a trial's Monitor when babysit judges the trial hopeless; `rule` names why."""

    def __init__(self, reason: str, rule: str | None = None) -> None:
        """`reason`: the finding or the cut, as a sentence; `rule`: its rule id, when a rule."""
        super().__init__(reason)
        self.reason, self.rule = reason, rule


class SearchStopped(Exception):
    """Raised in a running trial when its search is stopping (Ctrl-C, SIGTERM, its parent gone)."""


class Trial:
    """What the objective gets besides its config: the trial's id, seed and log, and a Monitor."""

    def __init__(self, trial_id: str, stage: int, seed: int, log: Path, prune: bool = True) -> None:
        """A trial writing its log to `log`; `prune` False: babysat, never stopped."""
        self.id, self.stage, self.seed, self.log, self.prune = trial_id, stage, seed, log, prune
        self.monitors: list[Any] = []
        self.callbacks: list[Any] = []  # framework callbacks, each holding a monitor once fitting

    def monitor_class(self) -> Callable[..., Any]:
        """What watches this trial's model: a TrialMonitor (torch loads here, in the worker)."""
        from functools import partial

        from babysit.search.trial_monitor import TrialMonitor

        return partial(TrialMonitor, prune=self.prune)

    def monitor(self, model: Any, optimizer: Any = None, **kw: Any) -> Any:
        """A babysit Monitor for this trial (its log replaced on a rerun, nothing printed, no
        notebook cell) that raises TrialPruned when the trial is hopeless; other keyword
        arguments as the Monitor's (num_classes, val_size, ...)."""
        options = {"log": self.log, "overwrite": True, "verbose": False, "live": False, **kw}
        monitor = self.monitor_class()(model, optimizer, **options)
        self.monitors.append(monitor)
        return monitor

    def lightning(self, **kw: Any) -> Any:
        """A Lightning BabysitCallback for this trial: `Trainer(callbacks=[trial.lightning(
        num_classes=10)])`; fit() raises TrialPruned when the trial is hopeless."""
        from babysit.integrations.lightning import BabysitCallback

        return self._callback(BabysitCallback(log=self.log, overwrite=True, verbose=False,
                                              live=False, **kw))

    def keras(self, **kw: Any) -> Any:
        """A Keras BabysitCallback for this trial (torch backend): `model.fit(...,
        callbacks=[trial.keras(num_classes=10)])`; fit raises TrialPruned when hopeless."""
        from babysit.integrations.keras import BabysitCallback

        return self._callback(BabysitCallback(log=self.log, overwrite=True, verbose=False,
                                              live=False, **kw))

    def transformers(self, **kw: Any) -> Any:
        """A Hugging Face BabysitCallback for this trial: `Trainer(..., callbacks=[
        trial.transformers()])`; trainer.train() raises TrialPruned when hopeless."""
        from babysit.integrations.transformers import BabysitCallback

        return self._callback(BabysitCallback(log=self.log, overwrite=True, verbose=False,
                                              live=False, **kw))

    def _callback(self, callback: Any) -> Any:
        """A framework callback watched by this trial's Monitor, closed with the trial."""
        callback.monitor_class = self.monitor_class()
        self.callbacks.append(callback)
        return callback

    def close(self, status: str | None = None) -> None:
        """Close the monitors the objective left open (their logs end with a summary)."""
        for monitor in self.all_monitors():
            monitor.close(status)

    def all_monitors(self) -> list[Any]:
        """The trial's monitors: its own and its callbacks' (once they started)."""
        return self.monitors + [c.monitor for c in self.callbacks if c.monitor is not None]


def load_objective(spec: str) -> Objective:
    """'train.py:train' or 'pkg.module:train' -> the function; a one-line error otherwise."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise BabysitError(f"--objective {spec!r}: give FILE.py:FUNCTION or MODULE:FUNCTION")
    if where.endswith(".py"):
        path = Path(where).resolve()
        if not path.is_file():
            raise BabysitError(f"--objective {spec!r}: no file {where}")
        module_spec = importlib.util.spec_from_file_location(f"babysit_objective_{path.stem}", path)
        if module_spec is None or module_spec.loader is None:
            raise BabysitError(f"--objective {spec!r}: cannot load {where}")
        module = importlib.util.module_from_spec(module_spec)
        sys.path.insert(0, str(path.parent))  # its own imports of neighbouring files
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise BabysitError(f"--objective {spec!r}: importing {where} failed: {exc!r}") from None
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise BabysitError(f"--objective {spec!r}: cannot import {where}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise BabysitError(f"--objective {spec!r}: {where} has no function {name}")
    return function


def run_objective_trial(objective: Objective | str, values: dict[str, Any], trial_id: str,
                        stage: int, seed: int, out_dir: str, prune: bool = True) -> dict[str, Any]:
    """Run one trial of the user's function (in a worker); return its results row."""
    function = load_objective(objective) if isinstance(objective, str) else objective
    log = Path(out_dir) / "trials" / f"{trial_id}.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    trial = Trial(trial_id, stage, seed, log, prune)
    _seed_everything(seed)
    start = time.perf_counter()
    status, reason, metric = "completed", None, None
    try:
        metric = _number(function(dict(values), trial))
        if metric is None:
            status, reason = "failed", "the objective returned no finite number"
    except SearchStopped:
        status = "interrupted"
    except TrialPruned as pruned:
        status = "diverged" if pruned.rule in DIVERGED_RULES else "hopeless"
        reason = pruned.reason
    except Exception as exc:  # one setting's crash (out of memory, a bug) must not end the search
        status, reason = "failed", _last_line(exc)
    finally:
        trial.close("completed" if status == "completed" else
                    "interrupted" if status == "interrupted" else "stopped")
    return {"trial": trial_id, "stage": stage, "seed": seed,
            "params": {k: v for k, v in values.items() if k != "epochs"},
            "config": dict(values), "status": status, "reason": reason, "val_acc": metric,
            "val_loss": None, "train_acc": None, "steps": sum(m.step_index for m in trial.all_monitors()),
            "epochs": values.get("epochs"), "wall_time": round(time.perf_counter() - start, 3),
            "log": str(log)}


def _number(value: Any) -> float | None:
    """The objective's return value as a finite float (a 0-d tensor or numpy scalar too)."""
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _last_line(exc: BaseException) -> str:
    """An exception as one line, with where it was raised (the user's file and line)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}".splitlines()[0][:300]


def _seed_everything(seed: int) -> None:
    """The trial's seed for Python's, NumPy's and (when loaded) torch's generators."""
    import random

    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
