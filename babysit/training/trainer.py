"""The training loop: minibatch descent that reports everything it does as metric records.

The trainer never prints. It hands each record to its sinks (log file, rules, dashboard) and
returns the summary record when the run ends: completed, diverged or interrupted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from babysit.config import Config
from babysit.data import Dataset
from babysit.nn import MLP
from babysit.nn.net import EVAL_ROWS
from babysit.nn.optim import OPTIMIZERS
from babysit.nn.schedules import learning_rate
from babysit.training.records import first_layer_record, header_record, summary_record
from babysit.training.sinks import Record, Sink, new_run_id
from babysit.training.stats import layer_stats
from babysit.training.threads import BlasThreads, step_mflop

COMPLETED, DIVERGED, INTERRUPTED, STOPPED, CRASHED = (
    "completed", "diverged", "interrupted", "stopped", "crashed")


class Trainer:
    """Trains an MLP described by a Config on a (preprocessed) Dataset, emitting records."""

    def __init__(self, config: Config, dataset: Dataset, sinks: Iterable[Sink] = (),
                 run_id: str | None = None) -> None:
        """Build the net with the config's seed; nothing is trained until run()."""
        self.config = config.validated()
        self.sinks = list(sinks)
        self.run_id = run_id or new_run_id()
        dtype = np.dtype(config.dtype)
        n = len(dataset.X_train) if config.subset is None else min(config.subset, len(dataset.X_train))
        self.dataset = dataset
        self.X = np.ascontiguousarray(dataset.X_train[:n], dtype=dtype)
        self.y = dataset.y_train[:n]
        self.X_val = np.ascontiguousarray(dataset.X_val, dtype=dtype)
        self.y_val = dataset.y_val
        # Independent streams, so e.g. turning dropout on does not change the initial weights.
        init_rng, self.shuffle_rng, self.dropout_rng, eval_rng = np.random.default_rng(
            config.seed).spawn(4)
        rows = min(max(config.batch_size, EVAL_ROWS), max(n, len(self.X_val)))
        spec = config.net_spec(dataset.num_features, dataset.num_classes, dataset.input_scale)
        self.net = MLP(spec, init_rng, rows)
        self.threads = BlasThreads(step_mflop(spec, config.batch_size), config.threads)
        self.update = OPTIMIZERS[config.optimizer]
        self.opt_state: dict[str, dict[str, Any]] = {name: {} for name in self.net.params}
        self.eval_idx = np.sort(eval_rng.permutation(n)[: config.eval_samples])
        self.iters_per_epoch = max(1, math.ceil(n / config.batch_size))
        self.step = 0
        self._stop: tuple[str, str] | None = None  # (status, reason)
        self._finishing = False  # the summary is being written: a repeated Ctrl-C must wait

    def request_stop(self, reason: str = "interrupted by signal", status: str = INTERRUPTED) -> None:
        """Ask the loop to end after the current iteration (safe to call from a signal handler).

        `status` is what the summary will say: interrupted (a signal) or stopped (a rule).
        """
        if self._stop is None:
            self._stop = (status, reason)

    def force_stop(self) -> None:
        """A repeated Ctrl-C: abandon the current step at once (KeyboardInterrupt), unless the
        summary is already being written, which takes milliseconds and must not be cut."""
        if not self._finishing:
            raise KeyboardInterrupt

    def _emit(self, record: Record) -> None:
        for sink in self.sinks:
            sink.emit(record)

    def _train_step(self, xb: np.ndarray, yb: np.ndarray, epoch: int, lr: float) -> Record:
        """One forward/backward/update; the step's record (updates skipped if the loss blew up)."""
        losses, grads, cache = self.net.loss(xb, yb, self.dropout_rng)
        rec: Record = {"type": "step", "step": self.step, "epoch": epoch,
                       "loss": losses.total, "data_loss": losses.data_loss,
                       "reg_loss": losses.reg_loss, "lr": lr}
        if not math.isfinite(losses.total):
            return rec
        sample = self.step % self.config.stats_every == 0
        if sample:
            before = {f"W{i}": self.net.params[f"W{i}"].copy()
                      for i in range(1, self.net.num_layers + 1)}
        for name, param in self.net.params.items():
            self.update(param, grads[name], self.opt_state[name], lr)
        if sample:
            rec["layers"] = layer_stats(self.net, cache, grads, before)
        return rec

    def _evaluate(self) -> dict[str, float]:
        """Epoch-end accuracies: train on a fixed sample of eval_samples examples, val on all."""
        _, train_acc = self.net.evaluate(self.X[self.eval_idx], self.y[self.eval_idx])
        out = {"train_acc": train_acc}
        if len(self.y_val):
            out["val_loss"], out["val_acc"] = self.net.evaluate(self.X_val, self.y_val)
        return out

    def _final(self) -> dict[str, float | None]:
        train_loss, train_acc = self.net.evaluate(self.X, self.y)
        val_loss, val_acc = (self.net.evaluate(self.X_val, self.y_val) if len(self.y_val)
                             else (None, None))
        return {"train_loss": train_loss, "train_acc": train_acc,
                "val_loss": val_loss, "val_acc": val_acc}

    def run(self) -> Record:
        """Train for config.epochs (or until diverged / stopped); return the summary record.

        BLAS threads follow babysit/training/threads.py during the run and are restored after.
        """
        with self.threads:
            return self._run()

    def _run(self) -> Record:
        cfg = self.config
        started = time.perf_counter()
        self._stop = None
        self._finishing = False
        self._emit(header_record(cfg, self.dataset, self.run_id,
                                 datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 sum(p.size for p in self.net.params.values()),
                                 self.iters_per_epoch))
        status, reason = COMPLETED, None
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # Overflow is how divergence shows up; it is reported as a status, not warnings.
                for epoch in range(cfg.epochs):
                    ended = self._run_epoch(epoch, started)
                    if ended is not None:
                        status, reason = ended
                        break
        except KeyboardInterrupt:
            status, reason = INTERRUPTED, "KeyboardInterrupt"
        except BaseException as exc:
            self._finish(CRASHED, started, f"{type(exc).__name__}: {exc}")
            raise
        return self._finish(status, started, reason)

    def _run_epoch(self, epoch: int, started: float) -> tuple[str, str | None] | None:
        """One pass over a fresh shuffle of the data; (status, reason) if the run must end."""
        cfg, n, bs = self.config, len(self.X), self.config.batch_size
        order = self.shuffle_rng.permutation(n)
        for it in range(self.iters_per_epoch):
            idx = order[it * bs : (it + 1) * bs]
            lr = learning_rate(cfg.lr_schedule, cfg.lr, self.step / self.iters_per_epoch,
                               cfg.lr_decay, cfg.lr_step)
            xb, yb = self.X[idx], self.y[idx]  # the gather's cost is the memory's, not BLAS's
            began = time.perf_counter()
            rec = self._train_step(xb, yb, epoch, lr)
            if "layers" not in rec:  # a statistics step costs more whatever the threads
                self.threads.observe(time.perf_counter() - began)
            diverged = not math.isfinite(rec["loss"])
            if not diverged and it == self.iters_per_epoch - 1:
                rec.update(self._evaluate())
            rec["time"] = round(time.perf_counter() - started, 6)
            if "layers" in rec:  # last, by contract (docs/log-format.md): readers may skip it
                rec["layers"] = rec.pop("layers")
            self._emit(rec)
            self.step += 1
            if diverged:
                return DIVERGED, f"loss became {rec['loss']} at step {rec['step']}"
            if self._stop is not None:
                return self._stop
        return None

    def _finish(self, status: str, started: float, reason: str | None) -> Record:
        final: dict[str, float | None] = {}
        if status != CRASHED:
            try:  # a pass over all the data: slow on a big net, so a second Ctrl-C may skip it
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    final = self._final()
            except KeyboardInterrupt:
                reason = f"{reason}; final evaluation skipped" if reason else "final evaluation skipped"
        self._finishing = True
        summary = summary_record(status, self.step, self.step // self.iters_per_epoch,
                                 time.perf_counter() - started, final, reason)
        if status != CRASHED and "W1" in self.net.params and len(self.net.spec.hidden):
            summary["first_layer"] = first_layer_record(self.net.params["W1"],
                                                        self.dataset.image_shape)
        try:
            self._emit(summary)
        finally:
            for sink in self.sinks:
                sink.close()
        return summary
