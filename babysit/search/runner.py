"""Where trials run: worker processes on this machine, or a Dask cluster. Both look the same
to the search: submit(fn, *args) returns a future, as_completed(futures) yields them done."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as local_as_completed
from contextlib import contextmanager
from typing import Any

from babysit.errors import BabysitError

_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_SHARED: dict[int, Any] = {}  # in a worker: data handed over once, at start-up
_STOP: Any = None  # in a worker: the search's stop flag (a shared-memory byte)


class Shared:
    """A handle to data a local worker received once at start-up (instead of with every task)."""

    def __init__(self, key: int) -> None:
        """Refer to _SHARED[key] in the worker."""
        self.key = key

    def get(self) -> Any:
        """The data, in the worker."""
        return _SHARED[self.key]


# Ctrl-C, and `timeout` / Slurm / systemd's SIGTERM or a closed terminal's SIGHUP, reach the
# whole process group: the search decides what happens and tells its workers through `stop`;
# a worker killed by the signal itself would break the pool (BrokenProcessPool) and lose trials.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


_PARENT = -1  # the search's process id, in a worker


def _init_worker(shared: dict[int, Any], stop: Any) -> None:
    global _STOP, _PARENT
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    _SHARED.update(shared)
    _STOP = stop
    _PARENT = os.getppid()
    threading.Thread(target=_exit_with_parent, name="babysit-parent-watch", daemon=True).start()


PARENT_POLL_SECONDS = 1.0
PARENT_GRACE_SECONDS = 10.0  # for a running trial to see it and end its log with a summary


def _exit_with_parent() -> None:
    """A worker's watch on the search: once the search process is gone (SIGKILL, a crash),
    the running trial stops at its next step (stop_requested), and the worker exits after a
    grace period even if it is waiting for work that will never come."""
    while os.getppid() == _PARENT:
        time.sleep(PARENT_POLL_SECONDS)
    time.sleep(PARENT_GRACE_SECONDS)
    os._exit(1)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore the stop signals while workers are spawned, so that they start with them ignored.

    A Ctrl-C reaches the whole process group; a worker still importing numpy when it arrives
    would die with a KeyboardInterrupt traceback before _init_worker could ignore it. An ignored
    signal stays ignored across exec, and Python then installs no handler of its own.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_requested() -> bool:
    """In a worker: whether the search asked running trials to stop, or is gone (SIGKILLed:
    its workers ignore the stop signals by design, and would finish trials nobody records;
    a worker whose parent died is adopted by another process, so its parent id changes)."""
    return _STOP is not None and (bool(_STOP.value) or os.getppid() != _PARENT)


def resolve(value: Any) -> Any:
    """The value itself, or the data a Shared handle refers to."""
    return value.get() if isinstance(value, Shared) else value


class LocalRunner:
    """A pool of spawned worker processes, each with cores // workers BLAS threads."""

    def __init__(self, workers: int) -> None:
        """Prepare `workers` processes (at least 1); they start at the first submit."""
        self.workers = max(1, workers)
        self.threads = max(1, (os.cpu_count() or 1) // self.workers)
        self.shared: dict[int, Any] = {}
        self.pool: ProcessPoolExecutor | None = None
        self._context = mp.get_context("spawn")
        # A lock-free shared byte, not an Event: request_stop runs in a signal handler, and an
        # Event's lock could already be held by the interrupted main thread (a deadlock).
        self._stop = self._context.RawValue("b", 0)

    def request_stop(self) -> None:
        """Ask running trials to stop at their next step (safe in a signal handler)."""
        self._stop.value = 1

    @property
    def stop_requested(self) -> bool:
        """Whether request_stop() was called."""
        return bool(self._stop.value)

    def _start(self) -> ProcessPoolExecutor:
        saved = {k: os.environ.get(k) for k in _BLAS_ENV}
        # Spawned workers read these when they import numpy: set them only around the spawn.
        # A single worker gets the cores, and the trainer's thread policy decides how many to
        # use (babysit/training/threads.py); set, these variables would fix the count instead.
        if self.workers > 1:
            os.environ.update({k: str(self.threads) for k in _BLAS_ENV})
        try:
            return ProcessPoolExecutor(self.workers, mp_context=self._context,
                                       initializer=_init_worker, initargs=(self.shared, self._stop))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run fn(*args) in a worker."""
        if self.pool is None:
            self.pool = self._start()
        with _sigint_ignored():
            return self.pool.submit(fn, *args)  # may spawn a worker: it inherits the SIG_IGN

    def share(self, value: Any) -> Shared:
        """Data every trial needs: sent once to each worker when it starts, not per task."""
        if self.pool is not None:
            raise RuntimeError("share() must come before the first submit()")
        key = len(self.shared)
        self.shared[key] = value
        return Shared(key)

    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]:
        """Futures as they finish."""
        return local_as_completed(list(futures))

    def restart(self) -> None:
        """Drop a broken pool (a worker died); the next submit starts a fresh one."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def close(self, cancel: bool = False) -> None:
        """Stop the workers and wait for them to exit; with `cancel`, kill them at once."""
        if self.pool is None:
            return
        if cancel:
            self._stop.value = 1
            # A second Ctrl-C: do not wait for a trial's step. The executor has no public way
            # to kill its workers before Python 3.14, so its process table is used directly.
            for proc in list(getattr(self.pool, "_processes", {}).values()):
                proc.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskRunner:
    """Trials on a running dask.distributed scheduler (pip install 'babysit[dask]')."""

    def __init__(self, address: str) -> None:
        """Connect to the scheduler at `address` (e.g. tcp://127.0.0.1:8786)."""
        try:
            from distributed import Client
        except ImportError:
            raise BabysitError("--scheduler needs dask.distributed: pip install 'babysit[dask]'") from None
        try:
            self.client = Client(address, timeout=10)
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a malformed address
            raise BabysitError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.threads = None
        self.stop_requested = False

    def request_stop(self) -> None:
        """Stop collecting: queued trials are cancelled, running ones dropped."""
        self.stop_requested = True

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn(*args) on the cluster; not cached (each trial is its own work)."""
        return self.client.submit(fn, *args, pure=False)

    def share(self, value: Any) -> Any:
        """Send data once to the workers instead of with every task."""
        return self.client.scatter(value, broadcast=True)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        """Futures as they finish."""
        from distributed import as_completed

        return iter(as_completed(list(futures)))

    def close(self, cancel: bool = False) -> None:
        """Disconnect (cancelling queued trials if `cancel`)."""
        self.client.close()
