"""The CS231n spiral: K interleaved arms in 2-D that no linear classifier can separate."""

from __future__ import annotations

import numpy as np


def spiral(
    classes: int = 3, points: int = 100, rng: np.random.Generator | None = None,
    noise: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """X (classes * points, 2) and y (classes * points,): arm k sweeps 4 radians from angle 4k."""
    rng = rng if rng is not None else np.random.default_rng(0)
    r = np.tile(np.linspace(0.0, 1.0, points), classes)
    k = np.repeat(np.arange(classes), points)
    theta = np.linspace(0.0, 4.0, points)[None, :] + 4.0 * np.arange(classes)[:, None]
    theta = theta.ravel() + rng.standard_normal(classes * points) * noise
    x = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return x, k
