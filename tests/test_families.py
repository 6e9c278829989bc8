"""Issue 33's failure classes as generated families: the fault fires across cadences, scales
and noise, and its near misses stay quiet (tests/families.py draws the runs)."""

from __future__ import annotations

import itertools

import pytest

from babysit.diagnostics.engine import Engine, build_rules
from tests.families import CADENCES, loss_run

SCALES = (2.3, 1e-3, 1e4)  # a cross-entropy, a loss near 0, a regression's sum of squares
NOISES = (0.005, 0.03)
GRID = list(itertools.product(CADENCES, SCALES, NOISES, (0, 1)))


def fired(rule_id: str, records: list) -> bool:
    report = Engine(build_rules(only=[rule_id])).push_all(records)
    return any(f.rule == rule_id for f in report.findings)


@pytest.mark.parametrize("cadence,scale,noise,seed", GRID)
def test_a_loss_that_never_went_down_is_flat(cadence: str, scale: float, noise: float, seed: int) -> None:
    assert fired("loss-flat", loss_run("stuck", cadence, scale, noise, seed))


@pytest.mark.parametrize("cadence,scale,noise,seed", GRID)
def test_one_high_first_value_does_not_make_a_stuck_loss_a_descent(cadence: str, scale: float,
                                                                 noise: float, seed: int) -> None:
    assert fired("loss-flat", loss_run("stuck_noisy_first", cadence, scale, noise, seed))


@pytest.mark.parametrize("shape", ["converged", "finetune"])
@pytest.mark.parametrize("cadence,scale,noise,seed", GRID)
def test_a_loss_that_came_down_and_levelled_off_or_declines_slowly_is_not_flat(
        shape: str, cadence: str, scale: float, noise: float, seed: int) -> None:
    assert not fired("loss-flat", loss_run(shape, cadence, scale, noise, seed))
