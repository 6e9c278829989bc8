"""Nonlinearities from the lecture as forward/backward pairs, looked up by name in ACTIVATIONS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from babysit.nn.layers import Array, Cache


def sigmoid_forward(x: Array) -> tuple[Array, Cache]:
    """Logistic sigmoid, computed without overflow for large |x|."""
    # exp of a non-positive number never overflows; both branches give 1 / (1 + e^-x).
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, (out,)


def sigmoid_backward(dout: Array, cache: Cache) -> Array:
    """d sigmoid = s (1 - s): near zero when the unit saturates at 0 or 1."""
    (s,) = cache
    return dout * s * (1.0 - s)


def tanh_forward(x: Array) -> tuple[Array, Cache]:
    """Hyperbolic tangent, zero-centred but saturating at +-1."""
    out = np.tanh(x)
    return out, (out,)


def tanh_backward(dout: Array, cache: Cache) -> Array:
    """d tanh = 1 - tanh^2."""
    (t,) = cache
    return dout * (1.0 - t * t)


def relu_forward(x: Array) -> tuple[Array, Cache]:
    """max(0, x)."""
    out = np.maximum(x, 0)
    return out, (out,)


def relu_backward(dout: Array, cache: Cache) -> Array:
    """Gradient passes only where the unit was active."""
    (out,) = cache
    return dout * (out > 0)


def leaky_relu_forward(x: Array, alpha: float = 0.01) -> tuple[Array, Cache]:
    """max(alpha x, x): a small slope for x < 0 so units cannot die."""
    pos = x > 0
    return np.where(pos, x, alpha * x), (pos, alpha)


def leaky_relu_backward(dout: Array, cache: Cache) -> Array:
    """Slope 1 where x > 0, alpha elsewhere."""
    pos, alpha = cache
    return np.where(pos, dout, alpha * dout)


def prelu_forward(x: Array, alpha: Array | float = 0.25) -> tuple[Array, Cache]:
    """Leaky ReLU whose slope for x < 0 is learned, one per unit (He et al. 2015)."""
    pos = x > 0
    return np.where(pos, x, alpha * x), (pos, x, alpha)


def prelu_backward(dout: Array, cache: Cache) -> Array:
    """Slope 1 where x > 0, the unit's alpha elsewhere."""
    pos, _, alpha = cache
    return np.where(pos, dout, alpha * dout)


def prelu_alpha_grad(dout: Array, cache: Cache) -> Array:
    """d out / d alpha = x where x <= 0: the slope's gradient, summed over the batch."""
    pos, x, _ = cache
    return np.where(pos, 0.0, dout * x).sum(axis=0)


def elu_forward(x: Array, alpha: float = 1.0) -> tuple[Array, Cache]:
    """x for x > 0, alpha (e^x - 1) otherwise: closer to zero-mean outputs than ReLU."""
    pos = x > 0
    # Clip before exp: only the negative branch is kept, and exp of large x would overflow.
    neg = alpha * np.expm1(np.minimum(x, 0))
    return np.where(pos, x, neg), (pos, neg, alpha)


def elu_backward(dout: Array, cache: Cache) -> Array:
    """Slope 1 where x > 0, alpha e^x = out + alpha elsewhere."""
    pos, neg, alpha = cache
    return np.where(pos, dout, dout * (neg + alpha))


def maxout_forward(x: Array, pieces: int = 2) -> tuple[Array, Cache]:
    """Max over `pieces` linear pieces: x (N, H * pieces) -> out (N, H).

    Columns are grouped per unit: unit j owns columns j*pieces .. j*pieces + pieces - 1.
    """
    n, width = x.shape
    grouped = x.reshape(n, width // pieces, pieces)
    idx = grouped.argmax(axis=2)
    out = np.take_along_axis(grouped, idx[..., None], axis=2)[..., 0]
    return out, (idx, pieces, x.shape)


def maxout_backward(dout: Array, cache: Cache) -> Array:
    """Route the gradient to the winning piece of each unit."""
    idx, pieces, shape = cache
    dx = np.zeros((shape[0], shape[1] // pieces, pieces), dtype=dout.dtype)
    np.put_along_axis(dx, idx[..., None], dout[..., None], axis=2)
    return dx.reshape(shape)


@dataclass(frozen=True)
class Activation:
    """A nonlinearity: its pair of functions and how it widens the affine layer before it."""

    name: str
    forward: Callable[..., tuple[Array, Cache]]
    backward: Callable[[Array, Cache], Array]
    family: str  # "relu" (can die), "saturating" (sigmoid/tanh) or "other"
    # Which side of each kink the inputs fell on (None for smooth functions); a numerical
    # gradient is only meaningful where this does not change across the finite-difference step.
    kink_side: Callable[[Cache], Array] | None = None


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", relu_forward, relu_backward, "relu", lambda c: c[0] > 0),
    "leaky_relu": Activation("leaky_relu", leaky_relu_forward, leaky_relu_backward, "other",
                             lambda c: c[0]),
    "prelu": Activation("prelu", prelu_forward, prelu_backward, "other", lambda c: c[0]),
    "elu": Activation("elu", elu_forward, elu_backward, "other", lambda c: c[0]),
    "tanh": Activation("tanh", tanh_forward, tanh_backward, "saturating"),
    "sigmoid": Activation("sigmoid", sigmoid_forward, sigmoid_backward, "saturating"),
    "maxout": Activation("maxout", maxout_forward, maxout_backward, "other", lambda c: c[0]),
}
