"""babysit in a Jupyter notebook: a live cell that updates in place, and findings drawn as HTML.

CS231n is taught in notebooks, where a terminal dashboard prints escape codes and a line per
finding scrolls the cell away. In a notebook the Monitor adds a LiveCell sink: one output area,
redrawn at most every REDRAW_SECONDS (and at the end) with the step, the latest losses and
accuracies, the curves (an inline SVG, as Keras and fastai users expect one) and the verdict so
far under them. It only draws: the findings come from the Monitor's engine. Its memory is
bounded: the loss as a LossSketch, at most MAX_EVALUATIONS evaluations (every other one dropped
when full).
IPython is imported only when a notebook is running, never by the core install.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import Any

from babysit.dashboard.sketch import LossSketch
from babysit.dashboard.svg import curves_svg
from babysit.diagnostics.engine import Report

REDRAW_SECONDS = 1.0  # a redraw costs a few ms and a message to the browser: once a second
MAX_EVALUATIONS = 400  # per metric: more points than the plot's 250 pixels can show
EPOCH_METRICS = ("train_acc", "val_acc", "val_loss")
NAMES = {"train_acc": "train accuracy", "val_acc": "val accuracy", "val_loss": "val loss"}


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

    def __init__(self, report: Callable[[], Report], title: str = "babysit", note: str = "") -> None:
        """Draw into a new output of the running cell; `report` gives the diagnosis so far,
        `note` a line to show under the title (where the log went)."""
        from IPython.display import HTML, display

        self._html = HTML
        self.report, self.title, self.note = report, title, note
        self.step: int | None = None
        self.loss: float | None = None
        self.epoch: dict[str, Any] = {}
        self.sketch = LossSketch()
        self.curves: dict[str, list[tuple[float, float]]] = {k: [] for k in EPOCH_METRICS}
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
        if isinstance(record.get("loss"), (int, float)) and kind == "step":
            self.loss = float(record["loss"])
            self.sketch.emit(record)
        for key in EPOCH_METRICS:
            if isinstance(record.get(key), (int, float)):
                self.epoch[key] = float(record[key])
                points = self.curves[key]
                points.append((float(self.step or 0), float(record[key])))
                if len(points) > MAX_EVALUATIONS:
                    del points[1::2]
        now = time.monotonic()
        if now - self._drawn >= REDRAW_SECONDS:
            self._drawn = now
            self.handle.update(self._html(self.render()))

    def close(self) -> None:
        """The last redraw, with the run's status."""
        self.handle.update(self._html(self.render()))

    def render(self) -> str:
        """The cell's HTML: a status line, the curves, the verdict so far."""
        facts = [f"step {self.step}" if self.step is not None else "waiting for the first step"]
        if self.loss is not None:
            facts.append(f"loss {self.loss:.4g}")
        facts += [f"{NAMES[k]} {v:.4g}" for k, v in self.epoch.items()]
        stride = self.sketch.stride
        loss = [(i * stride + (stride - 1) / 2, v) for i, v in enumerate(self.sketch.losses)]
        note = f"<br><small>{html.escape(self.note)}</small>" if self.note else ""
        return (f"<div><b>{html.escape(self.title)}</b> &middot; {html.escape(self.status)} "
                f"&middot; {' &middot; '.join(facts)}{note}<br>"
                f"{curves_svg(loss, self.curves)}{findings_html(self.report())}</div>")
