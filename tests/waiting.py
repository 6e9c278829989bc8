"""Waiting on processes in tests: for a condition, with a deadline, never for a fixed time."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import IO

DEADLINE = 60.0  # generous: a loaded 2-core CI machine can be slow, and waits end early anyway


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll `condition` until it holds; fail the test naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Lines:
    """Reads a process's text output on a thread, so a test can wait for a line to appear."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = DEADLINE) -> str:
        """The first line (from now on or already seen) containing `text`."""
        for line in self.lines:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out waiting for {text!r}; got:\n{self.text()}") from None
            if line is None:
                raise AssertionError(f"output ended without {text!r}:\n{self.text()}")
            self.lines.append(line)
            if text in line:
                return line

    def rest(self) -> str:
        """Everything, once the stream has ended (call after the process exited)."""
        self._thread.join(timeout=DEADLINE)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.text()

    def text(self) -> str:
        """What was read so far."""
        return "".join(self.lines)
