"""First-order update rules, one function each, all with the signature ``update(w, dw, state, lr)``.

Each updates ``w`` in place and keeps what it remembers (velocity, squared-gradient caches,
Adam moments, step count) in ``state``, created on first use. Every intermediate goes into a
scratch buffer kept in ``state`` as well: allocating fresh arrays of a large layer's size on
every step costs more than the arithmetic (page faults), and the update would dominate a step.
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


def _buffer(state: State, key: str, like: Array, zero: bool = True) -> Array:
    if key not in state:
        state[key] = np.zeros_like(like) if zero else np.empty_like(like)
    return state[key]


def sgd(w: Array, dw: Array, state: State, lr: float) -> None:
    """w -= lr * dw."""
    s = _buffer(state, "scratch", w, zero=False)
    np.multiply(dw, lr, out=s)
    w -= s


def momentum(w: Array, dw: Array, state: State, lr: float) -> None:
    """v = mu v - lr dw; w += v."""
    v, s = _buffer(state, "v", w), _buffer(state, "scratch", w, zero=False)
    v *= MOMENTUM
    np.multiply(dw, lr, out=s)
    v -= s
    w += v


def nesterov(w: Array, dw: Array, state: State, lr: float) -> None:
    """Nesterov momentum in the form that needs only the gradient at w (CS231n notes):
    v' = mu v - lr dw; w += -mu v + (1 + mu) v'."""
    v, s = _buffer(state, "v", w), _buffer(state, "scratch", w, zero=False)
    np.multiply(v, -MOMENTUM, out=s)  # -mu v_prev
    w += s
    v *= MOMENTUM
    np.multiply(dw, lr, out=s)
    v -= s
    np.multiply(v, 1.0 + MOMENTUM, out=s)
    w += s


def _scaled_step(w: Array, dw: Array, cache: Array, s: Array, lr: float) -> None:
    """w -= lr * dw / (sqrt(cache) + eps), through the scratch buffer s."""
    np.sqrt(cache, out=s)
    s += EPS
    np.divide(dw, s, out=s)
    s *= lr
    w -= s


def adagrad(w: Array, dw: Array, state: State, lr: float) -> None:
    """Per-parameter step lr / sqrt(sum of all squared gradients so far)."""
    cache, s = _buffer(state, "cache", w), _buffer(state, "scratch", w, zero=False)
    np.multiply(dw, dw, out=s)
    cache += s
    _scaled_step(w, dw, cache, s, lr)


def rmsprop(w: Array, dw: Array, state: State, lr: float) -> None:
    """Adagrad with a leaky cache, so the step size does not decay to zero."""
    cache, s = _buffer(state, "cache", w), _buffer(state, "scratch", w, zero=False)
    cache *= DECAY_RATE
    np.multiply(dw, dw, out=s)
    s *= 1.0 - DECAY_RATE
    cache += s
    _scaled_step(w, dw, cache, s, lr)


def adam(w: Array, dw: Array, state: State, lr: float) -> None:
    """Momentum on the gradient plus RMSProp scaling, both bias-corrected for early steps.

    The moments are stored rescaled, M = m / (1 - b1) and V = v / (1 - b2), so that each
    moment update is a multiply and an add and the step's constants fold into two scalars:
    10 passes over the weights instead of 13. Each line says which formula it computes.
    """
    mm, vv = _buffer(state, "M", w), _buffer(state, "V", w)
    s = _buffer(state, "scratch", w, zero=False)
    t = state["t"] = state.get("t", 0) + 1
    # m = b1 m + (1 - b1) dw
    mm *= BETA1
    mm += dw
    # v = b2 v + (1 - b2) dw^2
    np.multiply(dw, dw, out=s)
    vv *= BETA2
    vv += s
    # w -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t);
    # sqrt(v_hat) + eps = c (sqrt(V) + eps / c), where c = sqrt((1 - b2) / (1 - b2^t))
    c = float(np.sqrt((1.0 - BETA2) / (1.0 - BETA2**t)))
    np.sqrt(vv, out=s)
    s += EPS / c
    np.divide(mm, s, out=s)
    s *= lr * (1.0 - BETA1) / ((1.0 - BETA1**t) * c)
    w -= s


OPTIMIZERS: dict[str, Update] = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}
