"""The set-up check of `babysit.torch.sanity_check`: what must hold before any other check can
run, said in the user's terms instead of a traceback. One forward pass and one loss on a few
examples tell the task (a C-class classifier, one binary logit, a regression) and the loss's
reduction; inputs the model cannot take, labels outside the head, a `num_classes` that
disagrees with either, and a loss that is not one number are set-up errors, each with its fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from babysit.torch.sanity.report import FAIL, PASS, WARN, Check
from babysit.torch.sanity.setup import Inputs
from babysit.torch.values import short_error

NAME = "set-up"
FIRST = 8  # examples in the first forward pass: enough to tell a summed loss from a mean
IGNORE_INDEX = -100  # CrossEntropyLoss's default ignore_index: masked labels, not classes
# With at least this many examples per score, a class that never appears among the labels is
# no accident of sampling (a class of 1/C of the data is missing from 5C examples with
# probability (1 - 1/C)^(5C) < e^-5 < 1%).
PER_CLASS = 5


@dataclass
class Task:
    """What the first forward pass says about the model and its loss."""

    classes: int | None  # C for a classifier, 2 for one binary logit, None otherwise
    regression: bool  # float targets of the output's shape: judged by the loss, not accuracy
    summed: bool  # the loss is summed over the batch (reduction='sum'): per example = loss / n


def _fail(message: str, advice: str) -> tuple[Check, None]:
    return Check(NAME, FAIL, message, advice), None


def forward_error(exc: Exception, model: torch.nn.Module, x: Inputs) -> tuple[str, str]:
    """(what went wrong, the fix) for a forward pass that raised."""
    text = str(exc)
    weights = next((p for p in model.parameters() if p.is_floating_point()), None)
    data = x.data if isinstance(x.data, torch.Tensor) else None
    if "more than 1 value per channel" in text:
        return ("batch norm cannot normalize a single example in training mode",
                "Give at least 2 examples (a batch of one cannot be normalized); in your own "
                "loop, drop_last=True on the DataLoader avoids a last batch of one.")
    if data is not None and weights is not None and not data.is_floating_point() and \
            ("dtype" in text or "scalar type" in text):
        return (f"the inputs are {data.dtype} and the model's weights {weights.dtype}",
                "Convert the inputs: X.float() (class or token ids go through nn.Embedding "
                "first).")
    if "shape" in text or "size" in text:
        shape = f" of shape {tuple(data.shape)}" if data is not None else ""
        return (f"the model cannot take the inputs{shape}: {short_error(exc)}",
                "Make the first layer's input size match the data (e.g. nn.Linear(in_features="
                f"{data.shape[1] if data is not None and data.dim() == 2 else '...'}, ...)).")
    return f"the model's forward raised {short_error(exc)}", "Fix the error in forward."


def _labels(out: torch.Tensor, y: torch.Tensor, n: int, num_classes: int | None) -> Check | None:
    """A set-up error or warning about class labels against the head, or None when they fit."""
    width = int(out.shape[1])
    real = y[y != IGNORE_INDEX]
    if real.numel() == 0:
        return None
    lo, hi = int(real.min()), int(real.max())
    if lo < 0:
        return Check(NAME, FAIL, f"labels include {lo}: class labels are 0..C-1",
                     "Map the labels to 0..C-1 (ignore_index=-100 masks an example).")
    if hi >= width:
        if lo >= 1 and hi == width:
            return Check(NAME, FAIL, f"labels run {lo}..{hi} but the model's {width} scores are "
                         f"classes 0..{width - 1}: the labels look 1-based", "Use y - 1 (labels "
                         "0..C-1), as CrossEntropyLoss expects.")
        return Check(NAME, FAIL, f"labels go up to {hi} but the model outputs {width} scores "
                     f"(classes 0..{width - 1})", f"Give the last layer {hi + 1} outputs "
                     f"(nn.Linear(..., {hi + 1})), one per class.")
    if num_classes is not None and hi >= num_classes:
        return Check(NAME, FAIL, f"num_classes={num_classes} but the labels go up to {hi}",
                     f"Pass num_classes={max(hi + 1, width)} (the number of classes, labels "
                     "0..C-1).")
    if num_classes is not None and num_classes != width:
        return Check(NAME, FAIL, f"num_classes={num_classes} but the model outputs {width} "
                     "scores per example", "Make them agree: one output per class.")
    if lo >= 1 and n >= PER_CLASS * width and not bool((real == 0).any()):
        return Check(NAME, WARN, f"class 0 never appears among {n} labels (they run {lo}..{hi}): "
                     f"1-based labels, with score 0 never a target", f"Use y - 1 and a "
                     f"{hi}-wide last layer: the head's extra class changes log(C) and chance.")
    return None


def preflight(model: torch.nn.Module, loss_fn: object, x: Inputs, y: torch.Tensor,
              num_classes: int | None) -> tuple[Check, Task | None]:
    """The set-up check and, when it does not fail, the task it found."""
    n = len(y)
    if len(x) != n:
        return _fail(f"X holds {len(x)} examples and y {n}", "Give one label per example.")
    if n == 0:
        return _fail("no examples: X and y are empty", "Pass a batch (or a DataLoader) with "
                     "examples in it.")
    k = min(n, FIRST)
    try:
        out = x[:k](model)
    except Exception as exc:  # the model's own error, whatever its kind
        what, fix = forward_error(exc, model, x)
        return _fail(what, fix)
    label_check = None
    classifier = out.dim() == 2 and out.shape[1] >= 2 and y.dim() == 1 and not y.is_floating_point()
    if classifier:
        label_check = _labels(out, y, n, num_classes)
        if label_check is not None and label_check.status == FAIL:
            return label_check, None
    try:
        whole = loss_fn(out, y[:k])  # type: ignore[operator]
    except Exception as exc:
        return _fail(f"loss_fn(scores, y) raised {short_error(exc)} on scores of shape "
                     f"{tuple(out.shape)} and y of shape {tuple(y.shape)}",
                     "Pass the loss for this output (and labels of the shape it expects).")
    if not isinstance(whole, torch.Tensor) or whole.numel() != 1:
        shape = tuple(whole.shape) if isinstance(whole, torch.Tensor) else type(whole).__name__
        return _fail(f"the loss is not one number (it is {shape}): reduction='none'?",
                     "Pass loss_fn=lambda scores, y: your_loss(scores, y).mean().")
    summed = k >= 2 and _summed(loss_fn, out, y[:k], float(whole))
    regression = y.is_floating_point() and out.shape == y[:k].shape and not _binary(out, y)
    classes = num_classes if num_classes is not None else (
        int(out.shape[1]) if classifier else 2 if _binary(out, y) else None)
    task = Task(classes, regression, summed)
    kind = f"a classifier of {classes} classes" if (classes and classes > 2) or classifier else \
        "a binary classifier" if classes == 2 else "a regression" if regression else \
        f"outputs of shape {tuple(out.shape[1:])}"
    said = f"{kind}, {n} examples, the loss {'summed' if summed else 'averaged'} over the batch"
    if label_check is not None:
        return Check(NAME, WARN, f"{said}; {label_check.message}", label_check.advice), task
    if summed:
        return Check(NAME, WARN, f"{said} (reduction='sum'): its size and the step it takes grow "
                     "with the batch size; the checks below read it per example",
                     "Use reduction='mean' (the default), so the learning rate does not depend "
                     "on the batch size."), task
    return Check(NAME, PASS, said), task


def _binary(out: torch.Tensor, y: torch.Tensor) -> bool:
    """One logit per example and 0/1 targets."""
    return out.shape[-1] == 1 and bool(((y == 0) | (y == 1)).all())


def _summed(loss_fn: object, out: torch.Tensor, y: torch.Tensor, whole: float) -> bool:
    """Whether the loss of a batch is the sum of its examples' losses, not their mean."""
    try:
        parts = [float(loss_fn(out[i:i + 1], y[i:i + 1])) for i in range(len(y))]  # type: ignore[operator]
    except Exception:  # a loss that needs the whole batch (contrastive): cannot tell, say mean
        return False
    total = sum(parts)
    mean = total / len(parts)
    if not (math.isfinite(total) and math.isfinite(whole)) or abs(total - mean) < 1e-9:
        return False
    return abs(whole - total) < abs(whole - mean)
