"""Issue 33's failure classes as generated families: the fault fires across cadences, scales
and noise, and its near misses stay quiet (tests/families.py draws the runs)."""

from __future__ import annotations

import itertools

import pytest

from babysit.diagnostics.engine import Engine, build_rules
from tests.families import CADENCES, epoch_rows, loss_run, spiky_run, start_run

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


# A plateau at ln C is quiet (every prediction near uniform: 2-5% per batch); a converging
# run's batches scatter by up to 40% of their mean (a few hard examples each).
PLATEAU_GRID = list(itertools.product((1, 25, 50), (0.02, 0.05), (0, 1, 2)))
START_GRID = list(itertools.product((1, 25, 50), (0.05, 0.4), (0, 1, 2)))


@pytest.mark.parametrize("every,noise,seed", PLATEAU_GRID)
def test_a_hockey_stick_is_found_at_every_cadence(every: int, noise: float, seed: int) -> None:
    assert fired("plateau-then-drop", start_run("hockey_stick", every, noise, seed))


@pytest.mark.parametrize("shape", ["fast_start", "fast_start_one_high"])
@pytest.mark.parametrize("every,noise,seed", START_GRID)
def test_a_fast_start_then_noisy_batches_is_no_plateau(shape: str, every: int, noise: float,
                                                      seed: int) -> None:
    """One noisy batch after a first window that already fell is not a plateau (issue 33 class
    5: a single value decides)."""
    assert not fired("plateau-then-drop", start_run(shape, every, noise, seed))


@pytest.mark.parametrize("seed", range(6))
def test_a_few_hard_examples_in_a_converged_fine_tune_are_no_instability(seed: int) -> None:
    assert not fired("training-unstable", spiky_run("hard_examples", seed=seed))


@pytest.mark.parametrize("seed", range(6))
def test_a_converged_net_thrown_back_again_and_again_is_unstable(seed: int) -> None:
    assert fired("training-unstable", spiky_run("forgetting", seed=seed))


@pytest.mark.parametrize("scale", [30.0, 48.5, 890.0, 1e4])
@pytest.mark.parametrize("kind", ["came_back", "rising"])
def test_a_first_epoch_that_blew_up_is_an_explosion(kind: str, scale: float) -> None:
    assert fired("loss-explosion", epoch_rows(kind, scale))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("scale", [30.0, 48.5, 890.0, 1e4])
def test_a_loss_on_its_own_scale_falling_while_accuracy_climbs_is_no_explosion(scale: float, seed: int) -> None:
    assert not fired("loss-explosion", epoch_rows("custom_scale", scale, seed))


def test_progress_counts_from_the_first_loss_and_leaves_a_blow_up_out() -> None:
    from babysit.diagnostics.progress import LossProgress
    from babysit.diagnostics.rule import Window

    progress = LossProgress()
    progress.on_window(Window(0, 0, 9, 10, first=2.0, mean=1.5, min=1.2, max=2.0))
    progress.on_window(Window(1, 10, 19, 10, first=1.0, mean=1.0, min=0.98, max=1.02))
    assert progress.start == 2.0 and progress.came == pytest.approx(0.5)
    assert progress.went_down()  # 1.0 below a start of 2.0, noise ~0.1
    blown = LossProgress()  # 929 in the first epoch, then ln 3: the start is ln 3, not 929
    blown.on_window(Window(0, 0, 9, 10, first=929.0, mean=(929.0 + 9 * 1.0986) / 10, min=1.09, max=929.0))
    assert blown.start == pytest.approx(1.0986) and not blown.went_down()
