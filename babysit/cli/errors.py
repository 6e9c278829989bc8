"""Bad input becomes one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from babysit.errors import BabysitError
from babysit.text import visible

EXIT_BAD_INPUT = 2
# What the system says of a path the user can fix (a read-only mount, a folder they cannot
# enter, a full disk): one line naming the path, not a traceback.
PATH_ERRORS = {
    errno.ENAMETOOLONG: "file name too long (a name has at most 255 bytes, a path 4,096)",
    errno.EROFS: "read-only file system (write the file somewhere else)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
}
stderr = Console(stderr=True, highlight=False)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn BabysitError raised by `command` into 'error: ...' and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BabysitError as exc:
            stderr.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except OSError as exc:
            if exc.errno not in PATH_ERRORS:
                raise
            # Any file a command opens, reads or makes: one check here instead of one per path.
            name = visible(exc.filename) if exc.filename is not None else "a path"
            stderr.print(f"[bold red]error:[/] {escape(name)}: {PATH_ERRORS[exc.errno]}",
                         soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper
