"""Ctrl-C and SIGTERM end a run cleanly: stop after the current step, log flushed and closed."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def graceful_stop(request_stop: Callable[[str], None]) -> Iterator[None]:
    """While active, the first SIGINT/SIGTERM calls request_stop; a second SIGINT stops at once."""
    seen = {"count": 0}

    def handler(signum: int, frame: FrameType | None) -> None:
        seen["count"] += 1
        if seen["count"] > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt
        request_stop(f"interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
