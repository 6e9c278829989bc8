"""`babysit watch LOG`: the live dashboard and diagnosis for a log another process is writing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from babysit.cli.errors import reports_errors
from babysit.cli.findings_view import findings_view
from babysit.cli.reading import Task, Verbose
from babysit.cli.signals import graceful_stop
from babysit.dashboard.follow import POLL_SECONDS, follow_records, wait_for
from babysit.dashboard.plain import FindingPrinter
from babysit.dashboard.progress import ProgressPrinter
from babysit.dashboard.state import RunState
from babysit.diagnostics.engine import Engine
from babysit.diagnostics.runs import check_classes
from babysit.diagnostics.sink import DiagnosticsSink
from babysit.errors import BabysitError
from babysit.readers import FieldMap, find_runs, parse_maps
from babysit.readers.common import ReadStats
from babysit.readers.inputs import is_gzip, is_stream
from babysit.readers.notes import read_notes
from babysit.readers.text import read_text
from babysit.text import visible


def _interrupt(reason: str = "") -> None:
    raise KeyboardInterrupt


def _echo(line: str) -> None:
    """A line of the watched script's output, passed through as it came."""
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
    sys.stdout.flush()


@reports_errors
def watch(
    log: Annotated[Path, typer.Argument(
        help="Log being written by a training run: JSONL or printed output (or a pipe; - for "
             "stdin: `python train.py 2>&1 | babysit watch -`), a TensorBoard event file or run "
             "directory, an MLflow store")],
    follow: Annotated[bool, typer.Option(
        "--follow", help="Keep following after the run's summary record")] = False,
    classes: Annotated[int | None, typer.Option(
        help="Number of classes, for the initial-loss check (overrides the header)")] = None,
    task: Task = None,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="Full-screen dashboard [default: when stdout is a terminal]",
        show_default=False)] = None,
    wait: Annotated[bool, typer.Option(
        "--wait", help="Wait for the log to appear (start watching before the run starts)")] = False,
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="Read a metric of another name as a field: FIELD=NAME (repeatable)")] = None,
    run: Annotated[str | None, typer.Option(
        help="The run to watch in a TensorBoard directory or MLflow store (id or name)")] = None,
    verbose: Verbose = False,
) -> None:
    """Watch a run as its log grows: dashboard, diagnosis and advice, until its summary or Ctrl-C.

    Printed output piped in (`python train.py 2>&1 | babysit watch -`) is passed through as it
    comes, with each finding printed as it appears and the diagnosis at the end. The exit status
    is babysit's: the script's own is ${PIPESTATUS[0]} in bash (`set -o pipefail` fails the
    pipeline when either fails).
    Exit status: 0 no warning or error, 1 at least one, 2 unreadable input or bad options.
    """
    from babysit.dashboard.live import LiveDashboard  # multiprocessing: only when watching

    check_classes(classes)
    console = Console(highlight=False)
    if wait and not log.exists():
        if not log.parent.is_dir():
            raise BabysitError(f"cannot wait for {log}: directory {log.parent} does not exist")
        console.print(f"waiting for {log} to appear (Ctrl-C to stop)", soft_wrap=True)
        try:
            wait_for(log)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    fields = FieldMap(parse_maps(map_))
    runs = find_runs(log, fields, run)
    if len(runs) > 1:
        raise BabysitError(f"{log} holds {len(runs)} runs; choose one with --run "
                           f"({', '.join(r.name for r in runs[:5])}{', ...' if len(runs) > 5 else ''})")
    chosen = runs[0]
    passthrough = chosen.format == "text" and is_stream(log)  # the script's own output, piped in
    use_live = (console.is_terminal and not passthrough) if live is None else live
    state = RunState(str(log))
    doctor = DiagnosticsSink(Engine(classes=classes, task=task))
    sinks = [doctor, state]
    if not use_live:
        doctor.listeners.append(FindingPrinter(sys.stdout))
        if not passthrough:  # the script prints its own progress
            sinks.append(ProgressPrinter(sys.stdout))  # type: ignore[arg-type]
    stats = ReadStats()

    def replaced() -> None:  # a new run took the log's name: watch that one from its start
        state.reset()
        stats.__init__()  # type: ignore[misc]  # the notes are about the new file
        doctor.engine = Engine(classes=classes, task=task)
        if not use_live:
            console.print(f"{log} was replaced: following the new run", soft_wrap=True)

    def deleted() -> None:  # said, not waited on in silence: the run may never come back
        if use_live:
            state.emit({"type": "summary", "status": "log deleted (waiting for it)"})
        else:
            console.print(f"{log} was deleted: waiting for a new run there (Ctrl-C to stop)",
                          soft_wrap=True)

    def watch_records() -> None:
        if passthrough:
            records = read_text(log, stats, fields, echo=None if use_live else _echo)
        elif chosen.format == "jsonl" and is_gzip(log):  # a .gz is written once: shown whole
            records = chosen.read(stats, None)
        elif chosen.format == "jsonl":
            records = follow_records(log, stats, until_summary=not follow, on_replaced=replaced,
                                     on_missing=deleted)
        elif chosen.follow is not None:  # TensorBoard, MLflow: polled as the run writes them
            records = chosen.follow(stats, POLL_SECONDS)
        else:  # a CSV or trainer_state.json is rewritten whole: show it as it is now
            records = chosen.read(stats, None)
        for record in records:
            for sink in sinks:
                sink.emit(record)

    try:  # SIGTERM and SIGHUP end watching like Ctrl-C: with the findings so far, not silently
        with graceful_stop(_interrupt, _interrupt):
            if use_live:
                with LiveDashboard(state, lambda: doctor.engine.findings):
                    watch_records()
            else:
                watch_records()
    except KeyboardInterrupt:
        pass
    report = doctor.engine.finish()
    console.print(findings_view(report, verbose))
    for note in read_notes(stats):
        console.print(f"Note: {note}", style="dim")
    summary = state.snapshot().summary
    ended = f"run {summary.get('status')}" if summary else "stopped watching"
    console.print(f"{ended}: {report.steps} steps read from {visible(log)}", soft_wrap=True, markup=False)
    serious = any(f.severity in ("warning", "error") for f in report.findings)
    raise typer.Exit(1 if serious else 0)
