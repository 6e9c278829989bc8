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


def _tidy_help_option(option: Any) -> Any:
    if option is not None:
        option.metavar = ""
    return option


class HelpCommand(TyperCommand):
    """A Typer command whose help shows its text as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the command, then fix its help strings and metavars (see the module doc)."""
        super().__init__(*args, **kwargs)
        _tidy(self)

    def get_help_option(self, ctx: Any) -> Any:
        """--help, without a type beside it."""
        return _tidy_help_option(super().get_help_option(ctx))


class HelpGroup(TyperGroup):
    """The `babysit` group, with the same help as its commands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the group, then fix its help strings and metavars."""
        super().__init__(*args, **kwargs)
        _tidy(self)

    def get_help_option(self, ctx: Any) -> Any:
        """--help, without a type beside it."""
        return _tidy_help_option(super().get_help_option(ctx))
