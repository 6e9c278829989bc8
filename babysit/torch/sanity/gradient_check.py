"""The lecture's gradient check on the user's own model: backprop's gradient against a centred
difference, in float64, on a few examples and a sample of parameter entries.

It matters for custom layers and losses (a hand-written backward, a detach in the wrong place);
autograd's built-in layers pass it. `torch.autograd.gradcheck` answers yes or no at fixed
tolerances over every input entry; the lecture reads the relative error itself (below 1e-7
good, up to 1e-4 fine where the model has kinks such as ReLU, above 1e-2 probably wrong), and a
sample of entries keeps the cost to tens of forward passes whatever the model's size, so the
difference is taken here directly on a float64 copy.
"""

from __future__ import annotations

import math
import time

import torch

from babysit.torch.sanity.report import FAIL, PASS, SKIP, WARN, Check
from babysit.torch.sanity.setup import Setup
from babysit.torch.values import short_error

EXAMPLES = 4  # a few examples: the lecture checks on a small batch
ENTRIES = 40  # parameter entries sampled across the tensors
PER_TENSOR = 4  # at most this many from one tensor, so every layer is looked at
H = 1e-6  # the centred difference's step: float64's error ~1e-10 against gradients ~1e-3
# The lecture's bands for the relative error |a - n| / max(|a|, |n|).
FINE, WRONG = 1e-4, 1e-2
# A centred difference cannot see a gradient below its own rounding: the loss is known to ~1e-16
# of itself, so (up - down) / 2H carries ~1e-16 |loss| / H = 1e-10 |loss| of noise. An entry's
# gradient must be 1e5 times that (1e-5 |loss|) for the noise to stay a tenth of the fine band;
# smaller ones (a unit off for these examples, a deep layer under a collapsing init) are not
# compared.
RESOLVABLE = 1e-5


def _entries(model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter, int]]:
    """(name, tensor, flat index) for a seeded sample of trainable entries, each tensor's first."""
    gen = torch.Generator().manual_seed(0)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.numel()]
    picks: list[tuple[str, torch.nn.Parameter, int]] = []
    per = max(1, min(PER_TENSOR, ENTRIES // max(1, len(trainable))))
    for name, p in trainable:
        count = min(per, p.numel())
        picks += [(name, p, int(i)) for i in torch.randperm(p.numel(), generator=gen)[:count]]
    return picks[:max(ENTRIES, len(trainable))]


# Piecewise-linear activations and where their kinks are. The lecture: keep track of the
# "winners" of each max(); when one changes between f(x + h) and f(x - h), a kink was crossed
# and the centred difference is not the gradient there (a deep net under a small init has
# pre-activations of 1e-7, well inside h). Such entries are left out, and counted.
_KINKS: dict[type, tuple[float, ...]] = {torch.nn.ReLU: (0.0,), torch.nn.LeakyReLU: (0.0,),
                                         torch.nn.PReLU: (0.0,), torch.nn.ReLU6: (0.0, 6.0),
                                         torch.nn.Hardtanh: (-1.0, 1.0)}


class KinkWatch:
    """Which side of each kink every input of the model's piecewise-linear modules is on."""

    def __init__(self, model: torch.nn.Module) -> None:
        """Hook every ReLU-like module of `model`."""
        self.sides: list[torch.Tensor] = []
        self._handles = [m.register_forward_hook(self._seen) for m in model.modules()
                         if type(m) in _KINKS]

    def _seen(self, module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], _out: object) -> None:
        x = inputs[0]
        kinks = (module.min_val, module.max_val) if isinstance(module, torch.nn.Hardtanh) \
            else _KINKS[type(module)]
        self.sides.append(torch.stack([x > k for k in kinks]))

    def take(self) -> list[torch.Tensor]:
        """The sides seen since the last take."""
        sides, self.sides = self.sides, []
        return sides

    def close(self) -> None:
        """Remove the hooks."""
        for handle in self._handles:
            handle.remove()


def check_gradients(s: Setup) -> Check:
    """Relative error of backprop's gradient against a centred difference, worst entry."""
    start = time.perf_counter()
    try:
        model = s.fresh().double()
        x = s.x[:EXAMPLES].float64()
        y = s.y[:EXAMPLES]
        y = y.double() if y.is_floating_point() else y
        loss = s.loss_fn(x(model), y)
        floor = RESOLVABLE * max(1.0, abs(float(loss.detach())))
        model.zero_grad()
        loss.backward()
    except Exception as exc:  # a layer with no float64 kernel, a loss that insists on float32
        return Check("gradient check", SKIP, f"could not run in float64: {short_error(exc)}")
    worst, where, compared, kinked = 0.0, "", 0, 0
    watch = KinkWatch(model)
    with torch.no_grad():
        for name, p, i in _entries(model):
            analytic = float(p.grad.reshape(-1)[i]) if p.grad is not None else 0.0
            flat = p.data.reshape(-1)
            keep = float(flat[i])
            flat[i] = keep + H
            watch.take()
            up = float(s.loss_fn(x(model), y))
            above = watch.take()
            flat[i] = keep - H
            down = float(s.loss_fn(x(model), y))
            below = watch.take()
            flat[i] = keep
            if any(not torch.equal(a, b) for a, b in zip(above, below, strict=True)):
                kinked += 1
                continue
            numeric = (up - down) / (2 * H)
            scale = max(abs(analytic), abs(numeric))
            if not math.isfinite(scale):
                worst, where = math.inf, name
                continue
            if scale < floor:
                continue
            compared += 1
            error = abs(analytic - numeric) / scale
            if error > worst:
                worst, where = error, name
    watch.close()
    seconds = time.perf_counter() - start
    numbers = {"max_relative_error": worst, "worst": where, "entries": compared, "at_kinks": kinked,
               "seconds": seconds}
    left = f" ({kinked} more at a ReLU kink left out)" if kinked else ""
    cost = f"{compared} entries of {EXAMPLES} examples{left}, float64, {seconds:.2f} s"
    if compared == 0:
        return Check("gradient check", SKIP, f"no gradient large enough to compare ({cost})",
                     numbers=numbers)
    what = f"max relative error {worst:.1e} ({where}) over {cost}"
    if worst > WRONG:
        return Check("gradient check", FAIL, f"{what}: backprop disagrees with the loss it "
                     "differentiates", f"Check the backward of what computes {where} (a custom "
                     "autograd.Function, an in-place op, a .detach() or .data in forward) and "
                     "the loss.", numbers, root=True)
    if worst > FINE:
        return Check("gradient check", WARN, f"{what}: above 1e-4, fine only at a kink (ReLU, "
                     "max)", f"If {where} has no kink there, check its backward.", numbers)
    return Check("gradient check", PASS, what, numbers=numbers)
