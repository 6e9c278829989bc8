"""Collecting a stage's trials as they finish, and recording the ones whose worker died.

A trial's own exception is its row's business (the objective records it as failed). A worker
process that dies under a trial (the kernel's out-of-memory killer, a segfault in a native
library, a stray kill) is not: ProcessPoolExecutor then fails every unfinished trial with
BrokenProcessPool, without saying which one killed it. The unfinished trials are then run one
at a time on a fresh pool: a trial that breaks the pool while running alone is the one, and is
recorded as failed; the others finish normally. Dask names the task itself (KilledWorker after
its retries): that trial is recorded, the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from babysit.search.results import FINISHED
from babysit.search.runner import DaskRunner, LocalRunner

Item = tuple[dict[str, Any], str, int, int]  # (values, trial id, stage, seed), as submit takes them
DIED = "its worker process died (killed, out of memory, or a crash in native code)"


def failed_row(item: Item, reason: str) -> dict[str, Any]:
    """A results row for a trial that left no row of its own."""
    values, tid, stage, seed = item
    return {"trial": tid, "stage": stage, "seed": seed,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()
                       if k != "epochs"},
            "config": None, "status": "failed", "reason": reason, "val_acc": None,
            "val_loss": None, "train_acc": None, "steps": None, "epochs": values.get("epochs"),
            "wall_time": None, "log": None}


def finished_rows(runner: LocalRunner | DaskRunner, items: list[Item],
                  submit: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """Rows of `items`' trials as they complete; once a stop is requested, queued trials are
    cancelled and the running ones are waited for (they stop at their next step)."""
    futures = [submit(*item) for item in items]
    remaining = set(range(len(futures)))
    index = {id(f): i for i, f in enumerate(futures)}
    cancelled = False
    for future in runner.as_completed(futures):
        i = index[id(future)]
        remaining.discard(i)
        if not future.cancelled():
            try:
                row = future.result()
            except BrokenProcessPool:
                yield from _one_at_a_time(runner, [items[i], *(items[j] for j in sorted(remaining))],
                                          submit)
                return
            except Exception as exc:  # Dask's KilledWorker, or a trial's own uncaught error
                row = failed_row(items[i], f"{DIED}: {type(exc).__name__}" if "Killed" in
                                 type(exc).__name__ else f"{type(exc).__name__}: {exc}"[:300])
            if row["status"] in FINISHED:  # an interrupted trial is not: a resume reruns it
                yield row
        if runner.stop_requested and not cancelled:
            cancelled = True
            for j in remaining:
                futures[j].cancel()
            if isinstance(runner, DaskRunner):  # its running tasks cannot be stopped: drop them
                return


def _one_at_a_time(runner: LocalRunner | DaskRunner, items: list[Item],
                   submit: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """After a worker died: each unfinished trial alone on a fresh pool, so that the one that
    kills its worker is known (and recorded), and the others still run."""
    assert isinstance(runner, LocalRunner)
    runner.restart()
    for item in items:
        if runner.stop_requested:
            return
        try:
            row = submit(*item).result()
        except BrokenProcessPool:
            runner.restart()
            row = failed_row(item, DIED)
        if row["status"] in FINISHED:
            yield row
