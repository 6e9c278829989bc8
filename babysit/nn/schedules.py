"""Learning-rate schedules as functions of the (fractional) epoch."""

from __future__ import annotations

import math

from babysit.names import SCHEDULES


def learning_rate(
    schedule: str, lr0: float, epoch: float, decay: float, step_epochs: int = 10
) -> float:
    """The learning rate at `epoch` (0-based, may be fractional).

    constant: lr0. step: lr0 * decay ** floor(epoch / step_epochs), decay a factor in (0, 1].
    exp: lr0 * exp(-decay * epoch). inv (1/t): lr0 / (1 + decay * epoch).
    """
    if schedule == "constant":
        return lr0
    if schedule == "step":
        return lr0 * decay ** math.floor(epoch / step_epochs)
    if schedule == "exp":
        return lr0 * math.exp(-decay * epoch)
    if schedule == "inv":
        return lr0 / (1.0 + decay * epoch)
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose one of {SCHEDULES}")
