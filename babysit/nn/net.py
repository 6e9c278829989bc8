"""A fully-connected classifier: affine -> [batch norm] -> nonlinearity -> [dropout], repeated.

Parameters live in one dict (``W1, b1, ..., WL, bL``; with batch norm ``W1, gamma1, beta1, ...``)
so optimizers, gradient checks and statistics treat every parameter the same way. Layer ``fcI``
owns ``WI`` and ``bI`` (or ``gammaI``, ``betaI``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from babysit.memory import require_memory
from babysit.nn.activations import ACTIVATIONS, Activation, prelu_alpha_grad
from babysit.nn.init import init_weights
from babysit.nn.layers import (
    Array,
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
)
from babysit.nn.losses import LOSSES, svm_kink_side


@dataclass(frozen=True)
class NetSpec:
    """Everything that defines the architecture and its initialization."""

    input_dim: int
    num_classes: int
    hidden: tuple[int, ...] = (100,)
    activation: str = "relu"
    init: str = "he"
    init_std: float = 0.01
    bias_init: float = 0.0
    batchnorm: bool = False
    dropout: float = 0.0
    reg: float = 0.0
    loss: str = "softmax"
    leaky_alpha: float = 0.01
    elu_alpha: float = 1.0
    maxout_pieces: int = 2
    dtype: str = "float64"
    # The root mean square of the inputs, when the config asks for an input-aware first layer
    # (scale_first_layer): Xavier and He assume unit-scale inputs, and the first layer then
    # divides its draw by this. 1.0 (the lecture's schemes as they are) otherwise.
    input_scale: float = 1.0


EVAL_ROWS = 2048  # evaluation runs in chunks of this many rows (MLP.scores)
PRELU_INIT = 0.25  # PReLU slopes at the start: He et al. 2015, "Delving deep into rectifiers"
# Bytes per parameter element while training: the weights, their gradient, up to three
# optimizer buffers (Adam's two moments and a scratch array) and the statistics' copy.
_COPIES_PER_PARAM = 6
# Arrays of (rows, width) kept per hidden layer: affine output, activation and its cache,
# dropout mask, gradient.
_COPIES_PER_UNIT = 5


def parameter_count(spec: NetSpec) -> int:
    """Number of weights and biases (or batch-norm scales and shifts) of the net `spec` builds."""
    widen = spec.maxout_pieces if spec.activation == "maxout" else 1
    fan_in, total = spec.input_dim, 0
    for width in spec.hidden:
        total += fan_in * width * widen + 2 * width * widen + (width if spec.activation == "prelu" else 0)
        fan_in = width
    return total + fan_in * spec.num_classes + spec.num_classes


def memory_bytes(spec: NetSpec, rows: int) -> int:
    """Rough peak memory of training `spec` on batches (and evaluation chunks) of `rows` rows."""
    widen = spec.maxout_pieces if spec.activation == "maxout" else 1
    units = sum(spec.hidden) * widen + spec.num_classes
    itemsize = np.dtype(spec.dtype).itemsize
    return itemsize * (_COPIES_PER_PARAM * parameter_count(spec) + _COPIES_PER_UNIT * rows * units)


def ensure_fits(spec: NetSpec, rows: int = EVAL_ROWS) -> None:
    """A BabysitError if training `spec` on `rows`-row batches cannot fit in available memory."""
    require_memory(memory_bytes(spec, rows),
                   f"a {spec.input_dim}-{'-'.join(map(str, spec.hidden))}-{spec.num_classes} net "
                   f"({parameter_count(spec):,} parameters)",
                   "use fewer or narrower --hidden layers, or a smaller --batch-size")


@dataclass
class Losses:
    """The loss of one batch, split as the log reports it."""

    data_loss: float
    reg_loss: float

    @property
    def total(self) -> float:
        """data_loss + reg_loss."""
        return self.data_loss + self.reg_loss


@dataclass
class ForwardCache:
    """What backward needs from one forward pass, plus the hidden activations for statistics."""

    layers: list[dict[str, Any]] = field(default_factory=list)
    out_cache: tuple[Any, ...] = ()
    hidden_outputs: list[Array] = field(default_factory=list)


class MLP:
    """A multi-layer perceptron built from a NetSpec, with its parameters and batch-norm state."""

    def __init__(self, spec: NetSpec, rng: np.random.Generator, rows: int = EVAL_ROWS) -> None:
        """Initialize weights with spec.init; biases with spec.bias_init (hidden layers only).

        A BabysitError, before anything is allocated, if training and evaluating it on
        batches of `rows` rows cannot fit in the memory available.
        """
        if spec.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec.activation!r}")
        if spec.loss not in LOSSES:
            raise ValueError(f"unknown loss {spec.loss!r}")
        ensure_fits(spec, rows)
        self.spec = spec
        self.act: Activation = ACTIVATIONS[spec.activation]
        self.act_kwargs: dict[str, Any] = {
            "leaky_relu": {"alpha": spec.leaky_alpha},
            "elu": {"alpha": spec.elu_alpha},
            "maxout": {"pieces": spec.maxout_pieces},
        }.get(spec.activation, {})
        self.loss_fn = LOSSES[spec.loss]
        dtype = np.dtype(spec.dtype)
        # Maxout's affine layer computes `pieces` candidates per unit.
        widen = spec.maxout_pieces if spec.activation == "maxout" else 1
        self.params: dict[str, Array] = {}
        self.bn: list[dict[str, Any]] = []
        fan_in = spec.input_dim
        for i, width in enumerate(spec.hidden, start=1):
            fan_out = width * widen
            w = init_weights(spec.init, fan_in, fan_out, rng, spec.init_std)
            if i == 1 and spec.init in ("xavier", "he") and spec.input_scale > 0:
                w /= spec.input_scale
            self.params[f"W{i}"] = w.astype(dtype)
            if spec.batchnorm:
                # Batch norm subtracts the batch mean, so a bias before it has zero gradient
                # and does nothing: beta takes its place, and its initial value.
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=dtype)
                self.params[f"beta{i}"] = np.full(fan_out, spec.bias_init, dtype=dtype)
                self.bn.append(
                    {
                        "running_mean": np.zeros(fan_out, dtype=dtype),
                        "running_var": np.ones(fan_out, dtype=dtype),
                    }
                )
            else:
                self.params[f"b{i}"] = np.full(fan_out, spec.bias_init, dtype=dtype)
            if spec.activation == "prelu":  # He et al. start every learned slope at 0.25
                self.params[f"alpha{i}"] = np.full(fan_out, PRELU_INIT, dtype=dtype)
            fan_in = width
        last = len(spec.hidden) + 1
        self.params[f"W{last}"] = init_weights(
            spec.init, fan_in, spec.num_classes, rng, spec.init_std
        ).astype(dtype)
        self.params[f"b{last}"] = np.zeros(spec.num_classes, dtype=dtype)

    @property
    def num_layers(self) -> int:
        """Affine layers, the output layer included."""
        return len(self.spec.hidden) + 1

    @property
    def layer_names(self) -> list[str]:
        """Names used in metric records: fc1 .. fcL (fcL is the output layer)."""
        return [f"fc{i}" for i in range(1, self.num_layers + 1)]

    def forward(
        self, x: Array, train: bool, rng: np.random.Generator | None = None
    ) -> tuple[Array, ForwardCache]:
        """Class scores (N, C) for inputs x (N, D); train mode uses batch statistics and dropout."""
        p = self.params
        cache = ForwardCache()
        h = x
        for i in range(1, self.num_layers):
            layer: dict[str, Any] = {}
            if self.spec.batchnorm:
                a, layer["affine"] = h @ p[f"W{i}"], (h, p[f"W{i}"])
                a, layer["bn"] = batchnorm_forward(
                    a, p[f"gamma{i}"], p[f"beta{i}"], self.bn[i - 1], train
                )
            else:
                a, layer["affine"] = affine_forward(h, p[f"W{i}"], p[f"b{i}"])
            kwargs = {"alpha": p[f"alpha{i}"]} if self.spec.activation == "prelu" else self.act_kwargs
            h, layer["act"] = self.act.forward(a, **kwargs)
            cache.hidden_outputs.append(h)
            h, layer["drop"] = dropout_forward(h, self.spec.dropout, rng, train)
            cache.layers.append(layer)
        scores, cache.out_cache = affine_forward(h, p[f"W{self.num_layers}"], p[f"b{self.num_layers}"])
        return scores, cache

    def backward(self, dscores: Array, cache: ForwardCache,
                 input_grad: bool = False) -> tuple[dict[str, Array], Array | None]:
        """Gradients of the data loss for every parameter given dscores (N, C), and the
        gradient w.r.t. the inputs x (N, D) if `input_grad` (training skips that matmul)."""
        grads: dict[str, Array] = {}
        last = self.num_layers
        dh, grads[f"W{last}"], grads[f"b{last}"] = affine_backward(dscores, cache.out_cache)
        for i in range(last - 1, 0, -1):
            layer = cache.layers[i - 1]
            dh = dropout_backward(dh, layer["drop"])
            da = self.act.backward(dh, layer["act"])
            if self.spec.activation == "prelu":
                grads[f"alpha{i}"] = prelu_alpha_grad(dh, layer["act"])
            if self.spec.batchnorm:
                da, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(da, layer["bn"])
            x, w = layer["affine"]
            if i > 1 or input_grad:
                dh = da @ w.T
            grads[f"W{i}"] = x.T @ da
            if not self.spec.batchnorm:
                grads[f"b{i}"] = da.sum(axis=0)
        return grads, (dh if input_grad else None)

    def reg_loss(self) -> float:
        """0.5 * reg * sum of squared weights (biases and batch-norm parameters excluded)."""
        if self.spec.reg == 0.0:
            return 0.0
        total = sum(float(np.vdot(self.params[f"W{i}"], self.params[f"W{i}"]))
                    for i in range(1, self.num_layers + 1))
        return 0.5 * self.spec.reg * total

    def loss(
        self, x: Array, y: Array, rng: np.random.Generator | None = None
    ) -> tuple[Losses, dict[str, Array], ForwardCache]:
        """Training-mode loss on a batch, gradients of the total loss, and the forward cache."""
        scores, cache = self.forward(x, train=True, rng=rng)
        data_loss, dscores = self.loss_fn(scores, y)
        grads, _ = self.backward(dscores, cache)
        if self.spec.reg:
            for i in range(1, self.num_layers + 1):
                grads[f"W{i}"] += self.spec.reg * self.params[f"W{i}"]
        return Losses(data_loss, self.reg_loss()), grads, cache

    def total_loss(self, x: Array, y: Array, rng: np.random.Generator | None = None) -> float:
        """Training-mode data + regularization loss, without the backward pass."""
        scores, _ = self.forward(x, train=True, rng=rng)
        return self.loss_fn(scores, y)[0] + self.reg_loss()

    def kink_signature(self, x: Array, y: Array, rng: np.random.Generator | None = None) -> bytes:
        """Which side of every kink (ReLU at 0, maxout ties, hinge margins) the batch falls on."""
        scores, cache = self.forward(x, train=True, rng=rng)
        parts = []
        if self.act.kink_side is not None:
            parts = [np.asarray(self.act.kink_side(layer["act"])).tobytes() for layer in cache.layers]
        if self.spec.loss == "svm":
            parts.append(svm_kink_side(scores, y).tobytes())
        return b"".join(parts)

    def scores(self, x: Array, batch_size: int = EVAL_ROWS) -> Array:
        """Evaluation-mode scores (no dropout, running batch-norm statistics), in chunks."""
        chunks = [self.forward(x[i : i + batch_size], train=False)[0]
                  for i in range(0, len(x), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.spec.num_classes))

    def evaluate(self, x: Array, y: Array) -> tuple[float, float]:
        """(data loss, accuracy) of the net on (x, y) in evaluation mode."""
        s = self.scores(x)
        data_loss, _ = self.loss_fn(s, y)
        return data_loss, float((s.argmax(axis=1) == y).mean())
