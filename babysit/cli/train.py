"""`babysit train`: wire config -> data -> trainer -> sinks (log file, progress lines)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from babysit.api import prepare_data
from babysit.cli.errors import reports_errors
from babysit.cli.options import run_options
from babysit.cli.progress import ProgressPrinter
from babysit.cli.report import findings_table
from babysit.cli.signals import graceful_stop
from babysit.config import Config
from babysit.diagnostics.sink import DiagnosticsSink
from babysit.errors import BabysitError
from babysit.training import JsonlSink, Trainer
from babysit.training.trainer import new_run_id

# Exit statuses (docs/cli.md): bad input is 2 (errors.py).
EXIT_CODES = {"completed": 0, "diverged": 1, "interrupted": 130}
RUNS_DIR = Path("runs")


def open_log(path: Path | None, run_id: str, overwrite: bool) -> JsonlSink:
    """The requested log, or runs/<run_id>.jsonl (with -2, -3 ... if that name is taken)."""
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


@reports_errors
@run_options
def train(
    config: Config,
    log: Annotated[Path | None, typer.Option(
        help="JSONL log path [default: runs/<date>-<time>.jsonl]")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the --log file if it exists")] = False,
) -> None:
    """Train a fully-connected net, logging one metric record per iteration."""
    data = prepare_data(config)
    run_id = new_run_id()
    sink = open_log(log, run_id, overwrite)
    doctor = DiagnosticsSink()
    trainer = Trainer(config, data, [sink, doctor, ProgressPrinter(sys.stdout)], run_id=run_id)
    with graceful_stop(trainer.request_stop):
        summary = trainer.run()
    if doctor.report is not None:
        Console(highlight=False).print(findings_table(doctor.report.findings))
    status = summary["status"]
    line = (f"{status}: {summary['steps']} steps in {summary['wall_time']:.2f}s, "
            f"train acc {100 * summary['train_acc']:.1f}%")
    if summary.get("val_acc") is not None:
        line += f", val acc {100 * summary['val_acc']:.1f}%"
    if summary.get("reason"):
        line += f" ({summary['reason']})"
    typer.echo(line)
    typer.echo(f"log: {sink.path}")
    raise typer.Exit(EXIT_CODES.get(status, 1))
