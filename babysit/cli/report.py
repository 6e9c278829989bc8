"""`babysit report INPUT`: one self-contained HTML page of the run's (or search's) plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from babysit.cli.errors import reports_errors
from babysit.cli.reading import (
    Classes,
    MapFields,
    OneRun,
    RulesConfig,
    SetThresholds,
    Task,
    thresholds_from_options,
)
from babysit.errors import BabysitError


@reports_errors
def report(
    input_: Annotated[Path, typer.Argument(
        metavar="INPUT",
        help="A run log in any format `babysit diagnose` reads, or a `babysit search` results file")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="HTML file to write [default: INPUT's name with .html]")] = None,
    classes: Classes = None,
    task: Task = None,
    set_: SetThresholds = None,
    rules_config: RulesConfig = None,
    map_: MapFields = None,
    run: OneRun = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace -o's file even if it is not a babysit report")] = False,
) -> None:
    """Write an HTML report: findings marked on the lecture's plots; opens offline in any browser.

    Exit status: 0 written, 2 unreadable input or bad options.
    """
    from babysit.report import check_available, write

    check_available()
    overrides = thresholds_from_options(rules_config, set_)
    path = write(input_, out, classes=classes, run=run, map_=map_, overrides=overrides,
                 task=task, overwrite=overwrite)
    typer.echo(str(path))


REPORT_HELP = "Write an HTML report beside the output at the end (same name, .html; see babysit report)"


def print_report(console: Console, source: Path) -> None:
    """Write `source`'s report beside it and print the path; a failure is said, not raised: the
    run itself is done and its log safe."""
    from babysit.report import write

    try:
        console.print(f"report: {write(source)}", soft_wrap=True)
    except BabysitError as exc:
        console.print(f"report not written: {exc}", style="red", soft_wrap=True)
