"""`babysit train`: wire config -> data -> trainer -> sinks (log, diagnostics, dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from babysit.cli.errors import reports_errors
from babysit.cli.findings_view import findings_view
from babysit.cli.options import run_options
from babysit.cli.reading import Verbose
from babysit.cli.report import REPORT_HELP, print_report
from babysit.cli.run import open_log, summary_line, train_once
from babysit.config import Config
from babysit.errors import BabysitError

# Exit statuses (docs/cli.md); bad input is 2 (errors.py).
EXIT_CODES = {"completed": 0, "diverged": 1, "stopped": 3, "interrupted": 130}


@reports_errors
@run_options
def train(
    config: Config,
    log: Annotated[Path | None, typer.Option(
        help="JSONL log path [default: runs/<date>-<time>.jsonl]")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the --log file, or a --fix-report file babysit did not write")] = False,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="Full-screen dashboard [default: when stdout is a terminal]",
        show_default=False)] = None,
    stop_on_level: Annotated[Literal["error", "warning"] | None, typer.Option(
        "--stop-on", help="Stop training at the first finding of this severity or worse "
                          "(with --fix: the severity --fix acts on, default warning)")] = None,
    fix: Annotated[bool, typer.Option(
        "--fix", help="At the first warning or error, apply the root cause's next remedy and "
                      "train again from scratch, until a run is healthy (logs: LOG, "
                      "LOG.fix1, ...)")] = False,
    max_attempts: Annotated[int, typer.Option(
        help="--fix: training runs at most, the first included")] = 5,
    fix_report: Annotated[Path | None, typer.Option(
        help="--fix: write the chain of attempts as JSON here")] = None,
    report: Annotated[bool, typer.Option("--report", help=REPORT_HELP)] = False,
    keep_going: Annotated[bool, typer.Option(
        "--keep-going", help="Train on after an error found at step 0 (by default such a run "
                             "stops: a zero init, a NaN at the first step)")] = False,
    verbose: Verbose = False,
) -> None:
    """Train a fully-connected net, logging one metric record per iteration."""
    from babysit.training.trainer import new_run_id

    if not fix and (fix_report is not None or max_attempts != 5):
        raise BabysitError("--max-attempts and --fix-report only apply with --fix")
    if report:
        from babysit.report import check_available

        check_available()  # before training, not after it
    console = Console(highlight=False)
    use_live = console.is_terminal if live is None else live
    if fix:
        from babysit.cli.fix import train_with_fixes

        code = train_with_fixes(config, log, overwrite, console, use_live,
                                stop_on_level or "warning", max_attempts, fix_report, report)
        raise typer.Exit(code)
    run_id = new_run_id()
    result = train_once(config, open_log(log, run_id, overwrite), run_id, console, use_live,
                        stop_on_level, keep_going=keep_going)
    console.print(findings_view(result.report, verbose))
    console.print(summary_line(result.summary), soft_wrap=True)
    from babysit.dashboard.sketch import loss_line  # numpy (plot): not at start-up

    curve = loss_line(result.losses)
    if curve is not None:
        console.print(curve, soft_wrap=True, markup=False)
    console.print(f"log: {result.log}", soft_wrap=True)
    if report:
        print_report(console, result.log)
    else:  # the dashboard has gone with its screen: say where the whole picture is
        console.print(f"next: babysit report {result.log}  (curves, layers and the findings "
                      "as an HTML page)", soft_wrap=True, markup=False)
    raise typer.Exit(EXIT_CODES.get(result.summary["status"], 1))
