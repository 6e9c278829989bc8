"""Ctrl-C, SIGTERM and SIGHUP end a run cleanly: stop after the current step, log flushed and closed."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


@contextmanager
def graceful_stop(request_stop: Callable[[str], None],
                  force_stop: Callable[[], None] = _raise_interrupt) -> Iterator[None]:
    """While active, the first SIGINT/SIGTERM/SIGHUP calls request_stop(reason); a repeated
    SIGINT calls force_stop (by default: KeyboardInterrupt, to stop at once)."""
    seen = {"count": 0}

    def handler(signum: int, frame: FrameType | None) -> None:
        seen["count"] += 1
        if seen["count"] > 1 and signum == signal.SIGINT:
            force_stop()
            return
        request_stop(f"interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
