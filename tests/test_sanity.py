"""sanity-check: a healthy net passes every check; each kind of breakage fails the right one."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from babysit.api import prepare_data
from babysit.cli.app import app
from babysit.config import Config
from babysit.nn import activations, losses
from babysit.sanity import checks

runner = CliRunner()
HEALTHY = Config()


def run_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["sanity-check", "--json", *args])
    return result.exit_code, json.loads(result.stdout) if result.exit_code in (0, 1) else {}


def by_name(out: dict) -> dict[str, dict]:
    return {c["name"]: c for c in out["checks"]}


def test_healthy_configuration_passes_every_check() -> None:
    code, out = run_json()
    assert code == 0 and out["passed"]
    assert [c["status"] for c in out["checks"]] == ["PASS"] * 8
    assert len(out["checks"]) == len(checks.CHECKS)


def test_a_wrong_backward_fails_gradcheck_and_overfit(monkeypatch: pytest.MonkeyPatch) -> None:
    def softmax_without_the_minus_one(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss, _ = losses.softmax_loss(scores, y)
        return loss, losses.softmax_probs(scores) / len(y)  # forgot dscores[y] -= 1

    monkeypatch.setitem(losses.LOSSES, "softmax", softmax_without_the_minus_one)
    code, out = run_json()
    results = by_name(out)
    assert code == 1
    assert results["gradient check"]["status"] == "FAIL"
    overfit = results["overfit small subset"]  # the failed gradient check is the cause
    assert overfit["status"] == "FAIL" and overfit["follows"] == "gradient check"
    assert "likely a bug" in overfit["numbers"]["cause"]


@pytest.mark.parametrize("args,cause", [
    (["--hidden", "1"], "too little capacity"),
    (["--optimizer", "sgd", "--lr", "1000"], "learning rate too high (NaN)"),
    (["--optimizer", "sgd", "--lr", "1e-7"], "learning rate too low"),
])
def test_overfit_failure_is_explained(args: list[str], cause: str) -> None:
    code, out = run_json(*args)
    overfit = by_name(out)["overfit small subset"]
    assert code == 1 and overfit["status"] == "FAIL"
    assert overfit["numbers"]["cause"] == cause


def test_regularization_raises_the_loss_as_the_lecture_says() -> None:
    data = prepare_data(HEALTHY)
    for reg in (0.0, 1e-4, 1.0):  # 1.0 raises it too, and is warned about (below)
        result = checks.check_reg_raises_loss(replace(HEALTHY, reg=reg), data)
        assert result.status == ("WARN" if reg == 1.0 else "PASS")
        assert result.numbers["loss_reg_on"] > result.numbers["loss_reg_off"]
    # Zero weights carry no L2 penalty: the check says so instead of passing.
    assert checks.check_reg_raises_loss(replace(HEALTHY, init="zeros"), data).status == "FAIL"


def test_loss_at_init_fails_for_huge_weights() -> None:
    data = prepare_data(HEALTHY)
    assert checks.check_init_loss(HEALTHY, data).status == "PASS"
    big = checks.check_init_loss(replace(HEALTHY, init="small", init_std=10.0), data)
    assert big.status == "FAIL" and big.numbers["loss"] > big.numbers["warn_below"]


def test_input_baseline_fails_when_inputs_carry_nothing() -> None:
    data = prepare_data(HEALTHY)
    constant = replace(data, X_train=np.ones_like(data.X_train), X_val=np.ones_like(data.X_val))
    assert checks.check_input_baseline(HEALTHY, data).status == "PASS"
    assert checks.check_input_baseline(HEALTHY, constant).status == "FAIL"


def test_batch_independence_catches_mixing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = prepare_data(HEALTHY)
    assert checks.check_batch_independence(HEALTHY, data).status == "PASS"
    relu = activations.ACTIVATIONS["relu"]

    def mixing_forward(x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return relu.forward(x - x.mean(axis=0))  # a reduction over the batch axis

    def mixing_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        d = relu.backward(dout, cache)
        return d - d.mean(axis=0)

    monkeypatch.setitem(activations.ACTIVATIONS, "relu",
                        activations.Activation("relu", mixing_forward, mixing_backward, "relu"))
    result = checks.check_batch_independence(HEALTHY, data)
    assert result.status == "FAIL" and result.numbers["leaking"]


def test_data_check_warns_about_uncentered_input_and_lr_probe_finds_a_range() -> None:
    raw = prepare_data(replace(HEALTHY, preprocess="none"))
    shifted = replace(raw, X_train=raw.X_train + 5.0)
    assert checks.check_data(HEALTHY, shifted).status == "WARN"
    probe = checks.check_lr_probe(HEALTHY, prepare_data(HEALTHY))
    verdicts = {row["lr"]: row["verdict"] for row in probe.numbers["probe"]}
    assert verdicts[1e-6] == "flat" and verdicts[1e-2] == "learning" and verdicts[10.0] == "exploded"
    lo, hi = probe.numbers["range"]
    assert lo <= 1e-2 <= hi


def test_plain_output_and_bad_input() -> None:
    result = runner.invoke(app, ["sanity-check", "--no-live"])
    assert result.exit_code == 0 and "8/8 checks passed" in result.output
    assert result.output.count("PASS ") == 8
    bad = runner.invoke(app, ["sanity-check", "--data", "missing.npz"])
    assert bad.exit_code == 2 and bad.output.startswith("error:")


def test_centred_unscaled_images_are_not_scaled_unless_the_init_adapts() -> None:
    # The lecture: "for images, center only" -- with an init that assumes unit-scale inputs,
    # 0..255 pixels centred per channel start with huge logits: the data check says "not
    # scaled" (the line input-not-scaled draws) and the init check names the inputs' scale;
    # --scale-first-layer (an input-aware init) takes both back.
    raw = prepare_data(Config(data="digits", preprocess="per-channel"))
    pixels = replace(raw, X_train=raw.X_train * 255 / 16, X_val=raw.X_val * 255 / 16)
    assert raw.preprocessing == "per-channel" and pixels.X_train.std() > 50
    config = Config(data="digits")
    data = checks.check_data(config, pixels)
    assert data.status == "WARN" and "not scaled (RMS" in data.message and data.root
    assert "--preprocess image" in data.advice
    init = checks.check_init_loss(config, pixels)
    assert init.status == "FAIL" and "not scaled" in init.advice
    adapted = replace(config, scale_first_layer=True)
    assert checks.check_data(adapted, pixels).status == "PASS"
    assert checks.check_init_loss(adapted, pixels).status != "FAIL"
    # the default for images centres per channel and divides by one number: values in [-1, 1]
    default = prepare_data(Config(data="digits"))
    assert default.preprocessing == "image" and abs(abs(default.X_train).max() - 1.0) < 1e-9
    assert checks.check_data(config, default).status == "PASS"
    assert checks.check_init_loss(config, default).status == "PASS"
    # uncentred pixels are still caught, per channel
    shifted = replace(pixels, X_train=pixels.X_train + 120.0)
    result = checks.check_data(adapted, shifted)
    assert result.status == "WARN" and "a colour channel" in result.message


def test_a_rate_far_too_high_is_read_as_too_high_everywhere() -> None:
    # sgd at lr 20: the ReLUs die and the updates shrink to nothing, which once read as "too low"
    code, out = run_json("--optimizer", "sgd", "--lr", "20")
    checks_ = by_name(out)
    assert code == 1
    overfit = checks_["overfit small subset"]
    assert overfit["status"] == "FAIL" and "too high" in overfit["numbers"]["cause"]
    assert "too low" not in overfit["message"] + overfit["advice"]
    baseline = checks_["input-independent baseline"]  # run at the probe's best rate instead
    assert baseline["status"] == "PASS" and "probe's best --lr" in baseline["message"]


@pytest.mark.parametrize("reg,status,says", [("1e-7", "WARN", "too weak"),  # 1000x too weak
                                             ("1e-4", "PASS", "with L2 0.0001"),
                                             ("1.0", "WARN", "will dominate")])
def test_regularization_check_weighs_the_term_not_only_its_sign(reg: str, status: str, says: str) -> None:
    _, out = run_json("--reg", reg)
    check = by_name(out)["regularization raises loss"]
    assert check["status"] == status and says in check["message"], check


def test_the_data_check_and_input_not_centered_draw_one_line_which_set_moves() -> None:
    from babysit.data import input_stats
    from babysit.diagnostics.engine import Engine, build_rules

    raw = prepare_data(Config(data="digits", preprocess="none"))  # pixels 0..16: 0.81 std off
    stats = input_stats(raw.X_train, raw.image_shape)

    def rule_says(overrides: dict) -> bool:
        engine = Engine(build_rules(overrides, only=["input-not-centered"]))
        return bool(engine.push_all([{"type": "header", "input_stats": stats}]).findings)

    def check_says(overrides: dict) -> bool:
        return "not centered" in checks.check_data(HEALTHY, raw, overrides).message

    assert rule_says({}) is check_says({}) is False  # they disagreed: 0.1 vs 1.0
    tighter = {"input-not-centered": {"max_mean_over_std": 0.5}}
    assert rule_says(tighter) is check_says(tighter) is True
    result = runner.invoke(app, ["sanity-check", "--no-live", "--data", "digits", "--preprocess",
                                 "none", "--set", "input-not-centered.max_mean_over_std=0.5"])
    assert "not centered" in result.output
    assert "not centered" not in runner.invoke(app, ["sanity-check", "--no-live", "--data", "digits",
                                                     "--preprocess", "none"]).output


@pytest.mark.parametrize("args", [["--reg", "10"], ["--lr", "1e-6"]])
def test_a_setting_too_strong_to_learn_is_named_and_the_input_check_still_tells(args: list[str]) -> None:
    """The input-independent baseline trains without L2 at the probe's best rate: at the
    user's own (--reg 10, --lr 1e-6) neither run moves, which once read as "not using its input"."""
    _, out = run_json(*args)
    checks_ = by_name(out)
    assert checks_["input-independent baseline"]["status"] == "PASS", checks_
    named = checks_["regularization raises loss" if args[0] == "--reg" else "learning-rate probe"]
    assert named["status"] == "WARN"


def test_a_zero_init_is_the_cause_and_what_fails_after_it_follows() -> None:
    _, out = run_json("--init", "zeros")
    checks_ = by_name(out)
    cause = checks_["regularization raises loss"]
    assert cause["status"] == "FAIL" and "every weight starts at 0" in cause["message"]
    assert "--init he" in cause["advice"]
    overfit = checks_["overfit small subset"]
    assert overfit["status"] == "FAIL" and overfit["follows"] == "regularization raises loss"
    assert "too high" not in overfit["message"] + overfit["advice"]  # its old wrong guess


def test_a_healthy_run_has_nothing_following_anything() -> None:
    code, out = run_json()
    assert code == 0 and all(c["follows"] is None for c in out["checks"])
