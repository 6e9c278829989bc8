"""Weight initialization schemes from the lecture, looked up by name in INITS."""

from __future__ import annotations

import numpy as np

from babysit.names import INITS
from babysit.nn.layers import Array


def init_weights(
    scheme: str, fan_in: int, fan_out: int, rng: np.random.Generator, std: float = 0.01
) -> Array:
    """A (fan_in, fan_out) float64 weight matrix drawn by `scheme`.

    zeros: all units identical (the lecture's warning). small: N(0, std^2), fine for shallow
    nets but activations shrink layer by layer in deep ones. xavier: randn / sqrt(fan_in) keeps
    the output variance equal to the input variance. he: randn / sqrt(fan_in / 2) makes up for
    ReLU zeroing half its inputs.
    """
    if scheme == "zeros":
        return np.zeros((fan_in, fan_out))
    g = rng.standard_normal((fan_in, fan_out))
    if scheme == "small":
        return g * std
    if scheme == "xavier":
        return g / np.sqrt(fan_in)
    if scheme == "he":
        return g / np.sqrt(fan_in / 2.0)
    raise ValueError(f"unknown init scheme {scheme!r}; choose one of {', '.join(INITS)}")
