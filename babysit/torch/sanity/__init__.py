"""The lecture's babysitting recipe on your own PyTorch model, before a long run:

    from babysit.torch import sanity_check
    report = sanity_check(model, loss_fn, X, y, optimizer=lambda p: torch.optim.Adam(p, 1e-3),
                          num_classes=10)
    print(report); report.passed; report.checks

Checks, in the recipe's order: the set-up (a forward pass and the loss on a few examples: the
task, labels against the head, the loss's reduction; a set-up error stops the recipe, said in
your terms, never a traceback), the data (centred, scaled, class balance and the majority rate),
the loss at init against log(C) with regularization off, that regularization raises the loss
by a sensible amount, gradient flow to every parameter, the gradient check (float64, a sample
of entries: for custom layers and losses), the init's scale through depth,
overfitting ~20 examples, a learning-rate probe over decades, an input-independent baseline,
and whether the labels follow from the inputs. Causes come before consequences: a training
check that fails after a root cause (a bad init, inputs that do not vary) says it follows from
it, and the verdict names the first cause. The caller's model and optimizer are never changed
(every experiment trains a deep copy) and the RNG state is restored afterwards.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import torch

from babysit.torch.sanity.gradient_check import check_gradients
from babysit.torch.sanity.preflight import NAME as SETUP
from babysit.torch.sanity.preflight import preflight
from babysit.torch.sanity.report import FAIL, PASS, SKIP, WARN, Check, SanityReport
from babysit.torch.sanity.setup import Inputs, Setup, gather, optimizer_factory
from babysit.torch.sanity.static_checks import (
    check_data,
    check_gradient_flow,
    check_init_loss,
    check_init_scale,
    check_regularization,
)
from babysit.torch.sanity.training_checks import (
    check_input_baseline,
    check_labels,
    check_lr_probe,
    check_overfit,
    run_probe,
)
from babysit.torch.values import short_error

__all__ = ["FAIL", "PASS", "SKIP", "WARN", "Check", "SanityReport", "sanity_check"]
MAX_EXAMPLES = 2048  # examples taken from a DataLoader: enough for the held-back label check
# Below this many parameters a CPU step's matrix products take well under a millisecond, and a
# second intra-op thread costs more than it saves: on this project's 2-core machine, with the
# other core busy, the recipe on a 5k-parameter MLP took 17 s on 2 threads and ~3 s on one.
# The caller's thread setting is restored afterwards.
ONE_THREAD_BELOW = 1_000_000
STATIC = (("data", check_data), ("loss at init", check_init_loss),
          ("regularization", check_regularization), ("gradient flow", check_gradient_flow),
          ("gradient check", check_gradients), ("init scale", check_init_scale))
TRAINED = ("overfit small subset", "learning-rate probe", "input-independent baseline",
           "labels follow inputs")  # what follows from a root cause found by the checks above


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; an error inside it is that check's FAIL, not the end of the recipe."""
    try:
        return check()
    except Exception as exc:  # a model that breaks on, say, zeroed inputs
        return Check(name, FAIL, f"could not run: {type(exc).__name__}: {exc}",
                     "Fix the error above (the other checks still ran).")


def sanity_check(model: torch.nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
                 X: Any, y: Any = None, *, optimizer: Any = None, num_classes: int | None = None,
                 reg_loss: Callable[[torch.nn.Module], torch.Tensor] | None = None,
                 max_examples: int = MAX_EXAMPLES) -> SanityReport:
    """Run the recipe on copies of `model` (X, y: a batch, X a tensor or a dict of keyword
    inputs; or X a DataLoader of (x, y) pairs or of dicts holding "labels", and y None;
    loss_fn(scores, y), default cross-entropy, scores being the output or its `.logits`;
    optimizer: a function params -> optimizer, an optimizer to imitate, or None for Adam 1e-3;
    reg_loss(model): an explicit penalty term, if the loss adds one)."""
    start = time.perf_counter()
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    try:
        x, labels = gather(X, y, max_examples)
        x, labels = x.to(device), labels.to(device)
    except Exception as exc:  # strings, ragged lists, a DataLoader of something else
        return _stopped(Check(SETUP, FAIL, f"the data cannot be read: {short_error(exc)}",
                              "Pass X and y as tensors or arrays, or a DataLoader of (inputs, "
                              "labels) pairs."), start)
    cuda = [device.index or 0] if device.type == "cuda" else []
    threads = torch.get_num_threads()
    if device.type == "cpu" and sum(p.numel() for p in model.parameters()) < ONE_THREAD_BELOW:
        torch.set_num_threads(1)
    try:
        return _recipe(model, loss_fn, x, labels, cuda, optimizer, num_classes, reg_loss, start)
    finally:
        torch.set_num_threads(threads)


def _recipe(model: torch.nn.Module, loss_fn: Any, x: Inputs, labels: torch.Tensor,
            cuda: list[int], optimizer: Any, num_classes: int | None, reg_loss: Any,
            start: float) -> SanityReport:
    """The checks in order, with the RNG state restored afterwards."""
    loss_fn = loss_fn or torch.nn.functional.cross_entropy
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(0)
        with torch.no_grad():
            setup, task = preflight(copy.deepcopy(model).train(), loss_fn, x, labels, num_classes)
        if task is None:
            return _stopped(setup, start)
        s = Setup(model, loss_fn, x, labels, optimizer_factory(optimizer), task.classes, reg_loss,
                  summed=task.summed, regression=task.regression,
                  chosen_optimizer=optimizer is not None)
        checks = [setup] + [_guarded(name, lambda c=check: c(s)) for name, check in STATIC]
        probe = run_probe(s)
        overfit = [False]

        def overfit_check() -> Check:
            check, overfit[0] = check_overfit(s, probe)
            return check

        checks.append(_guarded("overfit small subset", overfit_check))
        checks.append(_guarded("learning-rate probe", lambda: check_lr_probe(s, probe)))
        checks.append(_guarded("input-independent baseline", lambda: check_input_baseline(s, probe)))
        checks.append(_guarded("labels follow inputs", lambda: check_labels(s, probe, overfit[0])))
    report = SanityReport(checks, time.perf_counter() - start)
    report.link_causes(TRAINED)
    return report


def _stopped(setup: Check, start: float) -> SanityReport:
    """The report of a recipe that could not start: the set-up error, every other check not run."""
    rest = [name for name, _ in STATIC] + list(TRAINED)
    return SanityReport([setup, *(Check(name, SKIP, f"not run: the {SETUP} check failed")
                                  for name in rest)], time.perf_counter() - start)
