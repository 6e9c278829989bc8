"""The trainer's BLAS thread policy: applied while training, restored after, and its choice."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from babysit.api import train
from babysit.config import Config
from babysit.nn import NetSpec
from babysit.training import threads
from babysit.training.threads import BlasThreads, step_mflop


def blas_threads() -> int:
    """The BLAS thread limit in effect now (the largest over loaded BLAS libraries)."""
    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


class Seen:
    """A sink that notes the BLAS thread limit at every step; can raise at a given step."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.threads: list[int] = []
        self.fail_at = fail_at

    def emit(self, rec: dict) -> None:
        if rec.get("type") == "step":
            self.threads.append(blas_threads())
            if rec["step"] == self.fail_at:
                raise RuntimeError("sink failed")

    def close(self) -> None:
        pass


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A caller whose BLAS runs 2 threads, with no thread variables in the environment."""
    for name in threads.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    with threadpool_limits(limits=2, user_api="blas"):
        if blas_threads() != 2:
            pytest.skip("this BLAS cannot run 2 threads here")
        yield


SMALL = Config(data="spiral", hidden=(20,), epochs=2, batch_size=16)


def test_small_net_trains_on_one_thread_and_restores_the_callers_limit(two_threads: None) -> None:
    seen = Seen()
    train(SMALL, [seen])
    assert seen.threads and set(seen.threads) == {1}
    assert blas_threads() == 2


def test_a_crash_restores_the_callers_limit_too(two_threads: None) -> None:
    with pytest.raises(RuntimeError, match="sink failed"):
        train(SMALL, [Seen(fail_at=3)])
    assert blas_threads() == 2


def test_threads_option_wins(two_threads: None) -> None:
    seen = Seen()
    train(replace(SMALL, threads=2), [seen])
    assert set(seen.threads) == {2}
    assert blas_threads() == 2


def test_environment_variable_wins(two_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    seen = Seen()
    train(SMALL, [seen])
    assert set(seen.threads) == {2}  # left as the caller had it: the policy stays out


def test_step_work_counts_forward_and_both_gradients() -> None:
    spec = NetSpec(input_dim=784, num_classes=10, hidden=(512, 512))
    macs = 784 * 512 + 512 * 512 + 512 * 10
    assert step_mflop(spec, 256) == pytest.approx(2e-6 * 256 * (3 * macs - 784 * 512))


def simulate(policy: BlasThreads, step_ms: dict[int, float], steps: int) -> list[int]:
    """Feed the policy steps whose duration depends on its thread count; the counts used."""
    used = []
    for _ in range(steps):
        assert policy.threads is not None
        used.append(policy.threads)
        policy.observe(step_ms[policy.threads] / 1e3)
    return used


QUIET = {1: 10.5, 2: 6.5}  # bench/train_vs_torch.py's MLP on a quiet 2-core machine
LOADED = {1: 25.0, 2: 48.0}  # the same with a busy loop and another BLAS process running


def test_large_net_keeps_two_threads_while_they_pay_and_drops_one_under_load(two_threads: None) -> None:
    with BlasThreads(mflop=1000.0) as policy:
        used = simulate(policy, QUIET, 100)
        assert used[-60:] == [2] * 60
        used = simulate(policy, LOADED, 150)  # load arrives: the step time drifts, it re-measures
        assert used[-60:] == [1] * 60
        used = simulate(policy, QUIET, 150)  # and leaves
        assert used[-60:] == [2] * 60
    assert blas_threads() == 2


def test_a_second_thread_that_barely_pays_is_not_kept(two_threads: None) -> None:
    with BlasThreads(mflop=1000.0) as policy:
        used = simulate(policy, {1: 10.0, 2: 9.5}, 100)  # 5% faster: under the 10% hurdle
    assert used[-60:] == [1] * 60


def test_one_noisy_window_does_not_trigger_a_new_measurement(two_threads: None) -> None:
    with BlasThreads(mflop=1000.0) as policy:
        simulate(policy, QUIET, 100)
        used = simulate(policy, {1: 10.5, 2: 9.9}, 16)  # one window 1.5x slower (a hiccup)
        used += simulate(policy, QUIET, 100)
    assert 1 not in used


def test_measurement_is_repeated_now_and_then(two_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "REPROBE_EVERY", 50)
    with BlasThreads(mflop=1000.0) as policy:
        used = simulate(policy, QUIET, 300)
    # each measurement spends steps on one thread; without re-measuring there would be one
    probes = sum(1 for a, b in itertools.pairwise(used) if a == 2 and b == 1)
    assert probes >= 4
    assert np.mean(np.array(used) == 2) > 0.7
