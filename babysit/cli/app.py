"""The `babysit` command: subcommands are registered here and live in their own modules."""

from __future__ import annotations

from typing import Annotated

import typer

from babysit.cli.diagnose import diagnose
from babysit.cli.fix import fix
from babysit.cli.gradcheck import gradcheck
from babysit.cli.help import HelpCommand, HelpGroup
from babysit.cli.report import report
from babysit.cli.rules import rules
from babysit.cli.sanity import sanity_check
from babysit.cli.search import search
from babysit.cli.train import train
from babysit.cli.watch import watch
from babysit.output import make_output_safe

app = typer.Typer(
    name="babysit",
    cls=HelpGroup,
    help="Babysit neural-network training: train and watch it, check it, diagnose it, search it, "
         "report on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
def _print_version(value: bool) -> None:
    if value:
        from babysit import __version__

        typer.echo(f"babysit {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print babysit's version and exit")] = False) -> None:
    """Babysit neural-network training: train and watch it, check it, diagnose it, search it,
    report on it."""


for name, command in (("train", train), ("gradcheck", gradcheck), ("diagnose", diagnose),
                      ("fix", fix), ("watch", watch), ("report", report),
                      ("sanity-check", sanity_check), ("search", search), ("rules", rules)):
    app.command(name, cls=HelpCommand)(command)


def main() -> None:
    """Console-script entry point."""
    make_output_safe()
    app()
