"""A run's curves as a small inline SVG: the notebook cell's live plot.

Written by hand, not with matplotlib: the cell redraws once a second during training, a
matplotlib figure costs ~50 ms and a plotting extra, and two polylines with their axes are a
few dozen lines of SVG. Text is text (no mathtext), so what a reader sees is what a test reads.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

WIDTH, HEIGHT = 300, 150  # one panel; the loss and the accuracy side by side
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 46, 8, 18, 22
COLOURS = {"loss": "#1f77b4", "val_loss": "#ff7f0e", "train_acc": "#1f77b4", "val_acc": "#ff7f0e"}
LEGEND = {"loss": "training", "val_loss": "validation", "train_acc": "training", "val_acc": "validation"}


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _label(value: float, log: bool) -> str:
    return f"{math.exp(value) if log else value:.3g}"


def panel(title: str, series: dict[str, list[tuple[float, float]]], x0: int,
          fixed: tuple[float, float] | None = None) -> str:
    """One panel: `series` name -> [(x, y)], drawn as lines on shared axes, starting at x0.
    A positive series spanning over 10x is drawn on a log scale (a loss falls over decades)."""
    ys = _finite([y for points in series.values() for _, y in points])
    xs = [x for points in series.values() for x, _ in points]
    parts = [f'<text x="{x0 + PAD_LEFT}" y="12" font-size="12" font-weight="bold">'
             f"{html.escape(title)}</text>"]
    left, right = x0 + PAD_LEFT, x0 + WIDTH - PAD_RIGHT
    top, bottom = PAD_TOP, HEIGHT - PAD_BOTTOM
    parts.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
                 'fill="none" stroke="#bbb"/>')
    if not ys or not xs:
        parts.append(f'<text x="{left + 8}" y="{(top + bottom) // 2}" font-size="11" fill="#777">'
                     "waiting for the first values</text>")
        return "".join(parts)
    log = fixed is None and min(ys) > 0 and max(ys) / min(ys) > 10
    scale = math.log if log else float
    lo, hi = fixed if fixed is not None else (scale(min(ys)), scale(max(ys)))
    hi = hi if hi > lo else lo + 1.0
    xlo, xhi = min(xs), max(xs)
    xhi = xhi if xhi > xlo else xlo + 1.0

    def at(x: float, y: float) -> str:
        px = left + (x - xlo) / (xhi - xlo) * (right - left)
        py = bottom - (min(max(scale(y), lo), hi) - lo) / (hi - lo) * (bottom - top)
        return f"{px:.1f},{py:.1f}"

    for value in (lo, hi):  # the ends of the axis: a reader needs the range, not a grid
        py = bottom - (value - lo) / (hi - lo) * (bottom - top)
        parts.append(f'<text x="{left - 4}" y="{py + 4:.1f}" font-size="10" text-anchor="end">'
                     f"{_label(value, log)}</text>")
    parts.append(f'<text x="{left}" y="{HEIGHT - 6}" font-size="10">step {xlo:,.0f}</text>')
    parts.append(f'<text x="{right}" y="{HEIGHT - 6}" font-size="10" text-anchor="end">'
                 f"{xhi:,.0f}{' · log scale' if log else ''}</text>")
    legend_x = left + 6
    for name, points in series.items():
        shown = [(x, y) for x, y in points if math.isfinite(y) and (not log or y > 0)]
        colour = COLOURS.get(name, "#333")
        if len(shown) == 1:
            cx, cy = at(*shown[0]).split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        elif shown:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                         f'points="{" ".join(at(x, y) for x, y in shown)}"/>')
        if len(series) > 1 and shown:
            label = LEGEND.get(name, name)
            parts.append(f'<text x="{legend_x}" y="{top + 12}" font-size="10" fill="{colour}">'
                         f"{html.escape(label)}</text>")
            legend_x += 8 + 6 * len(label)
    return "".join(parts)


def curves_svg(loss: list[tuple[float, float]], epochs: dict[str, list[tuple[float, float]]]) -> str:
    """The loss (and the validation loss) beside the accuracies, as one inline SVG."""
    losses = {"loss": loss, **({"val_loss": epochs["val_loss"]} if epochs.get("val_loss") else {})}
    accs = {k: v for k, v in epochs.items() if k in ("train_acc", "val_acc") and v}
    body = panel("loss", losses, 0)
    width = WIDTH
    if accs:
        body += panel("accuracy", accs, WIDTH, fixed=(0.0, 1.0))
        width = 2 * WIDTH
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
            f'viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" role="img" '
            f'aria-label="training curves">{body}</svg>')
