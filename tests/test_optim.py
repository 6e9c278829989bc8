"""Each update rule against its textbook formula on a known case, and the learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from babysit.nn import optim
from babysit.nn.schedules import learning_rate

W0 = np.array([1.0, -2.0, 0.5])
GRADS = [np.array([0.1, -0.3, 0.2]), np.array([-0.2, 0.1, 0.4]), np.array([0.05, 0.05, -0.1])]
LR = 0.1


def reference(name: str) -> np.ndarray:
    """The same three steps written out from the formulas, with fresh state."""
    w = W0.copy()
    v = np.zeros(3)
    cache = np.zeros(3)
    m = np.zeros(3)
    mu, rho, b1, b2, eps = 0.9, 0.99, 0.9, 0.999, 1e-8
    for t, g in enumerate(GRADS, start=1):
        if name == "sgd":
            w = w - LR * g
        elif name == "momentum":
            v = mu * v - LR * g
            w = w + v
        elif name == "nesterov":
            v_prev = v
            v = mu * v - LR * g
            w = w - mu * v_prev + (1 + mu) * v
        elif name == "adagrad":
            cache = cache + g**2
            w = w - LR * g / (np.sqrt(cache) + eps)
        elif name == "rmsprop":
            cache = rho * cache + (1 - rho) * g**2
            w = w - LR * g / (np.sqrt(cache) + eps)
        elif name == "adam":
            m = b1 * m + (1 - b1) * g
            cache = b2 * cache + (1 - b2) * g**2
            w = w - LR * (m / (1 - b1**t)) / (np.sqrt(cache / (1 - b2**t)) + eps)
    return w


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_update_matches_formula(name: str) -> None:
    w, state = W0.copy(), {}
    for g in GRADS:
        optim.OPTIMIZERS[name](w, g, state, LR)
    np.testing.assert_allclose(w, reference(name), rtol=1e-12, atol=1e-15)


def test_first_adam_step_is_lr_times_sign() -> None:
    # Bias correction makes Adam's first step ~lr in every coordinate, whatever the gradient scale.
    w, state = W0.copy(), {}
    optim.adam(w, GRADS[0] * 1e-3, state, LR)
    np.testing.assert_allclose(W0 - w, LR * np.sign(GRADS[0]), rtol=1e-4)


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_update_keeps_float32(name: str) -> None:
    w = W0.astype(np.float32)
    optim.OPTIMIZERS[name](w, GRADS[0].astype(np.float32), {}, LR)
    assert w.dtype == np.float32


def test_schedules() -> None:
    assert learning_rate("constant", 0.1, 7.3, 0.5) == 0.1
    assert learning_rate("step", 0.1, 9.9, 0.5, step_epochs=10) == 0.1
    assert learning_rate("step", 0.1, 20.0, 0.5, step_epochs=10) == pytest.approx(0.025)
    assert learning_rate("exp", 0.1, 2.0, 0.3) == pytest.approx(0.1 * math.exp(-0.6))
    assert learning_rate("inv", 0.1, 4.0, 0.5) == pytest.approx(0.1 / 3.0)
    with pytest.raises(ValueError):
        learning_rate("cosine", 0.1, 1.0, 0.5)


def test_option_names_match_the_implementations() -> None:
    # babysit.names lets the CLI start without numpy; it must list exactly what exists.
    from babysit import names
    from babysit.nn.activations import ACTIVATIONS
    from babysit.nn.losses import LOSSES

    assert set(names.ACTIVATIONS) == set(ACTIVATIONS)
    assert set(names.LOSSES) == set(LOSSES)
    assert set(names.OPTIMIZERS) == set(optim.OPTIMIZERS)
    for schedule in names.SCHEDULES:
        learning_rate(schedule, 0.1, 1.0, 0.5)  # every name is implemented
