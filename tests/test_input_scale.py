"""One definition of centred and scaled inputs (babysit.diagnostics.inputs): the same inputs get
the same verdict from `babysit train`'s log, the Monitor's log, and both sanity checks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from babysit.api import prepare_data
from babysit.config import Config
from babysit.data import input_stats
from babysit.diagnostics.engine import Engine, build_rules
from babysit.diagnostics.inputs import SCALED_RMS, judge_inputs
from babysit.sanity import checks

torch = pytest.importorskip("torch")


def _rule_ids(log: Path) -> set[str]:
    import json

    engine = Engine(build_rules())
    report = engine.push_all(json.loads(line) for line in log.read_text().splitlines())
    return {f.rule for f in report.findings}


def _digits(preprocess: str) -> tuple[np.ndarray, np.ndarray]:
    data = prepare_data(Config(data="digits", preprocess=preprocess))
    return data.X_train.astype(np.float32), data.y_train


def _monitor_log(tmp_path: Path, x: np.ndarray) -> Path:
    from babysit.torch import Monitor

    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 10))
    log = tmp_path / "monitor.jsonl"
    with Monitor(model, log=log, num_classes=10, inputs=torch.from_numpy(x), verbose=False):
        pass
    return log


@pytest.mark.parametrize("preprocess,scaled", [("none", False), ("image", True)])
def test_raw_digit_pixels_are_unscaled_for_every_producer(tmp_path: Path, preprocess: str,
                                                          scaled: bool) -> None:
    # raw 0..16 pixels: the Monitor flagged them and `babysit train` did not (issue 35)
    x, _ = _digits(preprocess)
    monitor = "input-not-scaled" in _rule_ids(_monitor_log(tmp_path, x))
    from typer.testing import CliRunner

    from babysit.cli.app import app

    log = tmp_path / "train.jsonl"
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--preprocess", preprocess,
                                      "--epochs", "1", "--log", str(log), "--no-live"])
    assert result.exit_code == 0, result.output
    trainer = "input-not-scaled" in _rule_ids(log)
    data = prepare_data(Config(data="digits", preprocess=preprocess))
    numpy_check = "not scaled" in checks.check_data(Config(data="digits"), data).message
    torch_check = "not scaled" in _torch_data_check(x, data.y_train)
    assert monitor is trainer is numpy_check is torch_check is (not scaled)


def _torch_data_check(x: np.ndarray, y: np.ndarray) -> str:
    """sanity_check's data line for these inputs."""
    from babysit.torch import sanity_check

    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 10))
    report = sanity_check(model, None, torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)))
    return report["data"].message


def test_the_line_sits_where_the_docstring_says() -> None:
    # pixels in [0, 1] (MNIST-like RMS ~0.3-0.5) and standardized features are scaled; 0..16
    # and 0..255 pixels and a thousandth of unit scale are not
    rng = np.random.default_rng(0)
    for x, unscaled in [(rng.random((500, 20)), False), (rng.standard_normal((500, 20)), False),
                        (16 * rng.random((500, 20)), True), (255 * rng.random((500, 20)), True),
                        (1e-3 * rng.standard_normal((500, 20)), True)]:
        assert judge_inputs(input_stats(x)).unscaled() is unscaled
    # near misses either side of the upper line
    assert not judge_inputs({"rms": SCALED_RMS[1] * 0.99}).unscaled()
    assert judge_inputs({"rms": SCALED_RMS[1] * 1.01}).unscaled()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("scale,fires", [(0.03, True), (0.08, True), (0.12, False), (1.0, False),
                                         (2.5, False), (3.5, True), (16.0, True), (255.0, True)])
def test_the_scale_family_through_the_rule(seed: int, scale: float, fires: bool) -> None:
    # centred features of mixed spread (std 0.5..1.5 around 1), times a scale: near misses
    # either side of both lines
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((400, 30)) * rng.uniform(0.5, 1.5, 30)
    rms = float(np.sqrt(np.mean(x ** 2)))
    assume = SCALED_RMS[0] * 1.05 < rms < SCALED_RMS[1] * 0.95 or not \
        SCALED_RMS[0] * 0.95 <= rms <= SCALED_RMS[1] * 1.05
    assert assume, f"scale {scale} lands too near a line (RMS {rms:.3g}) to be a fair case"
    report = Engine(build_rules(only=["input-not-scaled", "input-not-centered"])).push_all(
        [{"type": "header", "input_stats": input_stats(x)}])
    assert [f.rule for f in report.findings] == (["input-not-scaled"] if fires else [])


def test_image_tensors_are_judged_per_channel_in_the_monitor_header() -> None:
    from babysit.torch.records import tensor_input_stats

    rng = np.random.default_rng(0)
    # NCHW images, channel 0 far off centre, channels 1 and 2 centred
    x = rng.standard_normal((64, 3, 8, 8)).astype(np.float32)
    x[:, 0] += 5.0
    stats = tensor_input_stats(torch.from_numpy(x))
    assert stats["channel_mean_over_std_max"] == pytest.approx(5.0, rel=0.1)
    # the same images as an NHWC array: the same channels
    nhwc = tensor_input_stats(np.moveaxis(x, 1, -1))
    assert nhwc["channel_mean_over_std_max"] == pytest.approx(stats["channel_mean_over_std_max"])
    assert judge_inputs(stats).off_centre() and judge_inputs(stats).image


def test_the_scale_rule_explains_the_init_loss_and_says_rescale() -> None:
    data = prepare_data(Config(data="digits", preprocess="none"))
    header = {"type": "header", "num_classes": 10, "input_stats": input_stats(data.X_train, data.image_shape),
              "config": {"preprocess": "none", "image_shape": [8, 8, 1]}}
    steps = [{"type": "step", "step": i, "loss": 16.0 - i} for i in range(5)]
    report = Engine(build_rules()).push_all([header, *steps])
    by_rule = {f.rule: f for f in report.findings}
    assert by_rule["loss-at-init"].caused_by == "input-not-scaled"
    assert "not scaled (RMS 7.7" in by_rule["loss-at-init"].message
    assert report.tries(by_rule["input-not-scaled"]) == "try: preprocess=image"
    adapted = replace(Config(data="digits", preprocess="none"), scale_first_layer=True)
    assert checks.check_data(adapted, data).status in ("PASS", "WARN")
    assert "not scaled" not in checks.check_data(adapted, data).message
