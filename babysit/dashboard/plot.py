"""Line plots drawn with Unicode braille characters: 2 x 4 dots per terminal cell."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

# Dot bit for (column 0..1, row 0..3) inside one braille cell (Unicode's numbering).
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BLANK = 0x2800


class Canvas:
    """A width x height grid of braille cells, addressed in dots (2 per column, 4 per row)."""

    def __init__(self, width: int, height: int) -> None:
        """An empty canvas of `width` x `height` terminal cells."""
        self.width, self.height = max(1, width), max(1, height)
        self.cells = [[0] * self.width for _ in range(self.height)]
        self.styles: list[list[str]] = [[""] * self.width for _ in range(self.height)]

    @property
    def dots(self) -> tuple[int, int]:
        """(dots across, dots down)."""
        return 2 * self.width, 4 * self.height

    def set(self, x: int, y: int, style: str) -> None:
        """Light the dot at (x, y), y counted from the top; the cell takes `style`."""
        if 0 <= x < 2 * self.width and 0 <= y < 4 * self.height:
            row, col = y // 4, x // 2
            self.cells[row][col] |= _BITS[y % 4][x % 2]
            self.styles[row][col] = style

    def line(self, x0: int, y0: int, x1: int, y1: int, style: str) -> None:
        """Light the dots of a straight segment (Bresenham)."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.set(x0, y0, style)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def rows(self) -> list[Text]:
        """The canvas as styled lines of text."""
        out = []
        for cells, styles in zip(self.cells, self.styles, strict=True):
            text = Text()
            for bits, style in zip(cells, styles, strict=True):
                text.append(chr(_BLANK + bits), style=style or None)
            out.append(text)
        return out


def _scale(value: float, lo: float, hi: float, log: bool) -> float:
    if log:
        value, lo, hi = math.log10(value), math.log10(lo), math.log10(hi)
    return 0.5 if hi == lo else (value - lo) / (hi - lo)


def plot_lines(
    series: Sequence[tuple[Sequence[tuple[float, float]], str]],
    width: int,
    height: int,
    log_y: bool = False,
    hlines: Sequence[tuple[float, str]] = (),
) -> tuple[list[Text], float, float]:
    """Draw (points, style) series and horizontal (y, style) lines; return rows and the y range.

    Points are (x, y). Non-finite points (and non-positive ones on a log scale) are skipped.
    """
    def usable(y: float) -> bool:
        return math.isfinite(y) and (y > 0 or not log_y)

    ys = [y for pts, _ in series for _, y in pts if usable(y)] + [y for y, _ in hlines if usable(y)]
    xs = [x for pts, _ in series for x, y in pts if usable(y)]
    canvas = Canvas(width, height)
    if not ys or not xs:
        return canvas.rows(), math.nan, math.nan
    lo, hi = min(ys), max(ys)
    x0, x1 = min(xs), max(xs)
    w, h = canvas.dots
    for y, style in hlines:
        if usable(y):
            row = round((1 - _scale(y, lo, hi, log_y)) * (h - 1))
            for x in range(0, w, 2):  # dotted
                canvas.set(x, row, style)
    for points, style in series:
        prev = None
        for x, y in points:
            if not usable(y):
                prev = None
                continue
            px = round((x - x0) / (x1 - x0) * (w - 1)) if x1 > x0 else 0
            py = round((1 - _scale(y, lo, hi, log_y)) * (h - 1))
            if prev is not None:
                canvas.line(prev[0], prev[1], px, py, style)
            else:
                canvas.set(px, py, style)
            prev = (px, py)
    return canvas.rows(), lo, hi


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
