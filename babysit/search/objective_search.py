"""The coarse-to-fine search of search.py, over the user's own training function.

The same stages, narrowing, edge warnings, results file, resume and runners as babysit's own
search; each trial calls the user's `train(config, trial)` in a worker (objective.py) instead of
babysit's trainer. `run` is the Python entry point (`babysit.search.run`); `babysit search
--objective FILE.py:FUNCTION` calls it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babysit.errors import BabysitError
from babysit.search.objective import Objective, run_objective_trial
from babysit.search.results import HEADER_TYPE
from babysit.search.runner import DaskRunner, LocalRunner
from babysit.search.search import Event, Outcome, finished_trials, open_results, run_stages, stage_plan
from babysit.search.space import Choice, LinRange, LogRange, Space, parse_range


def objective_name(objective: Objective | str) -> str:
    """How the results header names the objective: its spec, or module:function."""
    if isinstance(objective, str):
        return objective
    return f"{getattr(objective, '__module__', '?')}:{getattr(objective, '__qualname__', '?')}"


def parse_named_range(text: str) -> tuple[str, LogRange | LinRange]:
    """'lr=1e-4:1e-1:log' -> ('lr', LogRange); 'dropout=0:0.5' -> a uniform range."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise BabysitError(f"--range {text!r}: give NAME=LOW:HIGH or NAME=LOW:HIGH:log")
    log = rest.endswith(":log")
    return name.strip(), parse_range(rest.removesuffix(":log"), "range", log=log)


def parse_choices(text: str) -> tuple[str, Choice]:
    """'hidden=64,128' -> ('hidden', Choice((64, 128))): numbers read as numbers."""
    name, sep, rest = text.partition("=")
    values = tuple(_value(v.strip()) for v in rest.split(",") if v.strip())
    if not sep or not name.strip().isidentifier() or not values:
        raise BabysitError(f"--choices {text!r}: give NAME=A,B,...")
    return name.strip(), Choice(values)


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def objective_space(lr_range: str, ranges: list[str], choices: list[str]) -> Space:
    """`babysit search --objective`'s space: the learning rate (--lr-range), then each --range
    and --choices (a later one of the same name wins, --range lr=... too)."""
    space: Space = {"lr": parse_range(lr_range, "lr-range", log=True)}
    space.update(parse_named_range(text) for text in ranges)
    space.update(parse_choices(text) for text in choices)
    return space


def as_space(ranges: Mapping[str, Any]) -> Space:
    """The Python API's ranges: 'LO:HI[:log]' strings, (lo, hi[, 'log']) tuples, lists of
    choices, or the space's own classes."""
    space: Space = {}
    for name, spec in ranges.items():
        if isinstance(spec, (LogRange, LinRange, Choice)):
            space[name] = spec
        elif isinstance(spec, str):
            space[name] = parse_named_range(f"{name}={spec}")[1]
        elif isinstance(spec, tuple) and len(spec) in (2, 3):
            log = len(spec) == 3 and spec[2] == "log"
            space[name] = parse_range(f"{spec[0]}:{spec[1]}", name, log=log)
        elif isinstance(spec, list) and spec:
            space[name] = Choice(tuple(spec))
        else:
            raise BabysitError(f"range {name}: give 'LO:HI[:log]', (lo, hi[, 'log']) or a list")
    if not space:
        raise BabysitError("a search needs at least one range or choice to vary")
    return space


def search_objective(objective: Objective | str, space: Space, stages: list[Any], results: Path,
                     runner: LocalRunner | DaskRunner, seed: int = 0, resume: bool = False,
                     fixed: Mapping[str, Any] | None = None, on_event: Event | None = None,
                     prune: bool = True) -> Outcome:
    """Run every stage of a search over `objective`; each row appended to `results`; `prune`
    False lets every trial run to its end (to measure what pruning saves)."""
    emit = on_event or (lambda kind, payload: None)
    name = objective_name(objective)
    fixed = dict(fixed or {})
    header = {"type": HEADER_TYPE, "objective": name, "config": {"seed": seed, "prune": prune, **fixed},
              "space": {k: str(v) for k, v in space.items()},
              "stages": [[s.trials, s.epochs] for s in stages], "data": f"objective {name}"}
    done = finished_trials(results, header, resume)
    out_dir = str(results.with_suffix(""))

    def submit(values: dict[str, Any], tid: str, stage: int, trial_seed: int) -> Any:
        return runner.submit(run_objective_trial, objective, {**fixed, **values}, tid, stage,
                             trial_seed, out_dir, prune)

    with open_results(results, header) as sink:
        return run_stages(space, stages, seed, done, sink, runner, submit, emit)


def run(objective: Objective | str, ranges: Mapping[str, Any], *, trials: int = 8,
        epochs: int = 2, stages: int = 1, fine_epochs: int | None = None, workers: int = 1,
        results: str | Path = "search.jsonl", seed: int = 0, resume: bool = False,
        fixed: Mapping[str, Any] | None = None, on_event: Event | None = None,
        prune: bool = True) -> Outcome:
    """Search `objective` (train(config, trial) -> validation metric, or 'file.py:train') over
    `ranges`: `trials` x `epochs` first, then `stages - 1` narrower stages of `fine_epochs`;
    `fixed`: values every trial's config also holds; `prune` False: no trial is stopped early.
    Returns the Outcome (rows, best)."""
    plan = stage_plan(trials, epochs, fine_epochs or 2 * epochs, stages)
    runner = LocalRunner(workers)
    try:
        return search_objective(objective, as_space(ranges), plan, Path(results), runner, seed,
                                resume, fixed, on_event, prune)
    finally:
        runner.close()
