"""`babysit diagnose LOG`: read a run log, apply the rules, print findings and advice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from babysit.cli.errors import reports_errors
from babysit.cli.findings_view import report_view, runs_table
from babysit.cli.reading import (
    Classes,
    Ignore,
    MapFields,
    OneRun,
    RulesConfig,
    SetThresholds,
    Task,
    Verbose,
    thresholds_from_options,
)
from babysit.diagnostics.engine import Report
from babysit.diagnostics.runs import diagnose_runs
from babysit.readers import Run
from babysit.text import visible

# More runs than this get a line each: a whole diagnosis is 10-15 lines, and three of them
# still fit one screen (a 16-run MLflow store printed 232 lines).
COMPACT_RUNS = 4


@reports_errors
def diagnose(
    log: Annotated[Path, typer.Argument(
        help="Run log: JSONL (or .gz; - for stdin), a Keras/Lightning CSV log, a "
             "trainer_state.json, a TensorBoard event file or log directory, or an MLflow store "
             "(mlflow.db or mlruns/)")],
    classes: Classes = None,
    task: Task = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    set_: SetThresholds = None,
    rules_config: RulesConfig = None,
    map_: MapFields = None,
    run: OneRun = None,
    ignore: Ignore = None,
    verbose: Verbose = False,
    details: Annotated[bool, typer.Option(
        "--details", help=f"Every run's whole diagnosis, also for more than {COMPACT_RUNS - 1} "
                          "runs (which get one line each)")] = False,
) -> None:
    """Diagnose a training run from its log: findings, evidence and advice.

    A TensorBoard directory or MLflow store with several runs gets one diagnosis per run; with
    more than three, one line per run (--run NAME or --details for the rest).
    Exit status: 0 no warning or error, 1 at least one, 2 unreadable input or bad options.
    """
    overrides = thresholds_from_options(rules_config, set_)
    results, unusable = diagnose_runs(log, classes, overrides, map_, run, ignore or (), task)
    serious = any(f.severity in ("warning", "error") for _, report, _ in results for f in report.findings)
    if json_out:
        outs = [{**report.to_dict(), "notes": notes, "run": found.name, "run_id": found.id,
                 "format": found.format} for found, report, notes in results]
        skipped = [{"run": found.name, "run_id": found.id, "error": why} for found, why in unusable]
        typer.echo(json.dumps({"runs": outs, "unusable": skipped}, default=str))
    else:
        console = Console(highlight=False)
        several = len(results) + len(unusable) > 1
        compact = len(results) >= COMPACT_RUNS and not details
        if compact:
            console.print(runs_table([(visible(found.name), report) for found, report, _ in results]))
            console.print(escape(f"details: babysit diagnose {log} --run NAME (one run), "
                                 "or --details (every run)"), style="dim", soft_wrap=True)
        for found, report, notes in [] if compact else results:
            if several:
                console.rule(escape(_title(found)))
            console.print(report_view(report, notes, verbose))
        for found, why in unusable:
            console.print(escape(f"{_title(found)}: not diagnosed: {why}"), soft_wrap=True)
        if several:
            console.rule(tally(results, len(unusable)))
    raise typer.Exit(1 if serious else 0)


def tally(results: list[tuple[Run, Report, list[str]]], unusable: int) -> str:
    """The closing line of a multi-run diagnosis: '16 runs: 2 with errors, 5 with warnings,
    9 without; 1 not diagnosed' (as pytest ends its output)."""
    worst = [report.worst for _, report, _ in results]
    counts = [(worst.count("error"), "with errors"), (worst.count("warning"), "with warnings"),
              (sum(w not in ("error", "warning") for w in worst), "without")]
    line = f"{len(results) + unusable} runs: " + ", ".join(f"{n} {what}" for n, what in counts if n)
    return line + (f"; {unusable} not diagnosed" if unusable else "")


def _title(found: Run) -> str:
    """How a run of a directory or store is named on screen."""
    return f"run {visible(found.name)}" + (f" ({visible(found.id)})" if found.id != found.name else "")
