"""A Monitor's log ends with its summary even when the script does not close it: at the
interpreter's exit, and on SIGTERM (a scheduler's or torchrun's stop), which is turned into
SystemExit so that `with Monitor(...)` blocks and `finally` clauses run. Without this, a
SIGTERM lost up to `every` - 1 steps and the summary (issue 38).

Only a SIGTERM left at its default (which would kill the process mid-write) is taken over; a
handler the script or its framework installed is kept.
"""

from __future__ import annotations

import atexit
import signal
import threading
import weakref
from typing import Any

_open: weakref.WeakSet[Any] = weakref.WeakSet()  # Monitors not yet closed
_installed = False
_terminated = False


class Terminated(SystemExit):
    """SIGTERM, as an exception: the Monitor's `with` block closes with status interrupted."""


def _close_all() -> None:
    status = "interrupted" if _terminated else "completed"
    for monitor in list(_open):
        try:
            monitor.close(status)
        except Exception:
            pass


def _on_sigterm(signum: int, _frame: Any) -> None:
    """Unwind instead of dying mid-write: `with` blocks close their monitors, atexit the rest.
    Nothing is written from the handler itself (it may have cut into a record being written)."""
    global _terminated
    _terminated = True
    raise Terminated(128 + signum)  # as the default action's status: killed by SIGTERM


def watch(monitor: Any) -> None:
    """Close `monitor` at exit (status "completed": the script ended without closing it) or
    on SIGTERM ("interrupted"), unless it was closed before."""
    global _installed
    _open.add(monitor)
    if _installed:
        return
    _installed = True
    atexit.register(_close_all)
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def forget(monitor: Any) -> None:
    """`monitor` is closed: nothing to do for it at exit."""
    _open.discard(monitor)
