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

from babysit.diagnostics.engine import Report

REDRAW_SECONDS = 1.0  # a redraw costs a few ms and a message to the browser: once a second


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (not a terminal IPython)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()  # type: ignore[attr-defined]
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def findings_html(report: Report) -> str:
    """The findings as the report page lists them, with its styles scoped to this output."""
    from babysit.report.findings import findings_css
    from babysit.report.findings import findings_html as listed

    return (f'<div class="babysit-findings"><style>{findings_css(".babysit-findings ")}</style>'
            f"{listed(report)}</div>")


class LiveCell:
    """A sink that keeps one notebook output up to date: progress, losses, findings."""

    def __init__(self, report: Callable[[], Report], title: str = "babysit") -> None:
        """Draw into a new output of the running cell; `report` gives the diagnosis so far."""
        from IPython.display import HTML, display

        self._html = HTML
        self.report, self.title = report, title
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
                f"&middot; {' &middot; '.join(facts)}{findings_html(self.report())}</div>")
