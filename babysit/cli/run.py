"""One training run wired to its sinks: the log, the diagnosis, the dashboard or plain lines.

`babysit train` runs it once; `babysit train --fix` once per attempt.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from babysit.cli.signals import graceful_stop
from babysit.config import Config
from babysit.diagnostics.engine import Report
from babysit.diagnostics.sink import stopper

if TYPE_CHECKING:  # the training stack (numpy) is imported when a command runs, not at start
    from babysit.training import JsonlSink

def open_log(path: Path | None, run_id: str, overwrite: bool) -> JsonlSink:
    """The requested log, or runs/<run_id>.jsonl (with -2, -3 ... if that name is taken)."""
    from babysit.training.sinks import JsonlSink, open_new_log

    return JsonlSink(path, overwrite=overwrite) if path is not None else open_new_log(run_id)


@dataclass
class RunResult:
    """A finished run: its summary record, its diagnosis, where its log is."""

    summary: dict[str, Any]
    report: Report
    log: Path
    n_val: int
    losses: list[float]  # a bounded sketch of the training loss (babysit.dashboard.sketch)


def train_once(config: Config, sink: JsonlSink, run_id: str, console: Console, use_live: bool,
               stop_level: str | None, label: str | None = None,
               keep_going: bool = True) -> RunResult:
    """Train `config` into `sink` with diagnosis, the dashboard or plain lines, and --stop-on;
    unless `keep_going`, an error found at step 0 (not provisional: the init makes every later
    step pointless, as --init zeros does) stops the run."""
    from babysit.api import prepare_data
    from babysit.dashboard.live import LiveDashboard
    from babysit.dashboard.plain import FindingPrinter
    from babysit.dashboard.progress import ProgressPrinter
    from babysit.dashboard.sketch import LossSketch
    from babysit.dashboard.state import RunState
    from babysit.diagnostics.sink import DiagnosticsSink
    from babysit.training import Trainer

    shown = f"{sink.path}  {label}" if label else str(sink.path)
    doctor = DiagnosticsSink()
    sketch = LossSketch()
    try:  # bad data, or a net too big for memory, fails here: the log (and an old one) stays
        data = prepare_data(config)
        if use_live:
            state = RunState(shown)
            trainer = Trainer(config, data, [sink, doctor, state, sketch], run_id=run_id)
        else:
            doctor.listeners.append(FindingPrinter(sys.stdout))
            trainer = Trainer(config, data, [sink, doctor, ProgressPrinter(sys.stdout), sketch],
                              run_id=run_id)
    except BaseException:
        sink.close()
        raise
    if stop_level is not None:
        from babysit.training.trainer import STOPPED

        doctor.listeners.append(stopper(stop_level, lambda reason: trainer.request_stop(
            f"--stop-on {stop_level}: {reason}", status=STOPPED)))
    if not keep_going:
        from babysit.training.trainer import STOPPED

        at_start = stopper("error", lambda reason: trainer.request_stop(
            f"{reason} (training on would change nothing; --keep-going trains anyway)",
            status=STOPPED))
        doctor.listeners.append(lambda finding: at_start(finding) if finding.step == 0 else None)
    with graceful_stop(trainer.request_stop, trainer.force_stop):
        if use_live:
            with LiveDashboard(state, lambda: doctor.engine.findings):
                summary = trainer.run()
        else:
            summary = trainer.run()
    assert doctor.report is not None  # the trainer closes its sinks
    return RunResult(summary, doctor.report, sink.path, len(data.y_val), sketch.losses)


def summary_line(summary: dict[str, Any]) -> str:
    """'completed: 800 steps in 0.52s, train acc 99.0%, val acc 98.3%'."""
    line = f"{summary['status']}: {summary['steps']} steps in {summary['wall_time']:.2f}s"
    for key, name in (("train_acc", "train acc"), ("val_acc", "val acc")):
        if isinstance(summary.get(key), (int, float)):  # absent when the evaluation was skipped
            line += f", {name} {100 * summary[key]:.1f}%"
    if summary.get("reason"):
        line += f" ({summary['reason']})"
    return line
