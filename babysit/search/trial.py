"""One search trial: train a config on the shared data, stop early when it is hopeless, and
return a result row (run in a worker process, locally or on a Dask cluster)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from babysit.config import Config
from babysit.data import Dataset
from babysit.diagnostics.sink import DiagnosticsSink
from babysit.nn.losses import softmax_probs
from babysit.search.objective import DIVERGED_RULES, HOPELESS_MARGIN
from babysit.search.runner import Shared, resolve, stop_requested
from babysit.training import JsonlSink, Trainer


class EarlyCut:
    """A sink and findings listener that stops a trial that diverged or learned nothing."""

    def __init__(self, trainer: Trainer, num_classes: int) -> None:
        """Watch `trainer`'s records; chance is 1 / num_classes."""
        self.trainer, self.chance = trainer, 1.0 / num_classes
        self.epochs_seen = 0

    def finding(self, finding: Any) -> None:
        """Stop on divergence found by the rules engine."""
        if finding.rule in DIVERGED_RULES:
            self.trainer.request_stop(f"{finding.rule}: {finding.message}", status="diverged")

    def emit(self, record: dict[str, Any]) -> None:
        """Stop when the search is stopping, or after the first epoch if at chance."""
        if stop_requested():
            self.trainer.request_stop("the search was interrupted")
        if "val_acc" in record:
            self.epochs_seen += 1
            if self.epochs_seen == 1 and record["val_acc"] <= self.chance + HOPELESS_MARGIN:
                self.trainer.request_stop(f"validation accuracy {record['val_acc']:.3f} at chance "
                                          "after the first epoch", status="hopeless")

    def close(self) -> None:
        """Nothing to release."""


def run_trial(base: Config, overrides: dict[str, Any], trial_id: str, stage: int, seed: int,
              data: Dataset | Shared, out_dir: str, threads: int | None = None) -> dict[str, Any]:
    """Train one configuration; write its log and validation probabilities; return its row."""
    if threads is not None:
        _limit_blas_threads(threads)
    data = resolve(data)
    values = dict(overrides)
    if "hidden" in values:
        values["hidden"] = tuple(values["hidden"])
    config = replace(base, seed=seed, **values).validated()
    out = Path(out_dir)
    log_path = out / "trials" / f"{trial_id}.jsonl"
    log = JsonlSink(log_path, overwrite=True)  # a rerun of an unfinished trial starts over
    trainer = Trainer(config, data, [log], run_id=trial_id)
    cut = EarlyCut(trainer, data.num_classes)
    trainer.sinks += [DiagnosticsSink(listeners=[cut.finding]), cut]
    summary = trainer.run()
    row: dict[str, Any] = {
        "trial": trial_id, "stage": stage, "seed": seed, "params": _jsonable(overrides),
        "config": config.to_dict(),
        "status": summary["status"], "reason": summary.get("reason"),
        "val_acc": summary.get("val_acc"), "val_loss": summary.get("val_loss"),
        "train_acc": summary.get("train_acc"), "steps": summary["steps"],
        "epochs": summary["epochs"], "wall_time": summary["wall_time"], "log": str(log_path),
    }
    if summary["status"] == "completed" and len(data.X_val):
        probs = softmax_probs(trainer.net.scores(trainer.X_val).astype(np.float64))
        model_path = out / "models" / f"{trial_id}.npz"
        model_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(model_path, val_probs=probs.astype(np.float32), **trainer.net.params)
        row["model"] = str(model_path)
    for key in ("val_acc", "val_loss", "train_acc"):
        value = row[key]
        if isinstance(value, float) and not math.isfinite(value):
            row[key] = None
    return row


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _limit_blas_threads(threads: int) -> None:
    """Cap BLAS threads in this worker so parallel trials do not oversubscribe the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
