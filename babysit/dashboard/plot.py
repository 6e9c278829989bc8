"""Line plots drawn with Unicode braille characters: 2 x 4 dots per terminal cell.

Everything is computed with numpy on a boolean dot grid, so a frame costs well under a
millisecond however long the series is: the dashboard must stay cheap to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.text import Text

# Weight of the dot at (row 0..3, column 0..1) inside one braille cell (Unicode's numbering).
_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])
_BLANK = 0x2800


def _to_dots(values: np.ndarray, lo: float, hi: float, log: bool, size: int) -> np.ndarray:
    """Map values in [lo, hi] to dot indices 0..size-1 (0 = lo)."""
    if log:
        values, lo, hi = np.log10(values), math.log10(lo), math.log10(hi)
    frac = np.full(values.shape, 0.5) if hi == lo else (values - lo) / (hi - lo)
    return np.rint(frac * (size - 1)).astype(int)


def _spans(px: np.ndarray, py: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Per dot column, the lowest and highest dot row to light (empty columns: top > bottom).

    A column covers the min..max of its points, stretched to meet the previous drawn column
    so the line stays connected.
    """
    top = np.full(w, np.iinfo(np.int64).max)
    bottom = np.full(w, -1)
    np.minimum.at(top, px, py)
    np.maximum.at(bottom, px, py)
    cols = np.flatnonzero(bottom >= 0)
    if len(cols) > 1:
        prev_top, prev_bottom = top[cols[:-1]], bottom[cols[:-1]]
        cur = cols[1:]
        top[cur] = np.minimum(top[cur], prev_bottom)
        bottom[cur] = np.maximum(bottom[cur], prev_top)
    return top, bottom


def _cells(dots: np.ndarray) -> np.ndarray:
    """A (4 rows x 2 cols)-blocked boolean dot grid -> braille code points per cell."""
    h, w = dots.shape
    blocks = dots.reshape(h // 4, 4, w // 2, 2)
    return _BLANK + np.einsum("rica,ia->rc", blocks.astype(np.int64), _BITS)


def plot_lines(
    series: Sequence[tuple[Sequence[tuple[float, float]], str]],
    width: int,
    height: int,
    log_y: bool = False,
    hlines: Sequence[tuple[float, str]] = (),
) -> tuple[list[Text], float, float]:
    """Draw (points, style) series and horizontal (y, style) lines; return rows and the y range.

    Points are (x, y). Non-finite points (and non-positive ones on a log scale) are skipped.
    Each dot column shows the min..max envelope of the points that fall in it.
    """
    width, height = max(1, width), max(1, height)
    w, h = 2 * width, 4 * height
    arrays = []
    for points, style in series:
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        keep = np.isfinite(pts[:, 1]) & ((pts[:, 1] > 0) if log_y else True)
        if keep.any():
            arrays.append((pts[keep], style))
    lines = [(y, s) for y, s in hlines if math.isfinite(y) and (y > 0 or not log_y)]
    blank = chr(_BLANK) * width
    if not arrays:
        return [Text(blank) for _ in range(height)], math.nan, math.nan
    all_y = np.concatenate([a[:, 1] for a, _ in arrays] + [np.array([y for y, _ in lines])])
    lo, hi = float(all_y.min()), float(all_y.max())
    all_x = np.concatenate([a[:, 0] for a, _ in arrays])
    x0, x1 = float(all_x.min()), float(all_x.max())
    layers: list[tuple[np.ndarray, str]] = []
    rows_idx = np.arange(h)[:, None]
    for y, style in lines:
        dots = np.zeros((h, w), dtype=bool)
        dots[h - 1 - int(_to_dots(np.array([y]), lo, hi, log_y, h)[0]), ::2] = True  # dotted
        layers.append((dots, style))
    for pts, style in arrays:
        px = (np.rint((pts[:, 0] - x0) / (x1 - x0) * (w - 1)).astype(int) if x1 > x0
              else np.zeros(len(pts), dtype=int))
        py = h - 1 - _to_dots(pts[:, 1], lo, hi, log_y, h)
        top, bottom = _spans(px, py, w)
        layers.append(((rows_idx >= top[None, :]) & (rows_idx <= bottom[None, :]), style))
    codes = np.full((height, width), _BLANK)
    styles = np.zeros((height, width), dtype=int)  # index into layers, +1; 0 = unstyled
    for i, (dots, _) in enumerate(layers):
        cells = _cells(dots)
        lit = cells != _BLANK
        codes = np.where(lit, codes | cells, codes)
        styles[lit] = i + 1  # later layers (the series) win over reference lines
    names = [""] + [s for _, s in layers]
    out = []
    for r in range(height):
        text = Text()
        row_styles = styles[r]
        bounds = np.flatnonzero(np.diff(row_styles)) + 1
        start = 0
        chars = "".join(map(chr, codes[r]))
        for end in [*bounds.tolist(), width]:
            text.append(chars[start:end], style=names[row_styles[start]] or None)
            start = end
        out.append(text)
    return out, lo, hi


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[float]) -> str:
    """A histogram as one line of block characters, tallest bin = full block.

    Heights follow the square root of the counts, so a tail of a few percent stays visible
    next to a ReLU layer's tall bin of zeros.
    """
    peak = max(counts, default=0)
    if peak <= 0:
        return " " * len(counts)
    return "".join(" " if c <= 0 else SPARK[min(7, int(math.sqrt(c / peak) * 7.999))]
                   for c in counts)


def plot_points(points: Sequence[tuple[float, float]], width: int, height: int,
                log_x: bool = False, y_range: tuple[float, float] | None = None,
                style: str = "") -> tuple[list[Text], float, float]:
    """A scatter of (x, y) points as braille dots; returns rows and the x range drawn."""
    width, height = max(1, width), max(1, height)
    w, h = 2 * width, 4 * height
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    keep = np.isfinite(pts).all(axis=1) & ((pts[:, 0] > 0) if log_x else True)
    pts = pts[keep]
    blank = [Text(chr(_BLANK) * width) for _ in range(height)]
    if not len(pts):
        return blank, math.nan, math.nan
    xs = np.log10(pts[:, 0]) if log_x else pts[:, 0]
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = y_range if y_range else (float(pts[:, 1].min()), float(pts[:, 1].max()))
    px = np.zeros(len(xs), int) if x1 == x0 else np.rint((xs - x0) / (x1 - x0) * (w - 1)).astype(int)
    fy = np.full(len(xs), 0.5) if y1 == y0 else (np.clip(pts[:, 1], y0, y1) - y0) / (y1 - y0)
    py = h - 1 - np.rint(fy * (h - 1)).astype(int)
    dots = np.zeros((h, w), dtype=bool)
    dots[py, px] = True
    codes = _cells(dots)
    rows = [Text("".join(map(chr, codes[r])), style=style or None) for r in range(height)]
    lo, hi = (10 ** x0, 10 ** x1) if log_x else (x0, x1)
    return rows, lo, hi
