"""The Dataset every loader returns, and the checks that turn bad data into one clear error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from babysit.config import MAX_CLASSES
from babysit.errors import BabysitError


@dataclass
class Dataset:
    """Training and validation splits; X is (N, D) float, y is (N,) int in [0, num_classes)."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    num_classes: int
    image_shape: tuple[int, int, int] | None = None  # (H, W, C) when rows are flattened images
    preprocessing: str = "none"  # what preprocess() applied (auto resolved)

    @property
    def input_scale(self) -> float:
        """The root mean square of the training inputs (what the first layer's init sees)."""
        x = self.X_train
        return float(np.sqrt(np.mean(np.square(x)))) if x.size else 1.0

    @property
    def num_features(self) -> int:
        """D, the width of one input row."""
        return int(self.X_train.shape[1])


def as_labels(y: np.ndarray, what: str) -> np.ndarray:
    """y as an int64 vector of labels in [0, MAX_CLASSES), or a BabysitError saying why not."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise BabysitError(f"{what} must be a 1-D vector of labels, got shape {y.shape}")
    if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not (
            np.all(np.isfinite(y)) and np.all(y == np.round(y)))):
        raise BabysitError(f"{what} must hold integer class labels (got dtype {y.dtype}"
                           f"{', with fractional or non-finite values' if y.dtype.kind == 'f' else ''})")
    if len(y):
        # Compare before casting: 1e300 cast to int64 wraps to a negative number.
        lo, hi = y.min(), y.max()
        if lo < 0:
            raise BabysitError(f"{what} has negative label {lo:g}; labels must be 0 .. C-1")
        if hi >= MAX_CLASSES:
            raise BabysitError(f"{what} has label {hi:g}: labels must be 0 .. C-1 with at most "
                               f"{MAX_CLASSES:,} classes")
    return y.astype(np.int64)


def as_features(x: np.ndarray, what: str) -> tuple[np.ndarray, tuple[int, int, int] | None]:
    """x flattened to (N, D) float64 plus its image shape if it was (N, H, W[, C])."""
    x = np.asarray(x)
    if x.dtype.kind not in "iuf":
        raise BabysitError(f"{what} must be numeric, got dtype {x.dtype}")
    if x.ndim < 2:
        raise BabysitError(f"{what} must have shape (N, D) or (N, H, W, C), got {x.shape}")
    if 0 in x.shape[1:]:
        raise BabysitError(f"{what} has no features: shape {x.shape}")
    image_shape = None
    if x.ndim == 3:
        image_shape = (x.shape[1], x.shape[2], 1)
    elif x.ndim == 4:
        image_shape = (x.shape[1], x.shape[2], x.shape[3])
    elif x.ndim > 4:
        raise BabysitError(f"{what} has too many dimensions: {x.shape}")
    x = x.reshape(x.shape[0], int(np.prod(x.shape[1:]))).astype(np.float64)
    if not np.all(np.isfinite(x)):
        bad = int(np.sum(~np.isfinite(x)))
        raise BabysitError(f"{what} contains {bad} NaN or infinite value(s)")
    return x, image_shape


def validate(ds: Dataset) -> Dataset:
    """Check shapes, labels and class count; return ds or raise BabysitError naming the problem."""
    if len(ds.X_train) == 0:
        raise BabysitError(f"{ds.name}: the training set is empty")
    for split, x, y in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val)):
        if len(x) != len(y):
            raise BabysitError(f"{ds.name}: X_{split} has {len(x)} rows but y_{split} has {len(y)}")
        if len(y) and y.min() < 0:
            raise BabysitError(f"{ds.name}: y_{split} has negative label {int(y.min())}; "
                               "labels must be 0 .. C-1")
    if ds.X_val.shape[1] != ds.X_train.shape[1]:
        raise BabysitError(f"{ds.name}: X_val has {ds.X_val.shape[1]} features "
                           f"but X_train has {ds.X_train.shape[1]}")
    present = np.unique(ds.y_train)
    if len(present) < 2:
        raise BabysitError(f"{ds.name}: the training labels hold {len(present)} class; "
                           "classification needs at least 2")
    if len(ds.y_val) and ds.y_val.max() >= ds.num_classes:
        raise BabysitError(f"{ds.name}: class {int(ds.y_val.max())} has validation examples but "
                           f"no training example (training labels: 0 .. {ds.num_classes - 1}); "
                           "too little data for the split: give more examples or a smaller "
                           "--val-fraction")
    return ds


def split(
    x: np.ndarray, y: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random split into (X_train, y_train, X_val, y_val)."""
    if not 0.0 <= val_fraction < 1.0:
        raise BabysitError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    order = rng.permutation(len(x))
    n_val = round(len(x) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def make_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    val_fraction: float,
    rng: np.random.Generator,
) -> Dataset:
    """Clean raw arrays into a validated Dataset, splitting off validation data if none is given."""
    xt, image_shape = as_features(x_train, f"{name}: X_train")
    if len(xt) == 0:
        raise BabysitError(f"{name}: the training set is empty")
    yt = as_labels(y_train, f"{name}: y_train")
    if len(xt) != len(yt):
        raise BabysitError(f"{name}: X_train has {len(xt)} rows but y_train has {len(yt)}")
    if x_val is None:
        xt, yt, xv, yv = split(xt, yt, val_fraction, rng)
    else:
        if y_val is None:
            raise BabysitError(f"{name}: X_val is given without y_val")
        xv, _ = as_features(x_val, f"{name}: X_val")
        yv = as_labels(y_val, f"{name}: y_val")
        if len(xv) == 0 or len(yv) == 0:
            raise BabysitError(f"{name}: X_val / y_val are empty: leave them out to hold out "
                               "--val-fraction of the training data (0 for no validation)")
    num_classes = int(yt.max()) + 1 if len(yt) else 0
    return validate(Dataset(name, xt, yt, xv, yv, num_classes, image_shape))
