"""Helpers shared by rules: judging "sustained" conditions over the last few samples."""

from __future__ import annotations

from collections import deque
from statistics import median


class Sustained:
    """Per-key sliding windows of the last `size` values; the median once a window is full."""

    def __init__(self, size: int) -> None:
        """Windows of `size` values."""
        self.size = max(1, int(size))
        self.values: dict[str, deque[float]] = {}

    def add(self, key: str, value: float) -> float | None:
        """Add a value; the median of the window if it is full, else None."""
        window = self.values.setdefault(key, deque(maxlen=self.size))
        window.append(value)
        return median(window) if len(window) == self.size else None
