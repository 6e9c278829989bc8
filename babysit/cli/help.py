"""How every command's --help reads: bracketed text kept, no type shown for flags, arguments
named in capitals in the usage line.

Typer renders help strings as Rich markup, where "[default: last]" or "[rule-id]" is a style
tag and vanishes; it shows "<bool>" beside every flag, "<list[str]>" beside a repeatable
option, an argument as "{log}", and a docstring's wrapped lines as ragged lines. Two classes,
for the commands and for the `babysit` group, fix these where the commands are built, so no
help string needs escaping or unwrapping by hand.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def _reflow(text: str) -> str:
    """Join each paragraph's wrapped lines, so the terminal's width wraps them (Typer keeps a
    docstring's single line breaks after the first paragraph, which reads ragged); a line
    starting with "Exit status" stays a line of its own."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(re.sub(r"\n(?!Exit status)", " ", p) for p in paragraphs)


def _tidy(command: Any) -> None:
    if command.help:
        command.help = escape(_reflow(command.help))
    for param in command.params:
        if isinstance(param, TyperOption):
            if param.help:
                param.help = escape(param.help)
            if param.is_flag:
                param.metavar = ""
            elif param.multiple and param.metavar is None:  # "<list[str]>" for a repeatable one
                param.metavar = "<" + param.bare_type().removeprefix("list[").removesuffix("]") + ">"
        elif isinstance(param, TyperArgument) and param.metavar is None:
            param.metavar = (param.name or "").upper()


class _AsWritten:
    """Mixed into a Typer command or group: its help reads as written."""

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
    """A Typer command whose help reads as written."""


class HelpGroup(_AsWritten, TyperGroup):
    """The `babysit` group, with the same help as its commands."""
