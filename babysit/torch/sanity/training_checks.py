"""The checks that train copies of the model briefly: overfit a tiny subset, the learning-rate
probe, the input-independent baseline, whether the labels follow from the inputs. Each run is
seeded, works on a deep copy with an optimizer like the user's, and is short (tens to a few
hundred steps of at most 32 examples), so the whole recipe takes seconds on a CPU."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from babysit.sanity.checks import (
    BASELINE_MARGIN,
    OVERFIT_EXAMPLES,
    OVERFIT_LOSS,
    PROBE_FLAT,
    PROBE_RATES,
    probe_verdict,
)
from babysit.torch.layers import find_layers
from babysit.torch.sanity.report import FAIL, PASS, SKIP, WARN, Check
from babysit.torch.sanity.setup import Inputs, Setup, dead_fraction_of, hidden_activations
from babysit.torch.sanity.static_checks import MAX_DEAD, probabilities
from babysit.torch.values import short_error

OVERFIT_STEPS = 300  # full-batch steps to memorize 20 examples (Adam at 1e-3 needs ~100-200)
# A regression has fitted 20 examples when its loss is 1% of predicting their mean: for MSE
# that is R^2 = 0.99 on the subset, the regression's "100% accuracy".
REGRESSION_FIT = 0.01
PROBE_STEPS, BATCH, PROBE_EXAMPLES = 40, 32, 256  # per rate: fifths of 8 minibatches each
BASELINE_STEPS = 60
LABEL_STEPS, LABEL_MIN = 150, 100  # a short fit on 80% of at least 100 examples
NOTHING_LEARNED = "not run: no learning rate made the loss go down in the probe: no run to compare"
Z = 3.0  # held-back accuracy must beat the majority rate by 3 standard errors (as overfitting)


def _fifths(losses: list[float]) -> tuple[float, float]:
    k = max(1, len(losses) // 5)
    head, tail = losses[:k], losses[-k:]
    mean = lambda v: sum(v) / len(v) if v and all(math.isfinite(x) for x in v) else math.inf  # noqa: E731
    return mean(head), mean(tail)


@dataclass
class Probe:
    """The learning-rate probe's rows and what they say."""

    rows: list[dict[str, Any]]
    error: str | None = None  # why the probe could not run (the model failed to train)

    def verdict_at(self, lr: float) -> str | None:
        """The verdict of the probe rate nearest `lr` (within a factor of ~3), if any."""
        near = [r for r in self.rows if abs(math.log10(r["lr"]) - math.log10(lr)) <= 0.5]
        return near[0]["verdict"] if near else None

    @property
    def best(self) -> float | None:
        """The learning rate whose run ended lowest, among those that learned."""
        learning = [r for r in self.rows if r["verdict"] == "learning"]
        return min(learning, key=lambda r: r["final_loss"])["lr"] if learning else None


def run_probe(s: Setup) -> Probe:
    """Short runs at 1e-6 .. 1e1 from the same init, the user's optimizer at each rate; a
    model that fails to train gives a probe that says why."""
    try:
        return Probe(_probe_rows(s))
    except Exception as exc:  # the model's own error in backward or in the optimizer
        return Probe([], f"training a copy raised {short_error(exc)}")


def _probe_rows(s: Setup) -> list[dict[str, Any]]:
    x, y = s.x[:PROBE_EXAMPLES], s.y[:PROBE_EXAMPLES]
    rows = []
    for lr in PROBE_RATES:
        torch.manual_seed(0)
        model = s.fresh()
        losses = s.train(model, s.optimizer(model, lr=lr), x, y, PROBE_STEPS, BATCH)
        first, tail = _fifths(losses)
        diverged = len(losses) < PROBE_STEPS  # stopped at a non-finite loss
        rows.append({"lr": lr, "initial_loss": losses[0], "first_fifth": first, "final_loss": tail,
                     "verdict": probe_verdict(losses[0], first, tail, diverged)})
    return rows


def check_lr_probe(s: Setup, probe: Probe) -> Check:
    """Where the loss goes down, and a starting rate."""
    if probe.error is not None:
        return Check("learning-rate probe", FAIL, f"could not run: {probe.error}",
                     "Fix the error above: the model cannot be trained as it is.")
    user = s.base_lr(s.make_optimizer(s.fresh().parameters()))
    table = " ".join(f"{r['lr']:.0e}:{r['verdict'][0]}" for r in probe.rows)
    learning = [r["lr"] for r in probe.rows if r["verdict"] == "learning"]
    numbers: dict[str, Any] = {"probe": probe.rows, "your_lr": user if s.chosen_optimizer else None,
                               "evidence": f"no rate makes the loss go down ({table})"}
    if not learning:
        return Check("learning-rate probe", FAIL, numbers["evidence"],
                     "Check the loss, the labels and that the optimizer steps the model's "
                     "parameters: the loss falls at no learning rate.", numbers)
    lo, hi, best = learning[0], learning[-1], probe.best
    high = [r["lr"] for r in probe.rows if r["verdict"] in ("exploded", "rising") and r["lr"] > hi]
    numbers.update({"range": [lo, hi], "best": best, "explodes_from": min(high) if high else None})
    what = f"learns at {lo:.0e}..{hi:.0e} (best {best:.0e})" + \
        (f", explodes from {min(high):.0e}" if high else "") + f" ({table})"
    numbers["evidence"] = what
    if not s.chosen_optimizer:  # no rate of the user's to judge: say where to start
        return Check("learning-rate probe", PASS, f"{what}; no optimizer given, so Adam was "
                     f"probed: start from lr={best:g}", numbers=numbers)
    if lo <= user <= hi * 3:
        return Check("learning-rate probe", PASS, f"{what}; your lr {user:g} is inside",
                     numbers=numbers)
    side = "too high" if user > hi else "too low"
    return Check("learning-rate probe", WARN, f"{what}; your lr {user:g} is {side}",
                 f"Start from lr={best:g} (and search around it on a log scale).", numbers)


def dead_fraction(model: torch.nn.Module, x: Inputs) -> float:
    """The largest fraction of ReLU units that output 0 for every example of x."""
    relus = [w for w in find_layers(model) if w.activation == "relu"]
    acts = hidden_activations(model, x, relus)
    return max((dead_fraction_of(w, acts[w.name]) for w in relus if w.name in acts), default=0.0)


def _mean_guess_loss(s: Setup, y: torch.Tensor) -> float:
    """A regression's loss when every prediction is the targets' mean: what "fitted" is
    measured against, on the loss's own scale (MSE, L1, Huber alike)."""
    with torch.no_grad():
        guess = y.float().mean(0, keepdim=True).expand_as(y).to(y.dtype)
        return s.per_example(float(s.loss_fn(guess, y)), len(y))


def check_overfit(s: Setup, probe: Probe) -> tuple[Check, bool]:
    """Regularization off, ~20 examples must be memorized (a classifier: 100%, loss near 0; a
    regression: a loss 1% of the mean guess's); when they are not, the evidence says why.
    Returns the check and whether the model memorized."""
    n = min(OVERFIT_EXAMPLES, len(s.y))
    x, y = s.x[:n], s.y[:n]
    torch.manual_seed(0)
    model = s.fresh()
    opt = s.optimizer(model)
    user = s.base_lr(opt)
    if s.regression:
        floor = REGRESSION_FIT * _mean_guess_loss(s, y)
        losses = s.train(model, opt, x, y, OVERFIT_STEPS, n, stop=lambda step, loss: loss <= floor)
        fitted = math.isfinite(losses[-1]) and losses[-1] <= floor
        what = (f"{n} examples: loss {losses[-1]:.3g} after {len(losses)} steps, "
                f"{losses[-1] / max(floor / REGRESSION_FIT, 1e-30):.1e} of the mean guess's")
        acc = 1.0 if fitted else 0.0
    else:
        losses = s.train(model, opt, x, y, OVERFIT_STEPS, n, stop=lambda step, loss: step % 10 == 9
                         and loss < OVERFIT_LOSS and s.accuracy(model, x, y) == 1.0)
        acc = s.accuracy(model, x, y) if math.isfinite(losses[-1]) else 0.0
        fitted = acc == 1.0 and losses[-1] < OVERFIT_LOSS
        what = f"{n} examples: {100 * acc:.0f}% accuracy, loss {losses[-1]:.3g} after {len(losses)} steps"
    numbers = {"examples": n, "steps": len(losses), "train_acc": acc, "loss": losses[-1],
               "evidence": what}
    if fitted:
        return Check("overfit small subset", PASS, what, numbers=numbers), True
    first, tail = _fifths(losses)
    best = probe.best
    lower = f"lr={best:g}" if best is not None and best < user else f"lr={user / 10:g}"
    higher = f"lr={best:g}" if best is not None and best > user else f"lr={user * 10:g}"
    dead = dead_fraction(model, x) if math.isfinite(losses[-1]) else 0.0
    numbers["dead_frac"] = dead
    with torch.no_grad():
        outputs = x(model)
    if acc == 1.0 and not s.regression and probabilities(outputs):
        cause = "every example right, but the loss cannot approach 0: it is computed on probabilities"
        advice = "Return logits from forward (see loss at init)."
    elif dead_fraction(s.fresh(), x) > MAX_DEAD:  # dead before any update: the init, not the rate
        cause = "the ReLUs are dead from the start, so nothing moves"
        advice = "Fix the init first (see init scale and gradient flow)."
    elif not math.isfinite(tail) or max(losses) > 2 * losses[0] or \
            probe.verdict_at(user) in ("exploded", "rising"):
        cause, advice = "learning rate too high (the loss blew up)", f"Lower it: {lower}."
    elif dead > MAX_DEAD and (first - tail) < PROBE_FLAT * first:
        cause = f"learning rate too high: {100 * dead:.0f}% of the ReLUs died, so nothing moves"
        advice = f"Lower it: {lower} (then check that the ReLUs stay alive)."
    elif (first - tail) < PROBE_FLAT * first:
        cause, advice = "learning rate too low (the loss barely moved)", f"Raise it: {higher}."
    elif tail < 0.8 * first and losses[-1] < losses[-max(2, len(losses) // 5)]:
        cause, advice = "learning rate too low (the loss still falls at the end)", \
            f"Raise it: {higher}."
    else:
        cause = "likely a bug (the loss stopped falling above 0)"
        advice = ("Twenty examples fit any model of reasonable size: check that the labels "
                  "match the inputs, the loss function and its inputs (logits, not "
                  "probabilities), and that the optimizer holds the model's parameters.")
    numbers["cause"] = cause
    return Check("overfit small subset", FAIL, f"{what}: {cause}", advice, numbers), False


def _rate(probe: Probe) -> tuple[float, str]:
    """The probe's best rate, said so: these checks ask about the data and the model, so they
    train at a rate that learns within their few steps (never the user's rate or L2)."""
    assert probe.best is not None  # the callers skip when no rate learned
    return probe.best, f" (at the probe's best lr, {probe.best:g})"


def check_input_baseline(s: Setup, probe: Probe) -> Check:
    """The same short run with every input zeroed ends clearly worse than with real inputs,
    at the probe's best rate (skipped when no rate learned: two flat runs tell nothing)."""
    if probe.best is None:
        return Check("input-independent baseline", SKIP, NOTHING_LEARNED)
    lr, note = _rate(probe)
    x, y = s.x[:PROBE_EXAMPLES], s.y[:PROBE_EXAMPLES]
    tails = []
    for inputs in (x, x.zeros()):
        torch.manual_seed(0)
        model = s.fresh()
        tails.append(_fifths(s.train(model, s.optimizer(model, lr=lr), inputs, y,
                                     BASELINE_STEPS, BATCH))[1])
    real, blind = tails
    what = f"final loss {real:.3g} with real inputs, {blind:.3g} with zeroed inputs{note}"
    numbers = {"loss_real_inputs": real, "loss_zero_inputs": blind, "lr": lr, "evidence": what}
    if not math.isfinite(real):
        return Check("input-independent baseline", SKIP, what + ": the run diverged, so it "
                     "cannot tell", "Lower the learning rate first.", numbers)
    if real < BASELINE_MARGIN * blind:
        return Check("input-independent baseline", PASS, what, numbers=numbers)
    return Check("input-independent baseline", FAIL, what + ": the model does not use its input",
                 "Check that the inputs reach the model (the right tensor, not overwritten by "
                 "preprocessing) and that the learning rate lets it learn.", numbers)


def check_labels(s: Setup, probe: Probe, memorized: bool) -> Check:
    """A short fit on 80% of the examples predicts the held-back 20% above the majority rate."""
    n = len(s.y)
    if s.classes is None or s.y.is_floating_point() or n < LABEL_MIN:
        return Check("labels follow inputs", SKIP, f"needs a classifier and at least {LABEL_MIN} "
                     f"examples (got {n})", "Pass a DataLoader or more examples.")
    if probe.best is None:
        return Check("labels follow inputs", SKIP, NOTHING_LEARNED)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0)).to(s.y.device)
    cut = int(0.8 * n)
    fit, held = order[:cut], order[cut:]
    lr, note = _rate(probe)
    torch.manual_seed(0)
    model = s.fresh()
    s.train(model, s.optimizer(model, lr=lr), s.x[fit], s.y[fit], LABEL_STEPS, BATCH)
    acc = s.accuracy(model, s.x[held], s.y[held])
    fit_acc = s.accuracy(model, s.x[fit], s.y[fit])
    counts = torch.bincount(s.y[held].reshape(-1).long(), minlength=s.classes)
    majority = float(counts.max()) / len(held)
    bar = majority + Z * math.sqrt(majority * (1 - majority) / len(held))
    what = (f"{100 * acc:.1f}% on {len(held)} held-back examples after a short fit, "
            f"majority class {100 * majority:.1f}%{note}")
    numbers = {"held_back_acc": acc, "fit_acc": fit_acc, "majority_rate": majority, "bar": bar,
               "held_back": len(held), "evidence": what}
    if acc > bar:
        return Check("labels follow inputs", PASS, what, numbers=numbers)
    if memorized:
        return Check("labels follow inputs", FAIL, what + ": the model memorizes but does not "
                     "generalize, the signature of shuffled or misaligned labels (or of a task "
                     "that nothing is learned of in 150 steps)",
                     "Check that labels and inputs are paired (the same order, the same "
                     "augmentation / shuffling applied to both).", numbers)
    return Check("labels follow inputs", WARN, what + ": not above the majority rate (the model "
                 "did not learn the subset either, so this cannot tell)",
                 "Fix the failing checks above first.", numbers)
