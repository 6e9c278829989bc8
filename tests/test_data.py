"""Data sources, preprocessing fitted on train only, and one clear error for each kind of bad data."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.data import load_data, preprocess
from babysit.data.dataset import Dataset
from babysit.errors import BabysitError


def test_spiral_is_seeded_and_split() -> None:
    a, b = load_data("spiral", classes=4, points=50, seed=3), load_data("spiral", classes=4,
                                                                          points=50, seed=3)
    assert a.num_classes == 4 and a.X_train.shape == (160, 2) and a.X_val.shape == (40, 2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, load_data("spiral", classes=4, points=50, seed=4).X_train)


def test_npz_with_and_without_validation(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), np.arange(50) % 3
    np.savez(tmp_path / "a.npz", X_train=x, y_train=y, X_val=x[:5], y_val=y[:5])
    np.savez(tmp_path / "b.npz", X_train=x, y_train=y)
    a = load_data(str(tmp_path / "a.npz"))
    b = load_data(str(tmp_path / "b.npz"), val_fraction=0.2)
    assert len(a.X_train) == 50 and len(a.X_val) == 5
    assert len(b.X_train) == 40 and len(b.X_val) == 10 and b.num_classes == 3


def test_npz_images_are_flattened_with_their_shape(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(20, 4, 4, 3))
    np.savez(tmp_path / "img.npz", X_train=x, y_train=np.arange(20) % 2)
    ds = load_data(str(tmp_path / "img.npz"))
    assert ds.image_shape == (4, 4, 3) and ds.num_features == 48


def test_csv_label_column_by_name_or_last(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    rows = ["label,f1,f2"] + [f"{i % 2},{i},{i * 2}" for i in range(20)]
    path.write_text("\n".join(rows) + "\n")
    by_name = load_data(str(path), label_column="label", val_fraction=0.0)
    assert by_name.num_features == 2 and set(by_name.y_train) == {0, 1}
    last = load_data(str(path), val_fraction=0.0)  # f2 as the label: values 0..38, integer
    assert last.num_features == 2 and last.num_classes == 39


def test_digits_loads_image_shaped_data() -> None:
    pytest.importorskip("sklearn")
    ds = load_data("digits")
    assert ds.num_classes == 10 and ds.image_shape == (8, 8, 1) and ds.num_features == 64


def _toy(x_val_shift: float = 5.0) -> Dataset:
    rng = np.random.default_rng(1)
    xt = rng.normal(3.0, 2.0, size=(100, 4))
    xv = rng.normal(3.0 + x_val_shift, 2.0, size=(30, 4))
    return Dataset("toy", xt, np.arange(100) % 2, xv, np.arange(30) % 2, 2, (2, 2, 1))


@pytest.mark.parametrize("method", ["center", "standardize", "mean-image", "per-channel"])
def test_preprocessing_is_fitted_on_train_only(method: str) -> None:
    ds = _toy()
    out = preprocess(ds, method)
    if method == "per-channel":  # one scalar mean for the single channel
        assert abs(out.X_train.mean()) < 1e-12
        shift = ds.X_train.mean()
    else:
        np.testing.assert_allclose(out.X_train.mean(axis=0), 0, atol=1e-12)
        shift = ds.X_train.mean(axis=0)
    scale = ds.X_train.std(axis=0) if method == "standardize" else 1.0
    # Validation is moved by the training statistics, so its shift of +5 survives.
    np.testing.assert_allclose(out.X_val, (ds.X_val - shift) / scale)
    assert out.X_val.mean() > 1.0
    if method == "standardize":
        np.testing.assert_allclose(out.X_train.std(axis=0), 1.0)


def test_standardize_leaves_constant_features_finite() -> None:
    ds = _toy()
    ds.X_train[:, 2] = 7.0
    out = preprocess(ds, "standardize")
    assert np.all(np.isfinite(out.X_train)) and np.all(out.X_train[:, 2] == 0)


def test_per_channel_needs_images() -> None:
    ds = _toy()
    ds.image_shape = None
    with pytest.raises(BabysitError, match="image-shaped"):
        preprocess(ds, "per-channel")


def _npz(tmp_path: Path, **arrays: np.ndarray) -> str:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return str(path)


X = np.random.default_rng(0).normal(size=(10, 3))
Y = np.arange(10) % 2


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: str(p / "missing.npz"), "not found"),
        (lambda p: (p / "junk.npz").write_bytes(b"not a zip") and str(p / "junk.npz"), "not a .npz archive"),
        (lambda p: _npz(p, X_train=X), "missing key"),
        (lambda p: _npz(p, X_train=X[:, 0], y_train=Y), "shape"),
        (lambda p: _npz(p, X_train=X, y_train=Y[:7]), "rows"),
        (lambda p: _npz(p, X_train=X, y_train=Y, X_val=X[:, :2], y_val=Y), "features"),
        (lambda p: _npz(p, X_train=np.where(X > 1, np.nan, X), y_train=Y), "NaN"),
        (lambda p: _npz(p, X_train=np.where(X > 1, np.inf, X), y_train=Y), "infinite"),
        (lambda p: _npz(p, X_train=X, y_train=Y + 0.5), "integer"),
        (lambda p: _npz(p, X_train=X, y_train=Y - 1), "negative"),
        (lambda p: _npz(p, X_train=X, y_train=Y, X_val=X, y_val=Y + 5), "no training example"),
        (lambda p: _npz(p, X_train=X, y_train=np.where(Y == 1, 1e9, 0.0)), "at most 1,000,000 classes"),
        (lambda p: _npz(p, X_train=X, y_train=np.where(Y == 1, 2**62, 0)), "at most 1,000,000 classes"),
        (lambda p: _npz(p, X_train=np.float64(3.0), y_train=Y), "shape"),
        (lambda p: _npz(p, X_train=X, y_train=Y, X_val=np.zeros((0, 3)), y_val=np.zeros(0, int)),
         "X_val / y_val are empty"),
        (lambda p: (p / "long.csv").write_text("a,label\n" + "1" * 140_000 + ",0\n2,1\n")
         and str(p / "long.csv"), "long.csv:2: field larger than field limit"),
        (lambda p: (p / "huge.csv").write_text("a,label\n1,1e300\n2,1\n") and str(p / "huge.csv"),
         "label 1e+300"),
        (lambda p: _npz(p, X_train=X, y_train=np.zeros(10, int)), "at least 2"),
        (lambda p: _npz(p, X_train=np.zeros((0, 3)), y_train=np.zeros(0, int)), "empty"),
        (lambda p: (p / "e.csv").write_text("") or str(p / "e.csv"), "no data rows"),
        (lambda p: (p / "t.txt").write_text("x") and str(p / "t.txt"), "unsupported"),
    ],
    ids=["missing-file", "unreadable", "missing-key", "wrong-shape", "row-mismatch",
         "feature-mismatch", "nan", "inf", "non-integer-labels", "negative-label",
         "label-only-in-val", "label-1e9", "label-2**62", "scalar-X", "empty-val", "csv-long-field",
         "csv-label-1e300", "one-class", "empty", "empty-csv", "unsupported-type"],
)
def test_bad_data_is_one_line_and_exit_2(make, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = make(tmp_path)
    with pytest.raises(BabysitError, match=re.escape(message)):
        load_data(source)
    result = CliRunner().invoke(app, ["train", "--data", source, "--epochs", "1",
                                      "--log", str(tmp_path / "log.jsonl")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_digits_without_sklearn_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(BabysitError, match=r"pip install 'babysit\[datasets\]'"):
        load_data("digits")


def _pixels() -> Dataset:
    """Digit-like images with 0..255 pixels: bright centres, blank borders, one channel."""
    rng = np.random.default_rng(0)
    x = np.zeros((300, 8, 8, 1))
    x[:, 2:6, 2:6, 0] = rng.uniform(0, 255, size=(300, 4, 4))
    flat = x.reshape(300, -1)
    y = rng.integers(0, 10, size=300)
    return Dataset("pixels", flat[:240], y[:240], flat[240:], y[240:], 10, (8, 8, 1))


def test_auto_centres_images_per_channel_and_standardizes_the_rest() -> None:
    images = preprocess(_pixels(), "auto")
    assert images.preprocessing == "image"  # centred per channel, then one scale for all pixels
    assert abs(images.X_train.mean()) < 1e-9 and abs(np.abs(images.X_train).max() - 1.0) < 1e-9
    centred = preprocess(_pixels(), "per-channel")  # the lecture's "center only"
    assert abs(centred.X_train.mean()) < 1e-9 and centred.X_train.std() > 50
    ratio = images.X_train[:, 18] / np.where(centred.X_train[:, 18] == 0, 1, centred.X_train[:, 18])
    assert np.allclose(ratio[centred.X_train[:, 18] != 0], ratio[centred.X_train[:, 18] != 0][0])
    table = preprocess(replace(_toy(), image_shape=None), "auto")
    assert table.preprocessing == "standardize"
    np.testing.assert_allclose(table.X_train.std(axis=0), 1.0)


def test_scale_first_layer_makes_the_init_follow_the_input_scale() -> None:
    # He init assumes unit-scale inputs: on centred 0..255 pixels the first layer's
    # pre-activations would be ~70x too large; --scale-first-layer divides by the input's RMS,
    # keeping them at the scale they have on standardized data.
    from babysit.config import Config
    from babysit.nn.net import MLP

    def first_layer_std(ds: Dataset, scale: float) -> float:
        spec = Config(hidden=(200,), scale_first_layer=True).net_spec(ds.num_features,
                                                                      ds.num_classes, scale)
        net = MLP(spec, np.random.default_rng(0))
        return float((ds.X_train @ net.params["W1"]).std())

    images, standard = preprocess(_pixels(), "per-channel"), preprocess(_pixels(), "standardize")
    reference = first_layer_std(standard, standard.input_scale)
    assert first_layer_std(images, 1.0) > 20 * reference  # what it was before
    assert 0.5 < first_layer_std(images, images.input_scale) / reference < 2.0
    # without the option, --init he is the lecture's He: the input scale is not looked at
    lecture = Config(hidden=(200,)).net_spec(64, 10, images.input_scale)
    assert lecture.input_scale == 1.0


def test_the_lectures_xavier_saturates_sigmoids_on_unscaled_pixels_and_not_on_scaled_ones() -> None:
    # issue 23: with the first layer scaled to the input, raw digits no longer saturated a
    # sigmoid net, and the lecture's "scale your inputs" lesson vanished.
    pytest.importorskip("sklearn")
    from babysit.api import train
    from babysit.config import Config
    from babysit.diagnostics.sink import DiagnosticsSink

    def rules(**kw: object) -> set[str]:
        doctor = DiagnosticsSink()
        train(Config(data="digits", activation="sigmoid", init="xavier", epochs=5, **kw), [doctor])
        return {f.rule for f in doctor.report.findings}  # type: ignore[union-attr]

    assert "saturated-activations" in rules(preprocess="per-channel")  # centred 0..16 pixels
    assert "saturated-activations" not in rules()  # --preprocess image: in [-1, 1]
