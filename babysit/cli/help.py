"""How every command's --help reads: bracketed text kept, no type shown for flags, arguments
named in capitals in the usage line.

Typer renders help strings as Rich markup, where "[default: last]" or "[rule-id]" is a style
tag and vanishes; it shows "<bool>" beside every flag and an argument as "{log}". Two classes,
for the commands and for the `babysit` group, fix all three where the commands are built, so
no help string needs escaping by hand.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def _tidy(command: Any) -> None:
    if command.help:
        command.help = escape(command.help)
    for param in command.params:
        if isinstance(param, TyperOption):
            if param.help:
                param.help = escape(param.help)
            if param.is_flag:
                param.metavar = ""
        elif isinstance(param, TyperArgument) and param.metavar is None:
            param.metavar = (param.name or "").upper()


class _AsWritten:
    """Mixed into a Typer command or group: its help shows its text as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the command, then fix its help strings and metavars (see the module doc)."""
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        _tidy(self)

    def get_help_option(self, ctx: Any) -> Any:
        """--help, without a type beside it."""
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class HelpCommand(_AsWritten, TyperCommand):
    """A Typer command whose help shows its text as written."""


class HelpGroup(_AsWritten, TyperGroup):
    """The `babysit` group, with the same help as its commands."""
