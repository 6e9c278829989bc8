"""How many BLAS threads a training step gets: one for small nets, the faster measured otherwise.

Why a policy at all: OpenBLAS starts a thread per core and its threads spin-wait for work. On a
machine busy with other work (a second training, a browser), a thread waiting for a core stalls
every matrix product of the step: 5 epochs of digits with a 200-200 net took 0.17 s quiet and
~2 s with a busy loop and another BLAS process running, against 0.4 s on one thread
(bench/RESULTS.md). And for small nets a second thread does not pay even on a quiet machine.

The policy, for one training run:
  - an explicit `threads` (the CLI's --threads) is used as given; so are the BLAS environment
    variables (OMP_NUM_THREADS and kin): babysit then leaves the thread count alone;
  - a step with under SECOND_THREAD_MFLOP of matrix-product work runs on one thread;
  - a larger step is measured: a few real steps on one thread and on all cores, alternating,
    and the run keeps all cores only if they are HURDLE times faster. The step time is watched
    after that; when it drifts by DRIFT either way in DRIFT_WINDOWS windows in a row (load came
    or went), or every REPROBE_EVERY steps, the choice is measured again. The trainer reports
    the step's own compute: not the minibatch gather (memory-bound, it scattered step times of
    a 78k-row data set by 30% and a re-measurement on that noise once settled on one thread),
    not the steps that also compute statistics.
It is applied with threadpoolctl for the run only: the caller's limits are restored after, so
babysit used as a library leaves the process as it found it.
"""

from __future__ import annotations

import itertools
import os
import statistics
from collections import deque
from types import TracebackType
from typing import Any

from babysit.nn import NetSpec

# Measured with bench/blas_threads.py (2-core EPYC, OpenBLAS 0.3.31, float64, Adam). On its
# dev part (64 inputs, two hidden layers of 50-800, batches 16-256) a second thread never paid
# below 30 MFLOP per step (best 1.08x at 17 MFLOP; 0.7x, i.e. slower, at 5-12 MFLOP) and paid
# 0.99-1.57x above. On the held-out part (784 inputs, one and three hidden layers) the same
# line held: at most 1.07x below it, 1.20-1.64x above.
SECOND_THREAD_MFLOP = 30.0
# More threads must win by 10%: below that the gain is within the noise of a 5-step median,
# and the cost of being wrong on a busy machine is 2-10x (bench/RESULTS.md).
HURDLE = 1.1
# One measurement: ROUNDS rounds over the candidates (so a drift hits all alike), each a
# step to settle after the switch (sleeping BLAS threads wake up, a spinning one winds down:
# not representative) and then PROBE_STEPS measured steps.
ROUNDS, PROBE_STEPS = 2, 3
WARMUP_STEPS = 2  # the first steps allocate buffers and fault pages in: not representative
DRIFT = 1.5  # a step median that moves this much means the machine's load changed
RECENT = 16  # steps in the median that is watched for drift
DRIFT_WINDOWS = 2  # ... in this many windows in a row: one noisy window is not a new load
REPROBE_EVERY = 2000  # steps; catches a slow change that never crosses DRIFT at once

ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS")


def step_mflop(spec: NetSpec, batch: int) -> float:
    """Matrix-product work of one training step in MFLOP: forward, weight and input gradients."""
    widen = spec.maxout_pieces if spec.activation == "maxout" else 1
    sizes = [spec.input_dim, *spec.hidden, spec.num_classes]
    macs = [a * b * (widen if i < len(spec.hidden) else 1)
            for i, (a, b) in enumerate(itertools.pairwise(sizes))]
    # forward and weight gradient for every layer, input gradient for all but the first
    return 2e-6 * batch * (3 * sum(macs) - macs[0])


def env_threads() -> str | None:
    """The first BLAS thread variable set in the environment, as `NAME=value`, or None."""
    for name in ENV_VARS:
        if os.environ.get(name, "").strip():
            return f"{name}={os.environ[name]}"
    return None


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


class BlasThreads:
    """The thread policy for one run: a context manager, told each step's duration."""

    def __init__(self, mflop: float, requested: int | None = None) -> None:
        """Policy for steps of `mflop` MFLOP; `requested` (>= 1) fixes the thread count."""
        self.mflop = mflop
        self.requested = requested
        self.reason = ""
        self.threads: int | None = None  # None: babysit does not set it
        self._ctl: Any = None
        self._saved: Any = None
        self._candidates: tuple[int, ...] = ()
        self._plan: list[tuple[int, bool]] = []  # (threads, measured?) of the steps to come
        self._times: dict[int, list[float]] = {}
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._reference = 0.0
        self._steps = 0
        self._since_probe = 0
        self._drifting = 0  # windows in a row whose median drifted

    def __enter__(self) -> BlasThreads:
        from threadpoolctl import ThreadpoolController

        if self.requested is not None:
            self.reason = "--threads"
            return self._start(ThreadpoolController(), self.requested)
        env = env_threads()
        if env is not None:
            self.reason = f"{env} in the environment"
            return self
        ctl = ThreadpoolController()
        blas = [info["num_threads"] for info in ctl.info() if info["user_api"] == "blas"]
        # A limit the caller set before (threadpool_limits) is a ceiling, not a suggestion.
        most = min([cores(), *blas])
        if most <= 1 or self.mflop < SECOND_THREAD_MFLOP:
            self.reason = (f"{self.mflop:.3g} MFLOP per step: a second thread does not pay "
                           f"below {SECOND_THREAD_MFLOP:g}" if most > 1 else "one core")
            return self._start(ctl, 1)
        self.reason = "measured on the run's own steps"
        self._candidates = (1, most)
        self._start(ctl, most)
        self._plan = [(most, False)] * WARMUP_STEPS
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._saved is not None:
            self._saved.restore_original_limits()
            self._saved = None

    def _start(self, ctl: Any, threads: int) -> BlasThreads:
        self._ctl = ctl
        self._saved = ctl.limit(limits=threads, user_api="blas")
        self.threads = threads
        return self

    def _set(self, threads: int) -> None:
        if threads != self.threads:
            self._ctl.limit(limits=threads, user_api="blas")
            self.threads = threads

    def observe(self, seconds: float) -> None:
        """Record how long the step just run took; sets the thread count for the next one."""
        if not self._candidates:
            return
        self._steps += 1
        if self._plan:
            threads, measured = self._plan.pop(0)
            if measured:
                self._times[threads].append(seconds)
            if self._plan:
                self._set(self._plan[0][0])
            elif self._times:
                self._decide()
            else:  # the warm-up is over
                self._probe()
            return
        self._recent.append(seconds)
        self._since_probe += 1
        # The drift check looks at a whole new window at a time: a median per step would cost
        # more than the decision is worth.
        if self._since_probe % RECENT == 0:
            self._drifting = self._drifting + 1 if self._drifted() else 0
        if self._since_probe >= REPROBE_EVERY or self._drifting >= DRIFT_WINDOWS:
            self._probe()

    def _drifted(self) -> bool:
        if len(self._recent) < RECENT:
            return False
        now = statistics.median(self._recent)
        return now > DRIFT * self._reference or now * DRIFT < self._reference

    def _probe(self) -> None:
        """Measure every candidate again."""
        self._times = {k: [] for k in self._candidates}
        self._plan = [(k, i > 0) for _ in range(ROUNDS) for k in reversed(self._candidates)
                      for i in range(PROBE_STEPS + 1)]
        self._set(self._plan[0][0])

    def _decide(self) -> None:
        median = {k: statistics.median(v) for k, v in self._times.items()}
        fewest, most = self._candidates[0], self._candidates[-1]
        best = most if median[most] * HURDLE < median[fewest] else fewest
        self._set(best)
        self._reference = median[best]
        self._times = {}
        self._recent.clear()
        self._since_probe = 0
        self._drifting = 0
