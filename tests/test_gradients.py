"""Every backward pass against a centred numerical gradient, in float64 (max rel. error < 1e-7)."""

from __future__ import annotations

import numpy as np
import pytest

from babysit.nn import MLP, NetSpec
from babysit.nn.activations import ACTIVATIONS
from babysit.nn.gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from babysit.nn.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
)
from babysit.nn.losses import softmax_loss, svm_loss

TOL = 1e-7


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_affine_backward(rng: np.random.Generator) -> None:
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    dout = rng.normal(size=(5, 3))
    dx, dw, db = affine_backward(dout, affine_forward(x, w, b)[1])

    def f() -> np.ndarray:
        return affine_forward(x, w, b)[0]

    assert relative_error(dx, numerical_gradient_array(f, x, dout)) < TOL
    assert relative_error(dw, numerical_gradient_array(f, w, dout)) < TOL
    assert relative_error(db, numerical_gradient_array(f, b, dout)) < TOL


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward(name: str, rng: np.random.Generator) -> None:
    act = ACTIVATIONS[name]
    x = rng.normal(size=(6, 8)) * 2
    # Keep inputs away from kinks (0 for the ReLU family, ties for maxout), where the
    # numerical gradient straddles two slopes and is not the derivative.
    x[np.abs(x) < 1e-2] = 0.5
    out, cache = act.forward(x)
    dout = rng.normal(size=out.shape)
    dx = act.backward(dout, cache)
    num = numerical_gradient_array(lambda: act.forward(x)[0], x, dout)
    assert relative_error(dx, num) < TOL


@pytest.mark.parametrize("name,kwargs", [("leaky_relu", {"alpha": 0.2}), ("elu", {"alpha": 0.5}),
                                         ("maxout", {"pieces": 3})])
def test_activation_options_backward(name: str, kwargs: dict, rng: np.random.Generator) -> None:
    act = ACTIVATIONS[name]
    x = rng.normal(size=(4, 9)) + 0.05
    out, cache = act.forward(x, **kwargs)
    dout = rng.normal(size=out.shape)
    num = numerical_gradient_array(lambda: act.forward(x, **kwargs)[0], x, dout)
    assert relative_error(act.backward(dout, cache), num) < TOL


def test_prelu_slope_gradient(rng: np.random.Generator) -> None:
    from babysit.nn.activations import prelu_alpha_grad

    x = rng.normal(size=(6, 5))
    x[np.abs(x) < 1e-2] = 0.5
    alpha = rng.uniform(0.1, 0.4, size=5)
    dout = rng.normal(size=(6, 5))
    _, cache = ACTIVATIONS["prelu"].forward(x, alpha=alpha)
    num = numerical_gradient_array(lambda: ACTIVATIONS["prelu"].forward(x, alpha=alpha)[0], alpha, dout)
    assert relative_error(prelu_alpha_grad(dout, cache), num) < TOL


def test_batchnorm_backward(rng: np.random.Generator) -> None:
    x = rng.normal(size=(7, 5)) * 3 + 2
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    dout = rng.normal(size=(7, 5))

    def f() -> np.ndarray:
        bn = {"running_mean": np.zeros(5), "running_var": np.ones(5)}
        return batchnorm_forward(x, gamma, beta, bn, train=True)[0]

    bn = {"running_mean": np.zeros(5), "running_var": np.ones(5)}
    dx, dgamma, dbeta = batchnorm_backward(dout, batchnorm_forward(x, gamma, beta, bn, True)[1])
    assert relative_error(dx, numerical_gradient_array(f, x, dout)) < TOL
    assert relative_error(dgamma, numerical_gradient_array(f, gamma, dout)) < TOL
    assert relative_error(dbeta, numerical_gradient_array(f, beta, dout)) < TOL


def test_dropout_backward_with_fixed_mask(rng: np.random.Generator) -> None:
    x = rng.normal(size=(10, 6))
    dout = rng.normal(size=(10, 6))

    def f() -> np.ndarray:
        return dropout_forward(x, 0.4, np.random.default_rng(3), True)[0]

    _, cache = dropout_forward(x, 0.4, np.random.default_rng(3), True)
    assert relative_error(dropout_backward(dout, cache), numerical_gradient_array(f, x, dout)) < TOL


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_loss_backward(loss_fn, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    scores = rng.normal(size=(8, 4))
    y = rng.integers(0, 4, size=8)
    _, dscores = loss_fn(scores, y)
    num = numerical_gradient(lambda: loss_fn(scores, y)[0], scores)
    assert relative_error(dscores, num) < TOL


@pytest.mark.parametrize(
    "activation,batchnorm,dropout,loss",
    [
        ("relu", False, 0.0, "softmax"),
        ("tanh", True, 0.0, "softmax"),
        ("sigmoid", False, 0.3, "svm"),
        ("leaky_relu", True, 0.2, "softmax"),
        ("elu", False, 0.0, "svm"),
        ("maxout", True, 0.0, "softmax"),
        ("prelu", False, 0.2, "softmax"),  # its learned slopes (alpha1, alpha2) checked too
    ],
)
def test_whole_net_with_regularization(activation: str, batchnorm: bool, dropout: float,
                                       loss: str) -> None:
    spec = NetSpec(input_dim=5, num_classes=4, hidden=(7, 6), activation=activation,
                   init="xavier", batchnorm=batchnorm, dropout=dropout, reg=0.3, loss=loss,
                   bias_init=0.1)
    net = MLP(spec, np.random.default_rng(1))
    data = np.random.default_rng(2)
    x, y = data.normal(size=(9, 5)), data.integers(0, 4, size=9)
    # The same dropout seed on every call fixes the mask, so the loss is a function of the params.
    losses, grads, _ = net.loss(x, y, np.random.default_rng(5))
    assert losses.reg_loss > 0
    for name, param in net.params.items():
        num = numerical_gradient(lambda: net.loss(x, y, np.random.default_rng(5))[0].total, param)
        assert relative_error(grads[name], num) < TOL, name


@pytest.mark.parametrize("batchnorm", [False, True])
def test_input_gradient(batchnorm: bool) -> None:
    spec = NetSpec(input_dim=4, num_classes=3, hidden=(6, 5), activation="tanh", init="xavier",
                   batchnorm=batchnorm)
    net = MLP(spec, np.random.default_rng(0))
    data = np.random.default_rng(1)
    x, y = data.normal(size=(7, 4)), data.integers(0, 3, size=7)
    scores, cache = net.forward(x, train=True)
    _, dscores = net.loss_fn(scores, y)
    _, dx = net.backward(dscores, cache, input_grad=True)
    assert dx is not None and dx.shape == x.shape
    num = numerical_gradient(lambda: net.loss_fn(net.forward(x, train=True)[0], y)[0], x)
    assert relative_error(dx, num) < TOL
    assert net.backward(dscores, cache)[1] is None
