"""`babysit sanity-check`: the babysitting recipe before a long run, one row per check."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from babysit.cli.errors import reports_errors
from babysit.cli.options import run_options
from babysit.cli.reading import RulesConfig, SetThresholds, thresholds_from_options
from babysit.config import Config

if TYPE_CHECKING:
    from babysit.sanity.checks import CheckResult

STATUS_STYLE = {"PASS": "bold green", "WARN": "bold yellow", "FAIL": "bold red"}


def checks_table(results: list[CheckResult], running: str | None) -> RenderableType:
    """All checks: finished ones with status and numbers, the running one with a spinner."""
    from babysit.sanity.checks import CHECKS

    table = Table(expand=True, show_lines=True, header_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("", no_wrap=True, width=4)
    table.add_column("measured, and what to do", ratio=1)
    done = {r.name: r for r in results}
    for name, _ in CHECKS:
        if name in done:
            r = done[name]
            body = Text(r.message)
            if r.advice:
                body.append("\n-> " + r.advice, style="italic")
            table.add_row(name, Text(r.status, style=STATUS_STYLE[r.status]), body)
        elif name == running:
            table.add_row(name, Spinner("dots"), Text("running", style="dim"))
        else:
            table.add_row(name, "", Text("waiting", style="dim"))
    return table


@reports_errors
@run_options
def sanity_check(
    config: Config,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="Fill in a table as checks run [default: on a terminal]",
        show_default=False)] = None,
    set_: SetThresholds = None,
    rules_config: RulesConfig = None,
    torch_factory: Annotated[str | None, typer.Option(
        "--torch", metavar="FILE.py:FACTORY",
        help="Check your own PyTorch model: FACTORY() returns (model, loss_fn, data), data "
             "being (X, y) or a DataLoader; the model options are then ignored")] = None,
) -> None:
    """Run the lecture's checks before a long run (data, init loss, gradients, overfitting...).

    Data, loss at init, regularization, gradients, overfitting a 20-example subset, a
    learning-rate probe, an input-independent baseline and batch independence.
    Exit status: 0 when no check fails (WARN is not a failure), 1 when one does, 2 bad input.
    """
    if torch_factory is not None:
        from babysit.cli.sanity_torch import run

        raise typer.Exit(run(torch_factory, json_out, typer.echo))
    from babysit.api import prepare_data
    from babysit.nn.net import ensure_fits
    from babysit.sanity.checks import CHECKS, FAIL, WARN, run_checks

    overrides = thresholds_from_options(rules_config, set_)
    data = prepare_data(config)
    # before any check runs
    ensure_fits(config.net_spec(data.num_features, data.num_classes, data.input_scale))
    console = Console(highlight=False)
    use_live = (console.is_terminal if live is None else live) and not json_out
    results: list[CheckResult] = []
    if use_live:
        names = [name for name, _ in CHECKS]
        with Live(checks_table([], names[0]), console=console, refresh_per_second=8) as view:

            def show(result: CheckResult) -> None:
                results.append(result)
                nxt = names[len(results)] if len(results) < len(names) else None
                view.update(checks_table(results, nxt))

            run_checks(config, data, show, overrides)
    elif json_out:
        results = run_checks(config, data, overrides=overrides)
        typer.echo(json.dumps({"checks": [r.to_dict() for r in results],
                               "passed": all(r.status != FAIL for r in results)}, default=str))
    else:
        def line(result: CheckResult) -> None:
            console.print(f"{result.status} {result.name}: {result.message}"
                          + (f" -> {result.advice}" if result.advice else ""), soft_wrap=True)

        results = run_checks(config, data, line, overrides)
    failed = [r.name for r in results if r.status == FAIL]
    causes = [r.name for r in results if r.status in (FAIL, WARN) and r.follows is None]
    if not json_out:  # the first cause leads: what fails after it follows from it
        console.print(f"{len(results) - len(failed)}/{len(results)} checks passed"
                      + (f"; failed: {', '.join(failed)}" if failed else "")
                      + (f"; start with {causes[0]}" if failed and causes else ""))
    raise typer.Exit(1 if failed else 0)
