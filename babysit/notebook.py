"""babysit in a Jupyter notebook: a live cell that updates in place, and findings drawn as HTML.

CS231n is taught in notebooks, where a terminal dashboard prints escape codes and a line per
finding scrolls the cell away. In a notebook the Monitor adds a LiveCell sink: one output area,
redrawn at most every REDRAW_SECONDS (and at the end) with the step, the latest losses and
accuracies and the findings so far. It only draws: the findings come from the Monitor's engine.
IPython is imported only when a notebook is running, never by the core install.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import Any

from babysit.diagnostics.rule import Finding

REDRAW_SECONDS = 1.0  # a redraw costs a few ms and a message to the browser: once a second


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (not a terminal IPython)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()  # type: ignore[attr-defined]
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def findings_html(findings: list[Finding]) -> str:
    """The findings as an HTML list: severity, rule, step, what was seen and what to do."""
    if not findings:
        return "<p>No problems found.</p>"
    color = {"error": "#c62828", "warning": "#b26a00", "info": "#1565c0"}
    items = [f'<li><b style="color:{color.get(f.severity, "#000")}">{html.escape(f.severity)}</b> '
             f"<code>{html.escape(f.rule)}</code> at step {f.step}: {html.escape(f.message)}"
             f"<br><i>{html.escape(f.advice)}</i></li>" for f in findings]
    return "<ol>" + "".join(items) + "</ol>"


class LiveCell:
    """A sink that keeps one notebook output up to date: progress, losses, findings."""

    def __init__(self, findings: Callable[[], list[Finding]], title: str = "babysit") -> None:
        """Draw into a new output of the running cell; `findings` gives the findings so far."""
        from IPython.display import HTML, display

        self._html = HTML
        self.findings, self.title = findings, title
        self.step: int | None = None
        self.loss: float | None = None
        self.epoch: dict[str, Any] = {}
        self.status = "running"
        self._drawn = 0.0
        self.handle: Any = display(HTML(self.render()), display_id=True)

    def emit(self, record: dict[str, Any]) -> None:
        """Fold a record in; redraw if a second has passed."""
        kind = record.get("type", "step")
        if kind == "summary":
            self.status = str(record.get("status", "done"))
            return
        if isinstance(record.get("step"), int):
            self.step = record["step"]
        if isinstance(record.get("loss"), (int, float)):
            self.loss = float(record["loss"])
        for key in ("train_acc", "val_acc", "val_loss"):
            if isinstance(record.get(key), (int, float)):
                self.epoch[key] = float(record[key])
        now = time.monotonic()
        if now - self._drawn >= REDRAW_SECONDS:
            self._drawn = now
            self.handle.update(self._html(self.render()))

    def close(self) -> None:
        """The last redraw, with the run's status."""
        self.handle.update(self._html(self.render()))

    def render(self) -> str:
        """The cell's HTML."""
        facts = [f"step {self.step}" if self.step is not None else "waiting for the first step"]
        if self.loss is not None:
            facts.append(f"loss {self.loss:.4g}")
        facts += [f"{k} {v:.4g}" for k, v in self.epoch.items()]
        return (f"<div><b>{html.escape(self.title)}</b> &middot; {html.escape(self.status)} "
                f"&middot; {' &middot; '.join(facts)}{findings_html(self.findings())}</div>")
