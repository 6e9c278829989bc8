"""One labelled run of the cross-framework zoo: how it trains, what a diagnosis must say."""

from __future__ import annotations

from dataclasses import dataclass, field

TOO_HIGH = ["loss-nan", "loss-explosion"]  # a rate far too high: either names it


@dataclass(frozen=True)
class Case:
    """One run: how it trains, and what a diagnosis must and must not say."""

    name: str
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    epochs: int = 8
    batch: int = 64
    subset: int | None = None
    init_std: float | None = None  # N(0, std^2) weights instead of PyTorch's default
    last_scale: float | None = None  # multiply the output layer's initial weights (Monitor runs)
    raw: bool = False  # pixels 0..16 as they are, not divided by 16 (Monitor runs)
    must_fire: list[list[str]] = field(default_factory=list)  # each inner list: any of these
    must_not_fire: list[str] = field(default_factory=list)
    root_cause: list[str] = field(default_factory=list)  # the first finding must be one of these
    healthy: bool = False
