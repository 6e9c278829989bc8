"""Affine layer, batch normalization and inverted dropout as forward/backward pairs.

Every forward returns ``(out, cache)``; the matching backward takes ``(dout, cache)``
and never looks at anything but the cache, so layers hold no hidden state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray
Cache = tuple[Any, ...]


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, Cache]:
    """Fully-connected layer: x (N, D), w (D, M), b (M,) -> out (N, M)."""
    out = x @ w
    out += b
    return out, (x, w)


def affine_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Gradients of the affine layer: dout (N, M) -> dx (N, D), dw (D, M), db (M,)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def batchnorm_forward(
    x: Array, gamma: Array, beta: Array, bn: dict[str, Any], train: bool
) -> tuple[Array, Cache]:
    """Batch norm over the batch axis: x (N, D) -> out (N, D).

    ``bn`` holds ``running_mean``, ``running_var``, ``momentum`` and ``eps``; in training the
    running averages are updated in place, at test time they replace the batch statistics.
    """
    eps = bn.get("eps", 1e-5)
    if train:
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        m = bn.get("momentum", 0.9)
        bn["running_mean"] = m * bn["running_mean"] + (1.0 - m) * mu
        bn["running_var"] = m * bn["running_var"] + (1.0 - m) * var
    else:
        mu, var = bn["running_mean"], bn["running_var"]
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return xhat * gamma + beta, (xhat, gamma, inv_std)


def batchnorm_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Gradients of training-mode batch norm: dout (N, D) -> dx, dgamma (D,), dbeta (D,)."""
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    # Closed form of the chain rule through mean and variance (Ioffe & Szegedy, simplified).
    dx = (gamma * inv_std / n) * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def dropout_forward(
    x: Array, p_drop: float, rng: np.random.Generator | None, train: bool
) -> tuple[Array, Cache]:
    """Inverted dropout: drop each unit with probability p_drop, scale survivors by 1/(1-p).

    At evaluation (or with p_drop == 0) it is the identity, so test time needs no rescaling.
    """
    if not train or p_drop <= 0.0:
        return x, (None,)
    assert rng is not None, "dropout in training mode needs a random generator"
    keep = 1.0 - p_drop
    mask = (rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype)
    mask *= 1.0 / keep
    return x * mask, (mask,)


def dropout_backward(dout: Array, cache: Cache) -> Array:
    """Gradient of inverted dropout: the same mask applied to the upstream gradient."""
    (mask,) = cache
    return dout if mask is None else dout * mask
