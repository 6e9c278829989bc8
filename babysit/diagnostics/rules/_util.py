"""Small helpers shared by rules: reading layer entries and judging "sustained" conditions."""

from __future__ import annotations

from collections import deque
from statistics import median
from typing import Any

from babysit.diagnostics.reader import is_finite, number


def field(entry: Any, name: str) -> float | None:
    """entry[name] as a finite float, or None."""
    if not isinstance(entry, dict):
        return None
    value = number(entry.get(name))
    return value if is_finite(value) else None


def layer_entries(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, stats) for each layer of a record, in order, skipping malformed entries."""
    layers = record.get("layers")
    if not isinstance(layers, dict):
        return []
    return [(name, entry) for name, entry in layers.items() if isinstance(entry, dict)]


def hidden_entries(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The hidden layers: those with activation statistics, else all but the last layer."""
    entries = layer_entries(record)
    with_acts = [(n, e) for n, e in entries if "act_std" in e or "act_mean" in e]
    return with_acts if with_acts else entries[:-1]


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
