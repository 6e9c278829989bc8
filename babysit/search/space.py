"""What a search varies: log-uniform ranges (learning rate, L2), uniform ranges (dropout) and
choices (hidden sizes, activation, init, optimizer, schedule), with sampling and narrowing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from babysit.errors import BabysitError

EDGE = 0.1  # "near the edge": within the outer 10% of a range (in log space for log ranges)
NARROW_MARGIN = 0.5  # a fine stage spans the best coarse values, +-0.5 decades (clipped)


@dataclass(frozen=True)
class LogRange:
    """A positive range sampled uniformly in log10 space (the lecture: lr and reg on a log scale)."""

    lo: float
    hi: float

    def sample(self, rng: np.random.Generator) -> float:
        """One value, log-uniform in [lo, hi]."""
        return float(10 ** rng.uniform(math.log10(self.lo), math.log10(self.hi)))

    def position(self, value: float) -> float:
        """Where value sits, 0 at lo and 1 at hi, in log space."""
        span = math.log10(self.hi) - math.log10(self.lo)
        return 0.5 if span == 0 else (math.log10(value) - math.log10(self.lo)) / span

    def narrow(self, best: list[float]) -> LogRange:
        """A range around the best values, +-NARROW_MARGIN decades, inside this one."""
        best = [min(max(b, self.lo), self.hi) for b in best]  # values from outside stay inside
        lo = max(self.lo, min(best) * 10 ** -NARROW_MARGIN)
        hi = min(self.hi, max(best) * 10 ** NARROW_MARGIN)
        return LogRange(lo, hi)

    def __str__(self) -> str:
        return f"{self.lo:g}:{self.hi:g}"


@dataclass(frozen=True)
class LinRange:
    """A range sampled uniformly (dropout)."""

    lo: float
    hi: float

    def sample(self, rng: np.random.Generator) -> float:
        """One value, uniform in [lo, hi]."""
        return float(rng.uniform(self.lo, self.hi))

    def position(self, value: float) -> float:
        """Where value sits, 0 at lo and 1 at hi."""
        return 0.5 if self.hi == self.lo else (value - self.lo) / (self.hi - self.lo)

    def narrow(self, best: list[float]) -> LinRange:
        """A range around the best values, widened by a quarter of this range, inside it."""
        pad = 0.25 * (self.hi - self.lo)
        best = [min(max(b, self.lo), self.hi) for b in best]
        return LinRange(max(self.lo, min(best) - pad), min(self.hi, max(best) + pad))

    def __str__(self) -> str:
        return f"{self.lo:g}:{self.hi:g}"


@dataclass(frozen=True)
class Choice:
    """A set of options sampled uniformly."""

    options: tuple[Any, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        """One of the options."""
        return self.options[int(rng.integers(len(self.options)))]

    def narrow(self, best: list[Any]) -> Choice:
        """The options the best trials used, in the original order."""
        return Choice(tuple(o for o in self.options if o in best))

    def __str__(self) -> str:
        return "|".join(str(o) for o in self.options)


Dimension = LogRange | LinRange | Choice
Space = dict[str, Dimension]


def parse_range(text: str, name: str, log: bool) -> LogRange | LinRange:
    """'1e-5:1e-1' -> a range; a BabysitError naming the option otherwise."""
    try:
        lo_text, hi_text = text.split(":")
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise BabysitError(f"--{name} expects LOW:HIGH, e.g. 1e-5:1e-1, got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi or (log and lo <= 0):
        raise BabysitError(f"--{name} {text}: need {'0 < ' if log else ''}LOW <= HIGH")
    return LogRange(lo, hi) if log else LinRange(lo, hi)


def sample(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    """One configuration's values for every dimension, in a fixed order (determinism)."""
    return {name: space[name].sample(rng) for name in sorted(space)}


def edge_warnings(space: Space, best: dict[str, Any]) -> list[str]:
    """Dimensions whose best value lies in the outer EDGE of its range: widen them."""
    out = []
    for name, dim in space.items():
        if isinstance(dim, (LogRange, LinRange)) and dim.hi > dim.lo and name in best:
            pos = dim.position(best[name])
            if pos < EDGE or pos > 1 - EDGE:
                side = "bottom" if pos < EDGE else "top"
                out.append(f"the best {name} {best[name]:.3g} is at the {side} of its range "
                           f"{dim}: widen the range past it")
    return out
