"""Train one attempt of the fix chain in-process, without a terminal: for the Python API, the
tests and the benchmark (the command line's runner draws the dashboard as well)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babysit.api import prepare_data
from babysit.config import Config
from babysit.data import Dataset
from babysit.diagnostics.sink import DiagnosticsSink, stopper
from babysit.fix.chain import Outcome, Plan, Runner, attempt_log
from babysit.training import JsonlSink, Sink, Trainer
from babysit.training.trainer import STOPPED


def attempt_runner(level: str | None = "warning",
                   dataset: Callable[[Config], Dataset] | None = None,
                   log: Path | None = None) -> Runner:
    """A Runner that trains each attempt, stopping at its first finding at `level` (None: never
    stops); with `log`, attempt k writes LOG.fixk (attempt 0: LOG itself), replacing old files."""
    def run(config: Config, k: int, plan: Plan | None) -> Outcome:
        config = config.validated()
        data = dataset(config) if dataset is not None else prepare_data(config)
        doctor = DiagnosticsSink()
        sinks: list[Sink] = [doctor]
        path = None
        if log is not None:
            path = attempt_log(log, k)
            sinks.append(JsonlSink(path, overwrite=True))
        trainer = Trainer(config, data, sinks)
        if level is not None:
            doctor.listeners.append(stopper(level, lambda why: trainer.request_stop(why, STOPPED)))
        summary = trainer.run()
        assert doctor.report is not None
        return Outcome(str(path or ""), summary["status"], doctor.report, summary.get("val_acc"),
                       len(data.y_val))

    return run
