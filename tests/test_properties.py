"""Properties that hold for any input, checked with hypothesis."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from babysit.data.spiral import spiral
from babysit.nn.layers import batchnorm_forward
from babysit.nn.losses import softmax_loss, svm_loss
from babysit.training.records import encode

finite = st.floats(-50, 50, allow_nan=False)
score_arrays = st.tuples(st.integers(1, 8), st.integers(2, 6)).flatmap(
    lambda nc: st.tuples(arrays(np.float64, nc, elements=finite),
                         arrays(np.int64, nc[0], elements=st.integers(0, nc[1] - 1))))


@given(score_arrays, finite)
def test_softmax_loss_ignores_a_constant_shift(data: tuple, shift: float) -> None:
    scores, y = data
    loss, _ = softmax_loss(scores, y)
    shifted, _ = softmax_loss(scores + shift, y)
    assert loss >= 0 and math.isclose(loss, shifted, rel_tol=1e-9, abs_tol=1e-9)


@given(st.integers(1, 10), st.integers(2, 10))
def test_loss_at_uniform_scores(n: int, c: int) -> None:
    # The lecture's sanity check: equal scores give log(C) (softmax) and C - 1 (SVM, margin 1).
    y = np.arange(n) % c
    assert math.isclose(softmax_loss(np.zeros((n, c)), y)[0], math.log(c))
    assert math.isclose(svm_loss(np.zeros((n, c)), y)[0], c - 1)


@given(arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 5)),
              elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_batchnorm_normalizes_each_feature(x: np.ndarray) -> None:
    d = x.shape[1]
    bn = {"running_mean": np.zeros(d), "running_var": np.ones(d)}
    out, _ = batchnorm_forward(x, np.ones(d), np.zeros(d), bn, train=True)
    spread = x.var(axis=0) > 1.0  # eps = 1e-5 only matters for near-constant features
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(out.var(axis=0)[spread], 1, rtol=1e-4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=6))
def test_encode_is_always_strict_json_on_one_line(record: dict) -> None:
    line = encode(record)
    assert "\n" not in line

    def reject(token: str) -> None:
        raise AssertionError(f"bare {token} in strict JSON")

    json.loads(line, parse_constant=reject)


@settings(max_examples=25)
@given(st.integers(2, 7), st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_spiral_shapes_and_labels(classes: int, points: int, seed: int) -> None:
    x, y = spiral(classes, points, np.random.default_rng(seed))
    assert x.shape == (classes * points, 2) and np.all(np.abs(x) <= 1.0 + 1e-12)
    assert np.array_equal(np.bincount(y, minlength=classes), np.full(classes, points))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
HEADER_KEYS = ["num_classes", "loss_fn", "activation", "dataset", "input_stats", "steps_per_epoch",
               "task", "pretrained", "metrics", "batch_size", "log_every", "source"]


@given(st.dictionaries(st.sampled_from(HEADER_KEYS), json_values, max_size=8))
@settings(max_examples=300, deadline=None)
def test_any_header_gives_usable_facts_or_none(fields: dict) -> None:
    from babysit.diagnostics.engine import Engine
    from babysit.diagnostics.records import Header

    header = Header.of({"type": "header", **fields})
    assert header.classes is None or (isinstance(header.classes, int) and header.classes >= 2)
    assert header.val_size is None or header.val_size >= 1
    assert all(math.isfinite(v) for v in header.input_stats.values())
    assert header.examples_per_loss is None or header.examples_per_loss >= 1
    # and the whole engine takes it: a header of any shape is no reason to fail a diagnosis
    Engine().push_all([{"type": "header", **fields}, {"type": "step", "step": 0, "loss": 1.0},
                       {"type": "step", "step": 1, "loss": 0.9, "val_acc": 0.5}])
