"""Coarse-to-fine random search, as the lecture describes it.

Stage 1 samples many configurations and trains each for a few epochs; each later stage samples
fewer, trains them longer, in ranges narrowed around the best trials of the stage before.
Every finished trial is appended to a results JSONL at once, so an interrupted search loses
nothing finished and `resume` picks up where it stopped. Sampling depends only on the seed,
the stage and the results of earlier stages, so the same seed gives the same trials whatever
runs them.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from babysit.config import Config
from babysit.data import Dataset
from babysit.errors import BabysitError
from babysit.search.collect import finished_rows
from babysit.search.results import (
    ENSEMBLE_TYPE,
    STAGE_TYPE,
    ends_with_newline,
    load_results,
    search_header,
)
from babysit.search.runner import DaskRunner, LocalRunner
from babysit.search.space import Space, edge_warnings, sample
from babysit.search.trial import run_trial

TOP_FRACTION = 0.2  # a stage's ranges are narrowed around its best fifth (at least 3 trials)
MOSTLY_DIVERGED = 0.5  # warn when more than half of a stage's trials diverged

Event = Callable[[str, Any], None]


@dataclass
class Stage:
    """How many trials a stage samples and how many epochs each trains."""

    trials: int
    epochs: int


@dataclass
class Outcome:
    """What a search found."""

    rows: list[dict[str, Any]]
    spaces: list[Space]
    warnings: list[str] = field(default_factory=list)
    ensemble: dict[str, Any] | None = None
    interrupted: bool = False

    @property
    def best(self) -> dict[str, Any] | None:
        """The completed trial with the highest validation accuracy (ties: the earliest)."""
        done = [r for r in self.rows if r["status"] == "completed" and r.get("val_acc") is not None]
        return max(done, key=lambda r: r["val_acc"]) if done else None


def trial_seed(seed: int, stage: int, index: int) -> int:
    """The seed of one trial's init, shuffling and dropout (the data split is shared)."""
    return seed * 10_000 + stage * 1_000 + index


def plan_stage(space: Space, seed: int, stage: int, trials: int) -> list[tuple[str, dict[str, Any], int]]:
    """(trial id, sampled values, trial seed) for every trial of a stage."""
    rng = np.random.default_rng([seed, stage])
    return [(f"s{stage + 1}-t{i:03d}", sample(space, rng), trial_seed(seed, stage, i))
            for i in range(trials)]


def narrow(space: Space, rows: list[dict[str, Any]]) -> Space:
    """Each dimension narrowed around the best completed trials of `rows`."""
    done = sorted((r for r in rows if r["status"] == "completed" and r.get("val_acc") is not None),
                  key=lambda r: -r["val_acc"])
    if not done:
        return space
    top = done[: max(3, int(len(done) * TOP_FRACTION))]
    values = {name: [_hashable(r["params"][name]) for r in top] for name in space}
    return {name: dim.narrow(values[name]) for name, dim in space.items()}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def run_search(base: Config, space: Space, stages: list[Stage], data: Dataset,
               results: Path, runner: LocalRunner | DaskRunner, resume: bool = False,
               ensemble: int = 0, on_event: Event | None = None) -> Outcome:
    """Run every stage; append each finished trial to `results`; return what was found.

    After runner.request_stop() (Ctrl-C), no new trial starts, running ones stop at their next
    step, and every trial that finished meanwhile is still written: outcome.interrupted.
    """
    emit = on_event or (lambda kind, payload: None)
    header = search_header(base, space, [(s.trials, s.epochs) for s in stages], data)
    done = finished_trials(results, header, resume)
    out_dir = results.with_suffix("")  # trial logs and models live beside the results file
    shared = runner.share(data)

    def submit(values: dict[str, Any], tid: str, stage: int, seed: int) -> Any:
        return runner.submit(run_trial, base, values, tid, stage, seed, shared, str(out_dir),
                             runner.threads)

    with open_results(results, header) as sink:
        outcome = run_stages(space, stages, base.seed, done, sink, runner, submit, emit)
        if ensemble and not outcome.interrupted:
            outcome.ensemble = make_ensemble(outcome.rows, data, ensemble, results)
            if outcome.ensemble:
                _write(sink, {"type": ENSEMBLE_TYPE, **outcome.ensemble})
    return outcome


def finished_trials(results: Path, header: dict[str, Any], resume: bool) -> dict[str, dict[str, Any]]:
    """The rows a resumed search already has (none for a new one); a clear error for a results
    path that is a directory, that exists without --resume, or that holds another search."""
    if results.is_dir():
        raise BabysitError(f"--results {results} is a directory; give a file name, e.g. "
                           f"{results / 'search.jsonl'}")
    if results.exists() and not resume:
        raise BabysitError(f"results file {results} exists: pass --resume to continue that "
                           "search, or choose another --results")
    return load_results(results, expected=header) if resume else {}


Submit = Callable[[dict[str, Any], str, int, int], Any]  # (values, trial id, stage, seed) -> future


@contextmanager
def open_results(results: Path, header: dict[str, Any]) -> Iterator[IO[str]]:
    """The results file opened for appending, its header written when it is new."""
    try:
        results.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BabysitError(f"cannot create {results}: {exc.strerror or exc}") from None
    with results.open("a", encoding="utf-8") as sink:
        if not ends_with_newline(results):
            sink.write("\n")  # a line cut short by a crash: start the next row on its own line
        if sink.tell() == 0:
            _write(sink, header)
        yield sink


def run_stages(space: Space, stages: list[Stage], seed: int, done: dict[str, dict[str, Any]],
               sink: IO[str], runner: LocalRunner | DaskRunner, submit: Submit,
               emit: Event) -> Outcome:
    """Every stage: plan its trials, run those not `done` through `submit`, append each row to
    `sink` as it finishes, warn, and narrow the ranges for the next stage."""
    outcome = Outcome(rows=[], spaces=[])
    for index, stage in enumerate(stages):
        outcome.spaces.append(space)
        planned = plan_stage(space, seed, index, stage.trials)
        emit("stage", {"stage": index + 1, "trials": len(planned), "epochs": stage.epochs,
                       "space": {k: str(v) for k, v in space.items()}})
        rows = [done[tid] for tid, _, _ in planned if tid in done]
        for row in rows:
            emit("result", row)
        items = [({**values, "epochs": stage.epochs}, tid, index + 1, trial_seed_)
                 for tid, values, trial_seed_ in planned if tid not in done]
        emit("running", len(items))
        for row in finished_rows(runner, items, submit):
            _write(sink, row)
            rows.append(row)
            emit("result", row)
        outcome.rows.extend(sorted(rows, key=lambda r: r["trial"]))
        if runner.stop_requested:
            outcome.interrupted = True
            return outcome
        warnings = stage_warnings(space, rows, index + 1)
        outcome.warnings.extend(warnings)
        for warning in warnings:
            emit("warning", warning)
        _write(sink, {"type": STAGE_TYPE, "stage": index + 1, "epochs": stage.epochs,
                      "space": {k: str(v) for k, v in space.items()}, "warnings": warnings})
        space = narrow(space, rows)
    return outcome


def _write(sink: IO[str], record: dict[str, Any]) -> None:
    """Append one line to the results file, flushed (the report reads stages and the ensemble)."""
    sink.write(json.dumps(record) + "\n")
    sink.flush()


def stage_warnings(space: Space, rows: list[dict[str, Any]], stage: int) -> list[str]:
    """Edge-of-range and mostly-diverged warnings for one stage's rows."""
    out = []
    diverged = sum(r["status"] == "diverged" for r in rows)
    if rows and diverged / len(rows) > MOSTLY_DIVERGED:
        out.append(f"stage {stage}: {diverged} of {len(rows)} trials diverged: lower the "
                   "learning-rate range")
    done = [r for r in rows if r["status"] == "completed" and r.get("val_acc") is not None]
    if done:
        best = max(done, key=lambda r: r["val_acc"])
        out += [f"stage {stage}: {w}" for w in edge_warnings(space, best["params"])]
    return out


def model_file(stored: str, results: Path) -> Path:
    """Where a trial's model file is: as stored (absolute, or relative to where the search
    ran), else in the results' own models folder (a search resumed from another directory)."""
    path = Path(stored)
    if path.is_file() or path.is_absolute():
        return path
    return results.with_suffix("") / "models" / path.name


def _val_probs(path: Path) -> np.ndarray | None:
    """A model file's validation probabilities, or None when it is missing or unreadable."""
    try:
        with np.load(path) as saved:
            return np.asarray(saved["val_probs"], dtype=np.float64)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def make_ensemble(rows: list[dict[str, Any]], data: Dataset, k: int,
                  results: Path | None = None) -> dict[str, Any] | None:
    """Average the validation class probabilities of the top k models; compare with the best.
    A model file that is missing or unreadable is left out, and named (`missing`)."""
    ranked = sorted((r for r in rows if r.get("model") and r.get("val_acc") is not None),
                    key=lambda r: -r["val_acc"])[:k]
    if not ranked or not len(data.y_val):
        return None
    found, missing = [], []
    for row in ranked:
        path = model_file(row["model"], results) if results is not None else Path(row["model"])
        probs = _val_probs(path)
        if probs is None or probs.shape != (len(data.y_val), probs.shape[-1]) or probs.ndim != 2:
            missing.append(row["trial"])
        else:
            found.append((row, probs))
    if not found:
        return {"members": [], "missing": missing, "val_acc": None,
                "best_single_val_acc": ranked[0]["val_acc"]}
    probs = np.mean([p for _, p in found], axis=0)
    accuracy = float((probs.argmax(axis=1) == data.y_val).mean())
    return {"members": [r["trial"] for r, _ in found], "missing": missing, "val_acc": accuracy,
            "best_single_val_acc": ranked[0]["val_acc"]}


def stage_plan(trials: int, epochs: int, fine_epochs: int, stages: int,
               fine_trials: int | None = None) -> list[Stage]:
    """Stage 1: `trials` x `epochs`; each later stage `fine_trials` (default: a third of the
    stage before, at least 3) x `fine_epochs`."""
    plan = [Stage(trials, epochs)]
    for _ in range(1, stages):
        n = fine_trials if fine_trials is not None else max(3, plan[-1].trials // 3)
        plan.append(Stage(n, fine_epochs))
    return plan


