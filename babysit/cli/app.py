"""The `babysit` command: subcommands are registered here and live in their own modules."""

from __future__ import annotations

import typer

from babysit.cli.diagnose import diagnose
from babysit.cli.fix import fix
from babysit.cli.gradcheck import gradcheck
from babysit.cli.report import report
from babysit.cli.rules import rules
from babysit.cli.sanity import sanity_check
from babysit.cli.search import search
from babysit.cli.train import train
from babysit.cli.watch import watch
from babysit.output import make_output_safe

app = typer.Typer(
    name="babysit",
    help="Babysit neural-network training: train and watch it, check it, diagnose it, search it, "
         "report on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command()(train)
app.command()(gradcheck)
app.command()(diagnose)
app.command()(fix)
app.command()(watch)
app.command()(report)
app.command("sanity-check")(sanity_check)
app.command()(search)
app.command()(rules)


def main() -> None:
    """Console-script entry point."""
    make_output_safe()
    app()
