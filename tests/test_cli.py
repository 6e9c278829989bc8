"""The commands end to end: exit codes, output, logs, and clean shutdown on signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.nn import activations

runner = CliRunner()


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_train_writes_log_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["train", "--epochs", "20", "--hidden", "50"])
    assert result.exit_code == 0, result.output
    logs = list((tmp_path / "runs").glob("*.jsonl"))
    assert len(logs) == 1 and f"log: runs/{logs[0].name}" in result.output
    records = read_log(logs[0])
    assert records[-1]["status"] == "completed" and records[0]["config"]["hidden"] == [50]
    # about ten progress lines, never one per step
    assert 2 <= result.output.count("epoch ") <= 12


def test_train_options_reach_the_config(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    args = ["train", "--log", str(log), "--epochs", "2", "--hidden", "16,8", "--activation",
            "maxout", "--init", "xavier", "--batchnorm", "--dropout", "0.2", "--reg", "0.01",
            "--loss", "svm", "--optimizer", "nesterov", "--lr", "0.005", "--lr-schedule", "step",
            "--batch-size", "16", "--subset", "100", "--preprocess", "center", "--dtype",
            "float32", "--seed", "7", "--classes", "4", "--points", "40"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    cfg = read_log(log)[0]["config"]
    assert cfg["hidden"] == [16, 8] and cfg["activation"] == "maxout" and cfg["batchnorm"]
    assert (cfg["loss"], cfg["optimizer"], cfg["dtype"], cfg["seed"]) == ("svm", "nesterov",
                                                                         "float32", 7)
    assert read_log(log)[0]["num_classes"] == 4


def test_diverged_run_exits_1(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    result = runner.invoke(app, ["train", "--log", str(log), "--optimizer", "sgd", "--lr", "1e6"])
    assert result.exit_code == 1 and "diverged" in result.output
    assert read_log(log)[-1]["status"] == "diverged"


def test_gradcheck_passes_on_a_correct_net() -> None:
    result = runner.invoke(app, ["gradcheck", "--hidden", "10,10", "--activation", "tanh",
                                 "--batchnorm", "--dropout", "0.3", "--reg", "0.1"])
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "gamma1" in result.output


def test_gradcheck_catches_a_wrong_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    good = activations.ACTIVATIONS["tanh"]
    # A classic bug: forgetting to square tanh in its derivative.
    broken = activations.Activation("tanh", good.forward,
                                    lambda dout, cache: dout * (1.0 - cache[0]), "saturating")
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", broken)
    result = runner.invoke(app, ["gradcheck", "--hidden", "10", "--activation", "tanh"])
    assert result.exit_code == 1 and "FAIL" in result.output


def _spawn(tmp_path: Path, log: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "babysit", "train", "--log", str(log), "--epochs", "100000",
           "--hidden", "50"]
    return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_steps(log: Path, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().count('"type":"step"') >= n:
            return
        time.sleep(0.05)
    raise AssertionError("training did not start in time")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_and_keeps_the_log(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "r.jsonl"
    proc = _spawn(tmp_path, log)
    _wait_for_steps(log, 50)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    records = read_log(log)  # every line is complete JSON
    summary = records[-1]
    assert summary["type"] == "summary" and summary["status"] == "interrupted"
    assert sig.name in summary["reason"]
    assert summary["steps"] == records[-2]["step"] + 1
    assert "interrupted" in out


def test_second_ctrl_c_exits_at_once_but_writes_the_summary(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    proc = _spawn(tmp_path, log)
    _wait_for_steps(log, 50)
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert read_log(log)[-1]["status"] == "interrupted"


def test_an_error_at_step_0_stops_training_unless_told_to_keep_going(tmp_path: Path) -> None:
    # issue 36: --init zeros was an ERROR at step 0 and still trained every epoch, exit 0
    import json

    from typer.testing import CliRunner

    from babysit.cli.app import app

    runner = CliRunner()
    stopped = runner.invoke(app, ["train", "--init", "zeros", "--epochs", "5", "--no-live",
                                  "--log", str(tmp_path / "z.jsonl")])
    summary = json.loads((tmp_path / "z.jsonl").read_text().splitlines()[-1])
    assert stopped.exit_code == 3 and summary["status"] == "stopped" and summary["steps"] == 1
    assert "symmetric-init at step 0" in summary["reason"] and "--keep-going" in summary["reason"]
    kept = runner.invoke(app, ["train", "--init", "zeros", "--epochs", "5", "--no-live",
                               "--keep-going", "--log", str(tmp_path / "k.jsonl")])
    summary = json.loads((tmp_path / "k.jsonl").read_text().splitlines()[-1])
    assert kept.exit_code == 0 and summary["status"] == "completed" and summary["steps"] == 40
    # near miss: a warning at step 0 (a loss at init too high) trains on
    warned = runner.invoke(app, ["train", "--init", "small", "--init-std", "10", "--epochs", "2",
                                 "--no-live", "--log", str(tmp_path / "w.jsonl")])
    summary = json.loads((tmp_path / "w.jsonl").read_text().splitlines()[-1])
    assert "loss-at-init" in warned.output and summary["status"] == "completed"
