"""Where data comes from: the embedded spiral, sklearn's digits, or the user's .npz / .csv file."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from babysit.data.dataset import Dataset, make_dataset
from babysit.data.spiral import spiral
from babysit.errors import BabysitError
from babysit.memory import require_memory


def load_spiral(classes: int, points: int, val_fraction: float, seed: int) -> Dataset:
    """The spiral with `classes` arms of `points` points, split with the same seed."""
    if classes < 2:
        raise BabysitError(f"--classes must be at least 2, got {classes}")
    if points < 1:
        raise BabysitError(f"--points must be at least 1, got {points}")
    # Each point: 2 coordinates, a label, and the copies a split and preprocessing make.
    require_memory(classes * points * 8 * 3 * 4, f"a spiral of {classes} x {points:,} points",
                   "use fewer --points or --classes")
    rng = np.random.default_rng(seed)
    x, y = spiral(classes, points, rng)
    return make_dataset("spiral", x, y, None, None, val_fraction, rng)


def load_digits(val_fraction: float, seed: int) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes)."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise BabysitError("--data digits needs scikit-learn: pip install 'babysit[datasets]'") from None
    bunch = sk_load_digits()
    images = bunch.images.reshape(-1, 8, 8, 1)
    return make_dataset("digits", images, bunch.target, None, None, val_fraction,
                        np.random.default_rng(seed))


def load_npz(path: Path, val_fraction: float, seed: int) -> Dataset:
    """Arrays X_train, y_train and optionally X_val, y_val from a NumPy .npz archive."""
    # np.load takes anything that is not a zip for a pickle, and then blames "pickled data".
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise BabysitError(f"cannot read {path}: {exc.strerror}") from None
    if magic != b"PK\x03\x04":
        what = "an empty file" if not magic else "not a zip archive"
        raise BabysitError(f"{path} is not a .npz archive ({what}); save one with "
                           "numpy.savez(path, X_train=..., y_train=...)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise BabysitError(f"cannot read {path} as .npz: {exc}") from None
    missing = [key for key in ("X_train", "y_train") if key not in arrays]
    if missing:
        raise BabysitError(f"{path}: missing key(s) {', '.join(missing)} "
                           f"(found: {', '.join(sorted(arrays)) or 'none'})")
    if ("X_val" in arrays) != ("y_val" in arrays):
        raise BabysitError(f"{path}: X_val and y_val must be given together")
    return make_dataset(path.name, arrays["X_train"], arrays["y_train"], arrays.get("X_val"),
                        arrays.get("y_val"), val_fraction, np.random.default_rng(seed))


def load_csv(path: Path, label_column: str | None, val_fraction: float, seed: int) -> Dataset:
    """A CSV with a header row: numeric feature columns and one integer label column."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            try:
                rows = list(reader)
            except csv.Error as exc:  # e.g. a field over csv.field_size_limit(): not a number
                raise BabysitError(f"{path}:{reader.line_num}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BabysitError(f"cannot read {path}: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise BabysitError(f"{path}: no data rows (a header row and at least one data row needed)")
    header = [h.strip() for h in rows[0]]
    label = label_column if label_column is not None else header[-1]
    if label not in header:
        raise BabysitError(f"{path}: no column named {label!r} (columns: {', '.join(header)})")
    col = header.index(label)
    body = rows[1:]
    for line_no, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise BabysitError(f"{path}:{line_no}: {len(row)} fields, header has {len(header)}")
    try:
        table = np.array([[float(cell) for cell in row] for row in body])
    except ValueError as exc:
        raise BabysitError(f"{path}: non-numeric value ({exc})") from None
    x = np.delete(table, col, axis=1)
    if x.shape[1] == 0:
        raise BabysitError(f"{path}: no feature columns besides the label {label!r}")
    return make_dataset(path.name, x, table[:, col], None, None, val_fraction,
                        np.random.default_rng(seed))


def load_data(
    source: str, *, classes: int | None = None, points: int = 100, label_column: str | None = None,
    val_fraction: float = 0.2, seed: int = 0
) -> Dataset:
    """Resolve --data: 'spiral' (`classes` arms, 3 by default), 'digits', or a path to a .npz
    or .csv file; for those, a BabysitError if `classes` is given and is not their count."""
    if source == "spiral":
        return load_spiral(classes or SPIRAL_CLASSES, points, val_fraction, seed)
    data = _load_file_or_digits(source, label_column, val_fraction, seed)
    if classes is not None and classes != data.num_classes:
        raise BabysitError(f"--classes {classes}, but --data {source} has {data.num_classes} "
                           "classes (--classes sets the count only for the spiral)")
    return data


SPIRAL_CLASSES = 3  # the lecture's (and CS231n's) spiral: three arms


def _load_file_or_digits(source: str, label_column: str | None, val_fraction: float,
                         seed: int) -> Dataset:
    if source == "digits":
        return load_digits(val_fraction, seed)
    path = Path(source)
    if not path.exists():
        raise BabysitError(f"data file not found: {path} (or use --data spiral / digits)")
    if path.is_dir():
        raise BabysitError(f"--data {path} is a directory, expected a .npz or .csv file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return load_npz(path, val_fraction, seed)
    if suffix == ".csv":
        return load_csv(path, label_column, val_fraction, seed)
    raise BabysitError(f"unsupported data file {path}: expected .npz or .csv")
