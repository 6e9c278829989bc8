"""Classification losses: softmax cross-entropy and multiclass SVM, each returning (loss, dscores)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from babysit.nn.layers import Array


def softmax_loss(scores: Array, y: Array) -> tuple[float, Array]:
    """Mean cross-entropy of softmax(scores) (N, C) against labels y (N,); also dscores (N, C)."""
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)  # stable: exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -float(log_probs[rows, y].mean())
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    dscores *= 1.0 / n
    return loss, dscores


def svm_loss(scores: Array, y: Array, delta: float = 1.0) -> tuple[float, Array]:
    """Mean multiclass hinge loss sum_j max(0, s_j - s_y + delta); also dscores (N, C)."""
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None] + delta
    margins[rows, y] = 0.0
    positive = margins > 0
    loss = float(np.where(positive, margins, 0.0).sum() / n)
    dscores = positive.astype(scores.dtype)
    dscores[rows, y] = -positive.sum(axis=1)
    dscores *= 1.0 / n
    return loss, dscores


def svm_kink_side(scores: Array, y: Array, delta: float = 1.0) -> Array:
    """Which hinge terms are active; the SVM loss has a kink wherever one switches."""
    return scores - scores[np.arange(len(y)), y][:, None] + delta > 0


def softmax_probs(scores: Array) -> Array:
    """Class probabilities from scores (N, C), row-wise softmax."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


LOSSES: dict[str, Callable[[Array, Array], tuple[float, Array]]] = {
    "softmax": softmax_loss,
    "svm": svm_loss,
}
