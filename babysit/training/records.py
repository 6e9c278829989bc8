"""Builders for the three record types of a run log, and their strict-JSON encoding."""

from __future__ import annotations

import json
import math
import platform
from typing import Any

import numpy as np

from babysit import __version__
from babysit.config import Config
from babysit.data import Dataset, input_stats

# 2: `layers` is the last field of a step record; 3: grad_norm is the data loss's gradient
SCHEMA_VERSION = 3
# Strict JSON has no NaN or Infinity: they are written as these strings (docs/log-format.md).
NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _finite_or_string(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return NONFINITE[repr(value)]
    if isinstance(value, dict):
        return {k: _finite_or_string(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_string(v) for v in value]
    return value


def encode(record: dict[str, Any]) -> str:
    """One line of strict JSON; NaN and +-Infinity become the strings "NaN", "Infinity", "-Infinity"."""
    try:
        return json.dumps(record, allow_nan=False, separators=(",", ":"))
    except ValueError:  # only records holding a non-finite float pay for the rewrite
        return json.dumps(_finite_or_string(record), allow_nan=False, separators=(",", ":"))


def header_record(
    config: Config, dataset: Dataset, run_id: str, started_at: str, num_params: int,
    steps_per_epoch: int,
) -> dict[str, Any]:
    """The first record: what is being trained, on what data, with which versions."""
    return {
        "type": "header",
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "started_at": started_at,
        "config": config.to_dict(),
        "dataset": {
            "name": dataset.name,
            "X_train": list(dataset.X_train.shape),
            "X_val": list(dataset.X_val.shape),
            "image_shape": list(dataset.image_shape) if dataset.image_shape else None,
            "preprocessing": dataset.preprocessing,
            # what always guessing the commonest class scores on validation: on imbalanced
            # data, the floor an accuracy must clear (not 1/C)
            "val_majority_rate": (float(np.bincount(dataset.y_val).max() / len(dataset.y_val))
                                  if len(dataset.y_val) else None),
        },
        "num_classes": dataset.num_classes,
        "activation": config.activation,
        "loss_fn": config.loss,
        "num_params": num_params,
        "steps_per_epoch": steps_per_epoch,
        "input_stats": input_stats(dataset.X_train, dataset.image_shape),
        "seed": config.seed,
        "versions": {"babysit": __version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }


def summary_record(
    status: str, steps: int, epochs: int, wall_time: float, final: dict[str, float | None],
    reason: str | None = None
) -> dict[str, Any]:
    """The last record: how the run ended and where it got to."""
    rec: dict[str, Any] = {"type": "summary", "status": status, "steps": steps,
                           "epochs": epochs, "wall_time": round(wall_time, 3)}
    rec.update(final)
    if reason:
        rec["reason"] = reason
    return rec


FIRST_LAYER_UNITS = 32  # units kept: the lecture's picture shows a few dozen filters
FIRST_LAYER_NUMBERS = 50_000  # and at most this many weights (a 3,072-input layer: 16 units)


def first_layer_record(weights: np.ndarray, image_shape: Any = None) -> dict[str, Any]:
    """The first layer's weights for the lecture's last monitoring picture ("visualize the
    first-layer weights": smooth, structured filters train well, noisy ones do not): up to 32
    units spread across the layer, each its list of input weights (4 significant digits),
    with the inputs' image shape when known. `weights` is (inputs, units)."""
    w = np.asarray(weights, dtype=float)
    inputs, units = w.shape
    keep = max(1, min(FIRST_LAYER_UNITS, units, FIRST_LAYER_NUMBERS // max(1, inputs)))
    picked = sorted({int(j) for j in np.rint(np.linspace(0, units - 1, keep))})
    return {"inputs": int(inputs), "units": int(units),
            "image_shape": [int(d) for d in image_shape] if image_shape else None,
            "weights": [[float(f"{v:.4g}") for v in w[:, j]] for j in picked]}
