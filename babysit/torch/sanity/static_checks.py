"""The checks that need one forward (and backward) pass, no training: the data, the loss at
init, regularization, gradient flow, the init's scale through depth. Thresholds are the ones
`babysit sanity-check` and the rules use, read from where they are defined."""

from __future__ import annotations

import math

import torch

from babysit.diagnostics.inputs import judge_inputs
from babysit.diagnostics.rules import RULES_BY_ID
from babysit.sanity.checks import INIT_PASS_EXCESS, INIT_WARN_EXCESS, MIN_CLASS_RATIO
from babysit.torch.layers import Watched, find_layers
from babysit.torch.records import tensor_input_stats
from babysit.torch.sanity.report import FAIL, PASS, SKIP, WARN, Check
from babysit.torch.sanity.setup import Setup, dead_fraction_of, hidden_activations

BATCH = 256  # examples for the one-pass checks
# A loss this far below log C, with accuracy above chance, is a model that already knows the
# task (a fine-tune from trained weights): the loss-at-init check is for a fresh init.
TRAINED_RATIO = RULES_BY_ID["loss-at-init"].thresholds["min_ratio"]
MAX_DEAD = RULES_BY_ID["dead-relu"].thresholds["max_dead"]
MAX_SATURATED = RULES_BY_ID["saturated-activations"].thresholds["max_saturated"]
INIT_COLLAPSE = RULES_BY_ID["vanishing-activations"].thresholds["init_ratio"]  # 10x through depth
# Reg term / data loss at init. Below 1e-5 the penalty's gradient (lambda w, of the same order
# as the penalty / |w|) is 1e-5 of the data gradient's: it cannot change what the net learns.
# Above 1 the net fits the penalty first (issue 23: L2 99 against a data loss of 1.3).
REG_RATIO = (1e-5, 1.0)
# Scores through a ReLU are 0 for about half of the examples at init; logits are exactly 0
# almost never. A tenth leaves room for a head whose ReLU happens to be mostly on.
CLIPPED = 0.1


def init_advice(activation: str | None) -> str:
    """The lecture's init for an activation, in torch's terms."""
    if activation in ("tanh", "sigmoid", "hardtanh", "softplus"):
        return "nn.init.xavier_normal_(layer.weight) (Xavier, for tanh / sigmoid)"
    return "nn.init.kaiming_normal_(layer.weight, nonlinearity='relu') (He, for the ReLU family)"


def probabilities(out: torch.Tensor) -> bool:
    """Whether a classifier's outputs are probabilities (rows >= 0 summing to 1), not logits."""
    if out.dim() < 2 or out.shape[-1] < 2:
        return False
    rows = out.detach().float().reshape(-1, out.shape[-1])
    return bool((rows >= 0).all()) and float((rows.sum(1) - 1).abs().max()) < 1e-3


def clipped_below(out: torch.Tensor) -> float | None:
    """The fraction of a classifier's scores that are exactly 0 when none is negative (scores
    through a ReLU: at init about half are 0); None for scores that are logits."""
    if out.dim() < 2 or out.shape[-1] < 2:
        return None
    scores = out.detach().float()
    zero = float((scores == 0).float().mean())
    return zero if bool((scores >= 0).all()) and zero >= CLIPPED else None


def check_data(s: Setup) -> Check:
    """Inputs centred and scaled (per feature, per channel for images); class balance."""
    x = s.x.features()
    if x is None:  # token ids: nothing to centre or scale
        return Check("data", SKIP, f"{len(s.y)} examples; the inputs are not floating point")
    if len(x) < 2:
        return Check("data", SKIP, f"{len(x)} example: too few to measure the inputs' spread")
    stats = tensor_input_stats(x)
    if stats["std_max"] == 0:
        return Check("data", FAIL, f"{len(s.y)} examples, and every input is the same: the model "
                     "cannot tell them apart, so it can learn nothing but the class frequencies",
                     "Check the data pipeline: the inputs should differ (a transform or an "
                     "index that returns one example for all, a constant fill, features dropped).",
                     {"constant_features": int(stats["constant_features"])}, root=True,
                     explains=("init scale",))  # units dead for one input are dead for all
    verdict = judge_inputs(stats)  # the lines the rules draw
    ratio = verdict.mean_over_std if verdict.mean_over_std is not None else math.inf
    numbers: dict = {"mean_abs_over_std": ratio, "rms": verdict.rms,
                     "constant_features": verdict.constant}
    problems = verdict.problems()
    what = f"{len(s.y)} examples"
    if s.classes is not None and s.classes >= 2 and not s.y.is_floating_point():
        counts = torch.bincount(s.y.reshape(-1).long(), minlength=s.classes)
        majority = float(counts.max()) / max(1, int(counts.sum()))
        numbers.update({"class_counts": counts.tolist(), "majority_rate": majority,
                        "chance": 1.0 / s.classes})
        what += f", majority class {100 * majority:.1f}% (chance {100 / s.classes:.1f}%)"
        present = counts[counts > 0]
        if len(present) and present.min() < MIN_CLASS_RATIO * present.max():
            problems.append(f"imbalanced classes ({int(present.min())} vs {int(present.max())}): "
                            f"judge accuracy against {100 * majority:.1f}%, not chance")
    if problems:
        return Check("data", WARN, f"{what}; inputs {'; '.join(problems)}",
                     "Standardize the inputs per feature ((x - mean) / std over the training "
                     "set; per channel for images, e.g. transforms.Normalize); weight or resample "
                     "rare classes.", numbers,
                     root=any(p.startswith(("not centered", "not scaled")) for p in problems))
    return Check("data", PASS, f"{what}; inputs centered and scaled (|mean|/std {ratio:.2f}, "
                 f"RMS {verdict.rms:.2g})", numbers=numbers)


def check_init_loss(s: Setup) -> Check:
    """The loss at init, regularization off, is near log(C); a softmax before the loss, an
    output layer or inputs too large are named; a trained model is not judged."""
    model = s.fresh()
    x, y = s.x[:BATCH], s.y[:BATCH]
    with torch.no_grad():
        out = x(model)
        loss = s.per_example(float(s.loss_fn(out, y)), len(y))
    if s.classes is None:
        return Check("loss at init", SKIP, f"initial loss {loss:.4g}; not a classifier babysit "
                     "recognises, so there is no log(C) to compare with", "Pass num_classes= "
                     "for a classifier.", {"loss": loss})
    expected = math.log(s.classes)
    numbers = {"loss": loss, "expected": expected, "logit_std": float(out.float().std())}
    per = " per example" if s.summed else ""
    what = f"initial loss {loss:.3f}{per}, expected {expected:.3f} = log({s.classes})"
    if probabilities(out):
        return Check("loss at init", FAIL, what + "; the model outputs probabilities (rows >= 0 "
                     "summing to 1), so the loss can never approach 0",
                     "Return logits from forward: drop the softmax before CrossEntropyLoss, "
                     "which applies log-softmax itself (use softmax only to report "
                     "probabilities).", numbers, root=True)
    clipped = clipped_below(out)
    if clipped is not None:
        return Check("loss at init", FAIL, what + f"; every score is >= 0 and {100 * clipped:.0f}% "
                     "are exactly 0: the scores pass through a ReLU, so a wrong class can never "
                     "be scored below 0 and a score stuck at 0 gets no gradient",
                     "Drop the activation after the last layer: the loss takes raw scores "
                     "(logits), negative ones included.", numbers, root=True)
    acc = s.accuracy(model, x, y)
    if math.isfinite(loss) and loss < TRAINED_RATIO * expected and acc > 2.0 / s.classes:
        return Check("loss at init", SKIP, f"{what}: the model starts from trained weights "
                     f"(accuracy {100 * acc:.0f}%), so the check for a fresh init does not apply",
                     numbers=numbers)
    excess = loss - expected
    if math.isfinite(loss) and excess <= INIT_PASS_EXCESS:
        return Check("loss at init", PASS, what, numbers=numbers)
    features = x.features()
    rms = float(features.pow(2).mean().sqrt()) if features is not None else 0.0
    if judge_inputs({"rms": rms}).too_large:
        cause = f"the inputs are not scaled (RMS {rms:.3g})"
        advice = "Standardize the inputs ((x - mean) / std per feature or channel)."
    else:
        cause = f"the outputs start large (logit std {numbers['logit_std']:.3g})"
        advice = ("Scale the init to the layer (nn.init.kaiming_normal_ / xavier_normal_) and "
                  "start the output layer small (e.g. nn.init.normal_(out.weight, std=0.01)).")
    status = FAIL if not math.isfinite(loss) or excess > INIT_WARN_EXCESS else WARN
    return Check("loss at init", status, f"{what}: {cause}", advice, numbers, root=True)


def _penalty(s: Setup, model: torch.nn.Module) -> tuple[torch.Tensor | None, str]:
    """The regularization term at init and what it is: the user's penalty, or the L2 term an
    optimizer's (coupled) weight decay stands for; None when there is no loss term."""
    if s.reg_loss is not None:
        return s.reg_loss(model).detach().float().reshape(()), "the penalty term you passed"
    opt = s.make_optimizer(model.parameters())
    decoupled = isinstance(opt, torch.optim.AdamW) or any(
        g.get("decoupled_weight_decay") for g in opt.param_groups)
    terms = [0.5 * float(g.get("weight_decay") or 0) * sum(float(p.detach().float().pow(2).sum())
                                                            for p in g["params"])
             for g in opt.param_groups]
    decay = max(float(g.get("weight_decay") or 0) for g in opt.param_groups)
    if decay == 0:
        return None, "none"
    if decoupled:
        return None, f"decoupled weight decay {decay:g}"
    return torch.tensor(sum(terms)), f"weight decay {decay:g} (L2 term wd/2 |w|^2)"


def check_regularization(s: Setup) -> Check:
    """Regularization raises the loss at init, by a noticeable but not dominant amount."""
    model = s.fresh()
    with torch.no_grad():
        data = float(s.loss(model, s.x[:BATCH], s.y[:BATCH]))
        term, what = _penalty(s, model)
    if term is None:
        note = "no regularization term to check" if what == "none" else \
            f"{what}: not a loss term (it shrinks the weights by lr x wd each step)"
        return Check("regularization", SKIP, note, numbers={"data_loss": data})
    reg = float(term)
    ratio = reg / data if data > 0 else math.inf
    numbers = {"data_loss": data, "reg_loss": reg, "ratio": ratio}
    said = f"{what}: +{reg:.3g} on a data loss of {data:.3g} ({ratio:.1e} of it)"
    if not math.isfinite(reg) or reg <= 0:
        return Check("regularization", FAIL, f"{what} adds {reg:.3g} to the loss",
                     "The penalty is not added (or the weights are all zero).", numbers)
    if ratio < REG_RATIO[0]:
        return Check("regularization", WARN, said + ": too weak to change anything",
                     "Raise it (10x-1000x) or drop it.", numbers)
    if ratio > REG_RATIO[1]:
        return Check("regularization", WARN, said + ": it dominates the loss, the model will "
                     "fit the penalty rather than the data", "Lower it 10-100x.", numbers)
    return Check("regularization", PASS, said, numbers=numbers)


def check_gradient_flow(s: Setup) -> Check:
    """One backward pass: every trainable parameter gets a finite, non-zero gradient."""
    model = s.fresh()
    loss = s.loss(model, s.x[:BATCH], s.y[:BATCH])
    loss.backward()
    named = list(model.named_parameters())
    unused = [n for n, p in named if p.requires_grad and p.grad is None]
    bad = [n for n, p in named if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
    zero = [n for n, p in named if p.grad is not None and n not in bad and not bool(p.grad.any())]
    frozen = [n for n, p in named if not p.requires_grad]
    trainable = len(named) - len(frozen)
    numbers = {"parameters": len(named), "unused": unused, "nonfinite": bad, "zero": zero,
               "frozen": frozen}
    if bad:
        return Check("gradient flow", FAIL, f"non-finite gradient in {', '.join(bad[:4])}",
                     "A NaN/inf in the backward pass: look for log(0), sqrt(0), a division by "
                     "zero in the layers above.", numbers, root=True)
    if unused:
        return Check("gradient flow", FAIL, f"no gradient reaches {', '.join(unused[:4])}"
                     f"{' ...' if len(unused) > 4 else ''}: not used in forward",
                     "A layer left out of forward (or its output detached): use it or remove "
                     "it (unused parameters also stop DDP unless find_unused_parameters=True).",
                     numbers, root=True)
    if zero:
        return Check("gradient flow", FAIL, f"zero gradient on {', '.join(zero[:4])}"
                     f"{' ...' if len(zero) > 4 else ''}",
                     "Nothing flows back there: weights initialized to zero (use "
                     "nn.init.kaiming_normal_), every unit dead, or a detached path.", numbers, root=True)
    if frozen:
        return Check("gradient flow", WARN, f"{len(frozen)} of {len(named)} parameter tensors "
                     f"are frozen (requires_grad=False): {', '.join(frozen[:4])}",
                     "They will not train: set requires_grad=True unless you froze them on "
                     "purpose (a pretrained backbone).", numbers, root=True)
    return Check("gradient flow", PASS, f"all {trainable} parameter tensors get a finite, "
                 "non-zero gradient", numbers=numbers)


def layer_name(w: Watched) -> str:
    """A layer as the user knows it: its name in the model and its kind, `0 (Linear)`."""
    return f"{w.name} ({type(w.module).__name__})"


def check_init_scale(s: Setup) -> Check:
    """Activation spread layer by layer on one batch (the lecture's histograms): zero weights,
    collapse or growth through depth, saturated or dead units at init."""
    model = s.fresh()
    layers = find_layers(model)
    hidden = [w for w in layers if w.activation is not None]
    if not hidden:
        return Check("init scale", SKIP, "no hidden Linear/Conv layer to look at")
    outputs = hidden_activations(model, s.x[:BATCH], hidden)
    stds: dict[str, float] = {}
    for w in hidden:
        if w.name not in outputs:
            continue
        acts = outputs[w.name]
        stds[layer_name(w)] = float(acts.std())
        if not bool(w.weight.detach().any()):
            return Check("init scale", FAIL, f"layer {layer_name(w)}'s weights are all zero: its units "
                         "stay identical (symmetry)", f"Initialize it: {init_advice(w.activation)}.",
                         {"act_std": stds}, root=True)
        if w.activation in ("tanh", "sigmoid"):
            sat = float((acts.abs() > 0.99).float().mean()) if w.activation == "tanh" else \
                float(((acts < 0.01) | (acts > 0.99)).float().mean())
            if sat > MAX_SATURATED:
                return Check("init scale", WARN, f"layer {layer_name(w)}: {100 * sat:.0f}% of its "
                             f"{w.activation} units saturated at init", "The init is too large: "
                             f"{init_advice(w.activation)}.", {"act_std": stds}, root=True)
        if w.activation == "relu":
            dead = dead_fraction_of(w, acts)
            if dead > MAX_DEAD:
                return Check("init scale", WARN, f"layer {layer_name(w)}: {100 * dead:.0f}% of its ReLUs "
                             "dead at init", f"Check the biases (not negative) and use "
                             f"{init_advice('relu')}.", {"act_std": stds}, root=True)
    if not stds:
        return Check("init scale", SKIP, "no hidden layer's activations were seen")
    names = list(stds)
    first, low = stds[names[0]], min(stds.values())
    last = stds[names[-1]]
    what = "activation std by layer: " + ", ".join(f"{n} {v:.2g}" for n, v in list(stds.items())[:6])
    numbers = {"act_std": stds}
    if len(names) >= 2 and first > 0 and low < INIT_COLLAPSE * first:
        name = min(stds, key=stds.__getitem__)
        act = next(w.activation for w in hidden if layer_name(w) == name)
        return Check("init scale", WARN, f"{what}: it collapses {first / max(low, 1e-30):.0f}x "
                     f"by {name}", f"The init is too small for the depth: {init_advice(act)}.",
                     numbers, root=True)
    if len(names) >= 2 and first > 0 and last > first / INIT_COLLAPSE:
        act = hidden[-1].activation
        return Check("init scale", WARN, f"{what}: it grows {last / first:.0f}x through depth",
                     f"The init is too large: {init_advice(act)}.", numbers, root=True)
    return Check("init scale", PASS, what, numbers=numbers)
