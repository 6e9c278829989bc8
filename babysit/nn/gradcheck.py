"""Centred numerical gradients and the relative error used to compare them with backprop."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from babysit.nn.layers import Array
from babysit.nn.net import MLP

# Fourth-order centred stencil: f'(x) ~ (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h.
# Its truncation error is O(h^4), so h can be 1e-4 rather than the 1e-5..1e-6 a two-point
# difference needs; the round-off of a loss near log(C), about 1e-16 / h, then drops from
# ~1e-11 to ~1e-12 and gradient entries of 1e-4 still check to ~1e-8 relative error.
# Differences are taken pairwise, f(x+h) - f(x-h), so outputs x does not touch cancel exactly.
H = 1e-4


def _stencil(f: Callable[[], Any], x: Array, ix: tuple[int, ...], h: float) -> Any:
    """(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h at entry ix, restoring x."""
    old = x[ix]
    vals = []
    for off in (h, -h, 2 * h, -2 * h):
        x[ix] = old + off
        vals.append(np.asarray(f(), dtype=np.float64).copy())
    x[ix] = old
    return (8.0 * (vals[0] - vals[1]) - (vals[2] - vals[3])) / (12.0 * h)


def numerical_gradient(
    f: Callable[[], float],
    x: Array,
    h: float = H,
    indices: Iterable[tuple[int, ...]] | None = None,
) -> Array:
    """Numerical gradient of scalar f() w.r.t. x, perturbing x in place (f reads x itself).

    With `indices`, only those entries are computed (the rest stay zero).
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for ix in indices if indices is not None else np.ndindex(x.shape):
        grad[ix] = float(_stencil(f, x, ix, h))
    return grad


def numerical_gradient_array(
    f: Callable[[], Array], x: Array, dout: Array, h: float = H
) -> Array:
    """Numerical gradient of sum(f() * dout) w.r.t. x, for layers whose output is an array."""
    grad = np.zeros_like(x, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        # Difference the output arrays before summing: the round-off of the whole sum would
        # otherwise swamp small gradients.
        grad[ix] = float(np.sum(_stencil(f, x, ix, h) * dout))
    return grad


def relative_error(analytic: Array, numeric: Array, floor: float = 1e-8) -> float:
    """max |a - n| / max(|a| + |n|, floor): near 1e-7 or below means the backward pass is right.

    The floor keeps entries whose true gradient is zero from dividing round-off by round-off.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)))


def check_net(
    net: MLP,
    x: Array,
    y: Array,
    dropout_seed: int = 0,
    max_entries: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, tuple[float, int, int]]:
    """Per parameter: (max relative error, entries checked, entries skipped at a kink).

    The numerical estimate carries round-off of about eps * |loss| / H in absolute terms, so a
    gradient entry much smaller than that (an SVM bias whose true gradient is exactly 0, say)
    cannot be checked to 1e-7 relative: the relative error's floor is set so that this noise
    alone reads as 1e-8 (for a loss near 1: entries below ~2e-5 are judged on absolute error).
    The dropout mask is fixed by reseeding it for every evaluation. Entries whose
    finite-difference step moves some unit across a kink (ReLU at 0, a maxout tie, a hinge
    margin) are skipped: there the numerical gradient mixes two slopes and is not a derivative.
    With max_entries, a random sample of that many entries per parameter is checked.
    """
    rng = rng if rng is not None else np.random.default_rng(0)

    def loss() -> float:
        return net.total_loss(x, y, np.random.default_rng(dropout_seed))

    def signature() -> bytes:
        return net.kink_signature(x, y, np.random.default_rng(dropout_seed))

    losses, grads, _ = net.loss(x, y, np.random.default_rng(dropout_seed))
    noise = np.finfo(np.float64).eps * max(abs(losses.total), 1.0) / H
    floor = max(1e-8, noise / 1e-8)
    results: dict[str, tuple[float, int, int]] = {}
    for name, param in net.params.items():
        entries = list(np.ndindex(param.shape))
        if max_entries is not None and len(entries) > max_entries:
            entries = [entries[i] for i in rng.choice(len(entries), max_entries, replace=False)]
        smooth = []
        for ix in entries:
            old = param[ix]
            sigs = set()
            for off in (2 * H, -2 * H):
                param[ix] = old + off
                sigs.add(signature())
            param[ix] = old
            sigs.add(signature())
            if len(sigs) == 1:
                smooth.append(ix)
        num = numerical_gradient(loss, param, indices=smooth)
        picked = tuple(np.array(smooth).T) if smooth else ()
        err = relative_error(grads[name][picked], num[picked], floor) if smooth else 0.0
        results[name] = (err, len(smooth), len(entries) - len(smooth))
    return results
