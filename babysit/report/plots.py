"""Drawing with matplotlib: figures to inline SVG text, findings marked on a time axis.

matplotlib's SVG output was chosen by measured page size (bench/report_size.py): static SVG
keeps a 100,000-step report well under 5 MB with no JavaScript, while Bokeh and plotly inline
~1.5 MB and ~5 MB of script before any data. Hover text comes from SVG <title> elements, which
every browser shows natively. Figures are built with the object API (no pyplot): no global
state, no GUI backend, safe in any thread.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from html import escape
from typing import Any

from babysit.errors import BabysitError

SEVERITY_COLOR = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
WIDTH = 7.2  # inches; the page scales SVGs to the column width
_RC = {"svg.fonttype": "none",  # text as text: smaller, selectable, the browser's font
       "svg.hashsalt": "babysit",  # stable clip-path ids: the same input gives the same page
       "font.size": 8.5, "axes.titlesize": 9.5, "axes.spines.top": False,
       "axes.spines.right": False, "legend.fontsize": 7.5, "legend.frameon": False,
       "axes.grid": True, "grid.alpha": 0.25, "lines.linewidth": 1.2,
       "text.parse_math": False}  # layer names are text: "$5 and $10" is not maths
_GID = re.compile(r'<g id="finding-(\d+)(?:-[a-z]+)?">')


@dataclass(frozen=True)
class Marker:
    """A finding to mark on time axes: its number in the findings list, where it starts."""

    number: int
    step: int
    severity: str
    text: str  # the hover text


def require_matplotlib() -> None:
    """A BabysitError naming the extra to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BabysitError("babysit report draws its plots with matplotlib, which is not "
                           "installed: pip install 'babysit[report]'") from None


def figure(rows: int = 1, cols: int = 1, height: float = 2.4, **kw: Any) -> tuple[Any, Any]:
    """A matplotlib Figure and its axes (a single Axes for 1x1)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=True, **kw)
    return fig, axes


def to_svg(fig: Any, titles: dict[str, str] | None = None) -> str:
    """The figure as an inline <svg> element; finding markers get their hover text from `titles`
    (by finding number)."""
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # A layer named with a control character has no glyph; the browser's font decides.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML
    if titles:
        # A class, not an id: every plot of a run marks the same findings (ids must be unique).
        svg = _GID.sub(lambda m: f'<g class="finding" data-finding="{m.group(1)}">'
                       + (f"<title>{escape(titles[m.group(1)])}</title>" if m.group(1) in titles else ""),
                       svg)
    return svg


def style() -> Any:
    """A context manager applying babysit's plot style (use around building a figure)."""
    import matplotlib

    return matplotlib.rc_context(_RC)


def mark_findings(ax: Any, markers: list[Marker], label: bool = True) -> None:
    """A dashed vertical line where each finding starts, numbered as in the findings list."""
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    lo, hi = ax.get_xlim()
    for m in markers:
        if not lo <= m.step <= hi:
            continue
        color = SEVERITY_COLOR.get(m.severity, "#555555")
        line = ax.axvline(m.step, color=color, linestyle="--", linewidth=1, alpha=0.8)
        line.set_gid(f"finding-{m.number}")
        if label:
            text = ax.text(m.step, 1.0, f" {m.number}", transform=top, color=color, va="top",
                           ha="left", fontsize=8, fontweight="bold", clip_on=False)
            text.set_gid(f"finding-{m.number}-label")
    ax.set_xlim(lo, hi)


def titles(markers: list[Marker]) -> dict[str, str]:
    """Hover texts by SVG group id, for to_svg."""
    return {str(m.number): m.text for m in markers}


def _mantissa(value: float) -> int:
    """The leading digit of a positive number: 2 for 0.02, 5 for 500."""
    return round(value / 10 ** math.floor(math.log10(value))) if value > 0 else 0


def log_scale_if_positive(ax: Any, values: list[float] | Any, axis: str = "y") -> bool:
    """Log scale when every value is positive (a loss of exactly 0, a hinge loss, stays linear)."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) and v.min() > 0 and v.max() / v.min() > 3:
        log_axis(ax, axis, float(v.max() / v.min()))
        return True
    return False


def log_axis(ax: Any, axis: str = "y", span: float = math.inf) -> None:
    """A log scale whose ticks read as numbers (0.001, 2): matplotlib's own are mathtext
    (`$\\mathdefault{10^{-3}}$`), which an SVG with text as text shows raw."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    marks = minor_labels(span)
    some = FuncFormatter(lambda value, _: f"{value:g}" if _mantissa(value) in marks else "")
    target.set_minor_formatter(some if marks else NullFormatter())


def minor_labels(span: float) -> tuple[int, ...]:
    """Which minor ticks of a log axis get labels, by how many times its largest value is its
    smallest: two decades always hold two labelled powers of ten; over one decade there may be
    one, so 2 and 5 of each decade join it; under 10x, 3 too; under 4x (0.15 to 0.45: only 0.2
    of 2 and 5) every one, which then lie at least a twelfth of the axis apart."""
    if span >= 100:
        return ()
    if span >= 10:
        return (2, 5)
    return (2, 3, 5) if span >= 4 else (2, 3, 4, 5, 6, 7, 8, 9)


def time_axes_svg(fig: Any, ax: Any, ylabel: str, markers: list[Marker], legend: bool = False,
                  label_markers: bool = True) -> str:
    """Finish a plot over steps (axis labels, legend, findings marked) and return its SVG."""
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if legend:  # beside the plot, as the per-layer panels have it: inside, the
        # chance and log(C) lines (and the curves) ran through its words
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    mark_findings(ax, markers, label=label_markers)
    return to_svg(fig, titles(markers))
