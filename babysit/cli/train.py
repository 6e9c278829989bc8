"""`babysit train`: wire config -> data -> trainer -> sinks (log, diagnostics, dashboard)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from babysit.cli.errors import reports_errors
from babysit.cli.options import run_options
from babysit.cli.report import findings_table
from babysit.cli.signals import graceful_stop
from babysit.config import Config
from babysit.diagnostics.rule import SEVERITY_RANK, Finding
from babysit.errors import BabysitError

if TYPE_CHECKING:  # the training stack (numpy) is imported when a command runs, not at start
    from babysit.training import JsonlSink, Trainer

# Exit statuses (docs/cli.md); bad input is 2 (errors.py).
EXIT_CODES = {"completed": 0, "diverged": 1, "stopped": 3, "interrupted": 130}
RUNS_DIR = Path("runs")


def open_log(path: Path | None, run_id: str, overwrite: bool) -> JsonlSink:
    """The requested log, or runs/<run_id>.jsonl (with -2, -3 ... if that name is taken)."""
    from babysit.training import JsonlSink

    if path is not None:
        return JsonlSink(path, overwrite=overwrite)
    for n in range(1, 1000):
        candidate = RUNS_DIR / (f"{run_id}.jsonl" if n == 1 else f"{run_id}-{n}.jsonl")
        if not candidate.exists():
            try:
                return JsonlSink(candidate)
            except BabysitError:  # taken by a run that started in the same second
                continue
    raise BabysitError(f"no free log name for run {run_id} in {RUNS_DIR}/")


def stop_on(trainer: Trainer, level: str) -> Callable[[Finding], None]:
    """A findings listener that stops training at the first finding of `level` or worse."""
    from babysit.training.trainer import STOPPED

    rank = SEVERITY_RANK[level]

    def listener(finding: Finding) -> None:
        if SEVERITY_RANK[finding.severity] >= rank:
            trainer.request_stop(f"--stop-on {level}: {finding.rule} at step {finding.step}: "
                                 f"{finding.message}", status=STOPPED)

    return listener


@reports_errors
@run_options
def train(
    config: Config,
    log: Annotated[Path | None, typer.Option(
        help="JSONL log path [default: runs/<date>-<time>.jsonl]")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the --log file if it exists")] = False,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="Full-screen dashboard [default: when stdout is a terminal]",
        show_default=False)] = None,
    stop_on_level: Annotated[Literal["error", "warning"] | None, typer.Option(
        "--stop-on", help="Stop training at the first finding of this severity or worse")] = None,
) -> None:
    """Train a fully-connected net, logging one metric record per iteration."""
    from babysit.api import prepare_data
    from babysit.dashboard.live import LiveDashboard
    from babysit.dashboard.plain import FindingPrinter
    from babysit.dashboard.progress import ProgressPrinter
    from babysit.dashboard.state import RunState
    from babysit.diagnostics.sink import DiagnosticsSink
    from babysit.training import Trainer
    from babysit.training.trainer import new_run_id

    data = prepare_data(config)
    run_id = new_run_id()
    sink = open_log(log, run_id, overwrite)
    console = Console(highlight=False)
    use_live = console.is_terminal if live is None else live
    doctor = DiagnosticsSink()
    try:  # a net too big for memory fails here: the log (and an old one it replaces) stays as it was
        if use_live:
            state = RunState(str(sink.path))
            trainer = Trainer(config, data, [sink, doctor, state], run_id=run_id)
        else:
            doctor.listeners.append(FindingPrinter(sys.stdout))
            trainer = Trainer(config, data, [sink, doctor, ProgressPrinter(sys.stdout)], run_id=run_id)
    except BaseException:
        sink.close()
        raise
    if stop_on_level is not None:
        doctor.listeners.append(stop_on(trainer, stop_on_level))
    with graceful_stop(trainer.request_stop, trainer.force_stop):
        if use_live:
            with LiveDashboard(state, lambda: doctor.engine.findings):
                summary = trainer.run()
        else:
            summary = trainer.run()
    if doctor.report is not None:
        console.print(findings_table(doctor.report.findings))
    status = summary["status"]
    line = f"{status}: {summary['steps']} steps in {summary['wall_time']:.2f}s"
    for key, name in (("train_acc", "train acc"), ("val_acc", "val acc")):
        if isinstance(summary.get(key), (int, float)):  # absent when the evaluation was skipped
            line += f", {name} {100 * summary[key]:.1f}%"
    if summary.get("reason"):
        line += f" ({summary['reason']})"
    console.print(line, soft_wrap=True)
    console.print(f"log: {sink.path}", soft_wrap=True)
    raise typer.Exit(EXIT_CODES.get(status, 1))
