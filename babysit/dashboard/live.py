"""The live dashboard, drawn by a separate process so that drawing never slows training.

The training process only takes a snapshot of RunState and the engine's findings a few times a
second (a background thread; a few hundred microseconds each) and hands it to a queue. A child
process owns the terminal: it draws each snapshot full-screen with Rich, laid out for the
terminal's current size, and redraws on resize. Drawing a frame takes ~15 ms of Python; done
in-process it would hold the GIL and slow a small net's training by 10% or more.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from babysit.dashboard.state import RunState
from babysit.diagnostics.rule import Finding
from babysit.output import ONE_CELL, make_output_safe

FPS = 4  # frames per second: smooth enough to watch
NEW_SECONDS = 8.0  # how long a new finding carries its NEW badge


def _draw_loop(frames: Any, fps: float, log_y: bool, virtual: tuple[int, int] | None) -> None:
    """Child process: draw every snapshot that arrives, until a None (or the parent is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the training process's to handle
    make_output_safe(ONE_CELL)  # a fresh interpreter: a hung-up or ASCII terminal must not crash it
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from babysit.dashboard.views import Dashboard

    if virtual is not None:  # benchmarks: a terminal-sized console that goes nowhere
        console = Console(file=io.StringIO(), width=virtual[0], height=virtual[1],
                          force_terminal=True, color_system="truecolor")
    else:
        console = Console()
    parent = os.getppid()
    first_seen: dict[str, float] = {}
    last = None
    size = console.size
    with Live(console=console, screen=True, auto_refresh=False, transient=False) as live:
        while True:
            try:
                item = frames.get(timeout=1.0 / fps)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                if last is None or console.size == size:
                    continue
                item = last  # the terminal was resized: redraw the last frame
            if item is None:
                return
            last, size = item, console.size
            if virtual is not None:
                console.file.seek(0)  # type: ignore[attr-defined]
                console.file.truncate()  # type: ignore[attr-defined]
            snap, findings = item
            now = time.monotonic()
            for f in findings:
                first_seen.setdefault(f.rule, now)
            new = [r for r, t in first_seen.items() if now - t < NEW_SECONDS]
            try:
                live.update(Dashboard(snap, findings, new, log_y), refresh=True)
            except Exception as exc:  # a drawing bug must not take the terminal down
                live.update(Text(f"dashboard error: {type(exc).__name__}: {exc}"), refresh=True)


class LiveDashboard:
    """A context manager: a drawing process plus a thread that feeds it snapshots."""

    def __init__(self, state: RunState, findings: Callable[[], list[Finding]],
                 fps: float = FPS, log_y: bool = True,
                 virtual: tuple[int, int] | None = None) -> None:
        """Show `state` and `findings()` (the engine's, read not computed) at `fps`."""
        self.state, self.findings, self.fps = state, findings, fps
        ctx = mp.get_context("spawn")  # a fresh interpreter: no forked BLAS threads or locks
        self.frames = ctx.Queue(maxsize=1)
        self.proc = ctx.Process(target=_draw_loop, args=(self.frames, fps, log_y, virtual),
                                daemon=True)
        self.stop = threading.Event()
        self.feeder = threading.Thread(target=self._feed, daemon=True)

    def _frame(self) -> tuple[Any, list[Finding]]:
        return self.state.snapshot(), list(self.findings())

    def _feed(self) -> None:
        while not self.stop.wait(1.0 / self.fps):
            try:
                self.frames.put_nowait(self._frame())
            except queue.Full:  # the drawing process is behind: skip this frame
                pass

    def __enter__(self) -> LiveDashboard:
        """Start drawing."""
        self.proc.start()
        self.feeder.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Show the final frame briefly, then give the terminal back."""
        self.stop.set()
        self.feeder.join()
        for item in (self._frame(), None):
            try:
                self.frames.put(item, timeout=2.0)
            except queue.Full:
                break
        self.proc.join(timeout=5.0)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
