"""The live dashboard: Rich Live redrawing from snapshots in its own thread, a few times a second.

Training never waits for drawing: records only update RunState (a few appends under a lock),
and Rich's refresh thread builds each frame from a snapshot copy. Each frame is laid out for
the terminal's current size, so a resize is picked up at the next refresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from babysit.dashboard.state import RunState
from babysit.dashboard.views import Dashboard
from babysit.diagnostics.rule import Finding

FPS = 4  # frames per second: smooth enough to watch, cheap enough to stay off training's back
NEW_SECONDS = 8.0  # how long a new finding carries its NEW badge


class LiveDashboard:
    """A context manager that shows `state` and the engine's findings full-screen."""

    def __init__(self, state: RunState, findings: Callable[[], list[Finding]],
                 console: Console | None = None, fps: float = FPS, log_y: bool = True) -> None:
        """Draw `state`; `findings` returns the engine's current findings (read, never computed)."""
        self.state, self.findings, self.log_y = state, findings, log_y
        self.first_seen: dict[str, float] = {}
        self.live = Live(console=console, screen=True, auto_refresh=True, refresh_per_second=fps,
                         get_renderable=self.frame, transient=False)

    def frame(self) -> RenderableType:
        """One frame, built from a snapshot (called from Rich's refresh thread)."""
        try:
            findings = self.findings()
            now = time.monotonic()
            for f in findings:
                self.first_seen.setdefault(f.rule, now)
            new = [r for r, t in self.first_seen.items() if now - t < NEW_SECONDS]
            return Dashboard(self.state.snapshot(), findings, new, self.log_y)
        except Exception as exc:  # a drawing bug must not kill training
            return Text(f"dashboard error: {type(exc).__name__}: {exc}", style="red")

    def __enter__(self) -> LiveDashboard:
        """Take over the screen."""
        self.live.start(refresh=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Give the screen back."""
        self.live.stop()
