"""First-order update rules, one function each, all with the signature ``update(w, dw, state, lr)``.

Each updates ``w`` in place (no new parameter arrays per step) and keeps what it remembers
(velocity, squared-gradient caches, Adam moments, step count) in ``state``, created on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from babysit.nn.layers import Array

State = dict[str, Any]
Update = Callable[[Array, Array, State, float], None]

MOMENTUM = 0.9  # the usual mu; higher values cross ravines faster but overshoot more
DECAY_RATE = 0.99  # RMSProp's leak: remembers roughly the last 100 squared gradients
BETA1, BETA2 = 0.9, 0.999  # Adam's defaults (Kingma & Ba)
EPS = 1e-8  # keeps 1/sqrt(cache) finite for parameters that have seen no gradient yet


def _zeros(state: State, key: str, like: Array) -> Array:
    if key not in state:
        state[key] = np.zeros_like(like)
    return state[key]


def sgd(w: Array, dw: Array, state: State, lr: float) -> None:
    """w -= lr * dw."""
    w -= lr * dw


def momentum(w: Array, dw: Array, state: State, lr: float) -> None:
    """v = mu v - lr dw; w += v."""
    v = _zeros(state, "v", w)
    v *= MOMENTUM
    v -= lr * dw
    w += v


def nesterov(w: Array, dw: Array, state: State, lr: float) -> None:
    """Nesterov momentum in the form that needs only the gradient at w (CS231n notes)."""
    v = _zeros(state, "v", w)
    v_prev = v.copy()
    v *= MOMENTUM
    v -= lr * dw
    w += (1.0 + MOMENTUM) * v - MOMENTUM * v_prev


def adagrad(w: Array, dw: Array, state: State, lr: float) -> None:
    """Per-parameter step lr / sqrt(sum of all squared gradients so far)."""
    cache = _zeros(state, "cache", w)
    cache += dw * dw
    w -= lr * dw / (np.sqrt(cache) + EPS)


def rmsprop(w: Array, dw: Array, state: State, lr: float) -> None:
    """Adagrad with a leaky cache, so the step size does not decay to zero."""
    cache = _zeros(state, "cache", w)
    cache *= DECAY_RATE
    cache += (1.0 - DECAY_RATE) * (dw * dw)
    w -= lr * dw / (np.sqrt(cache) + EPS)


def adam(w: Array, dw: Array, state: State, lr: float) -> None:
    """Momentum on the gradient plus RMSProp scaling, both bias-corrected for early steps."""
    m = _zeros(state, "m", w)
    v = _zeros(state, "v", w)
    t = state["t"] = state.get("t", 0) + 1
    m *= BETA1
    m += (1.0 - BETA1) * dw
    v *= BETA2
    v += (1.0 - BETA2) * (dw * dw)
    m_hat = m * (1.0 / (1.0 - BETA1**t))
    v_hat = v * (1.0 / (1.0 - BETA2**t))
    w -= lr * m_hat / (np.sqrt(v_hat) + EPS)


OPTIMIZERS: dict[str, Update] = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}
