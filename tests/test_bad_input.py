"""Every bad input a hostile user tried is one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.readers import inputs

runner = CliRunner()
FAST = ["--epochs", "1", "--hidden", "8"]


def one_line_error(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.output, result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert expected in lines[0], (expected, lines[0])


@pytest.mark.parametrize("command", ["train", "sanity-check", "gradcheck"])
@pytest.mark.parametrize("option,expected", [
    (["--seed", "-1"], "--seed must be between 0"),
    (["--lr-schedule", "step", "--lr-step", "0"], "--lr-step must be positive"),
    (["--lr-schedule", "inv", "--lr-decay", "-1"], "makes the learning rate grow"),
    (["--lr-schedule", "step", "--lr-decay", "-1"], "factor per drop, in (0, 1]"),
    (["--lr", "inf"], "--lr must be a finite number"),
    (["--reg", "nan"], "--reg must be a finite number"),
    (["--bias-init", "inf"], "--bias-init must be a finite number"),
    (["--leaky-alpha", "nan"], "--leaky-alpha must be a finite number"),
    (["--elu-alpha", "inf"], "--elu-alpha must be a finite number"),
    (["--hidden", "100,,100"], "comma-separated integers"),
    (["--hidden", "100000000000"], "GiB of memory but only"),
    (["--classes", "1" + "0" * 40], "a 41-digit number"),
    (["--points", "1"], "no training example"),
])
def test_model_options(tmp_path: Path, command: str, option: list[str], expected: str) -> None:
    log = ["--log", str(tmp_path / "r.jsonl")] if command == "train" else []
    one_line_error([command, *FAST, *log, *option], expected)


@pytest.mark.parametrize("option,expected", [
    (["--examples", "0"], "must be at least 1"),
    (["--examples", "-1"], "must be at least 1"),
    (["--max-entries", "-5"], "must be at least 1"),
    (["--max-entries", "0"], "must be at least 1"),  # it printed PASS after checking nothing
])
def test_gradcheck_options(option: list[str], expected: str) -> None:
    one_line_error(["gradcheck", "--hidden", "4", *option], expected)


def test_log_paths(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    one_line_error(["train", *FAST, "--log", str(tmp_path)], "is a directory")
    one_line_error(["train", *FAST, "--log", str(tmp_path / "file" / "r.jsonl")], "is a file, not a directory")
    one_line_error(["train", *FAST, "--log", str(tmp_path / "file")], "already exists (pass --overwrite")
    if os.path.exists("/dev/full"):
        one_line_error(["train", *FAST, "--log", "/dev/full"], "cannot write log /dev/full: No space left")


def test_a_failed_overwrite_keeps_the_old_log(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    old = '{"type":"header"}\n{"loss": 1.0}\n'
    log.write_text(old)
    one_line_error(["train", *FAST, "--log", str(log), "--overwrite", "--hidden", "100000000000"],
                   "GiB of memory")
    assert log.read_text() == old and os.listdir(tmp_path) == ["r.jsonl"]  # no temporary left
    assert runner.invoke(app, ["train", *FAST, "--log", str(log), "--overwrite", "--no-live"]).exit_code == 0
    assert json.loads(log.read_text().splitlines()[-1])["status"] == "completed"
    assert os.listdir(tmp_path) == ["r.jsonl"]


def _bad_gzip(p: Path) -> Path:
    data = bytearray(gzip.compress(b'{"loss": 1.0}\n' * 200))
    data[12:20] = b"\xff" * 8  # inside the deflate stream, near its start
    (p / "bad.gz").write_bytes(bytes(data))
    return p / "bad.gz"


@pytest.mark.parametrize("make,expected", [
    (_bad_gzip, "damaged gzip data at its start"),
    (lambda p: (p / "deep.json").write_text("[" * 100_000) and p / "deep.json", "no readable JSON record"),
    (lambda p: (p / "h.jsonl").write_text('{"type": "header", "run_id": "x"}\n') and p / "h.jsonl",
     "nothing to diagnose"),
    (lambda p: (p / "s.jsonl").write_text('{"type": "summary", "status": "completed"}\n') and p / "s.jsonl",
     "nothing to diagnose"),
    (lambda p: (p / "f.jsonl").write_text('{"foo": 1}\n') and p / "f.jsonl", "nothing to diagnose"),
    (lambda p: Path("/dev/zero"), "not a regular file or a pipe"),
])
def test_diagnose_unreadable_or_empty_logs(tmp_path: Path, make: Callable[[Path], Path], expected: str) -> None:
    one_line_error(["diagnose", str(make(tmp_path))], expected)


def test_diagnose_options(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    log.write_text("".join(json.dumps({"loss": 1.0 - i / 100}) + "\n" for i in range(50)))
    one_line_error(["diagnose", str(log), "--set", "loss-flat.min_drop=nan"], "finite number >= 0")
    one_line_error(["diagnose", str(log), "--set", "loss-flat.min_drop=-1"], "finite number >= 0")
    one_line_error(["diagnose", str(log), "--rules-config", "/dev/zero"], "not a regular file")
    one_line_error(["diagnose", str(log), "--classes", "9" * 400], "a 400-digit number")
    one_line_error(["watch", str(log), "--classes", "1"], "--classes must be between 2")


def test_diagnose_a_fifo_nobody_writes_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(inputs, "FIFO_WAIT_SECONDS", 0.2)
    one_line_error(["diagnose", str(fifo)], "no process is writing to")


def _trial_row(**extra: object) -> str:
    row = {"trial": "s1-t000", "status": "completed", "val_acc": 0.5, "params": {"lr": 0.01}}
    return json.dumps({**row, **extra}) + "\n"


@pytest.mark.parametrize("option,expected", [
    (["--hidden-choices", ";;"], "give architectures separated by ';'"),
    (["--scheduler", "garbage://x"], "cannot reach the Dask scheduler"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--workers", "-3"], "--workers must be at least 1"),
])
def test_search_options(tmp_path: Path, option: list[str], expected: str) -> None:
    one_line_error(["search", "--no-live", "--trials", "2", "--results", str(tmp_path / "s.jsonl"),
                    *option], expected)


@pytest.mark.parametrize("content,expected", [
    (_trial_row(val_acc="high"), 'val_acc is "high", not a number'),
    (bytes(range(256)) * 4, "not UTF-8 text"),
    (_trial_row(params=[1]), "no params object"),
])
def test_search_resume_over_a_bad_file(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    one_line_error(["search", "--no-live", "--trials", "2", "--epochs", "1", "--results", str(path),
                    "--resume"], expected)


def test_search_results_directory(tmp_path: Path) -> None:
    one_line_error(["search", "--no-live", "--trials", "2", "--results", str(tmp_path)], "is a directory")


def test_npz_that_is_not_a_zip_is_not_called_pickled(tmp_path: Path) -> None:
    (tmp_path / "g.npz").write_bytes(b"hello world, not a zip")
    one_line_error(["train", *FAST, "--data", str(tmp_path / "g.npz")], "is not a .npz archive (not a zip")
    np.savez(tmp_path / "ok.npz", X_train=np.zeros((4, 2)), y_train=np.array([0, 1, 0, 1]))
    assert runner.invoke(app, ["train", *FAST, "--data", str(tmp_path / "ok.npz"), "--no-live",
                               "--log", str(tmp_path / "r.jsonl")]).exit_code == 0


def test_a_flood_of_blank_lines_is_not_read_to_the_end(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # 2 GiB of newlines (2 MB gzipped) took ~50 minutes; reading stops after MAX_BLANK_RUN of
    # them in a row (scaled down here) and says so.
    from babysit.readers import hf_state, jsonl, notes

    for module in (jsonl, notes, hf_state):
        monkeypatch.setattr(module, "MAX_BLANK_RUN", 1000)
    record = b'{"step": %d, "loss": 2.0}\n'
    flood = tmp_path / "flood.jsonl.gz"
    flood.write_bytes(gzip.compress(b"".join(record % i for i in range(20)) + b"\n" * 1000
                                    + record % 20))
    result = CliRunner().invoke(app, ["diagnose", str(flood)])
    assert "stopped reading at line 1,020, after 1,000 blank lines in a row" in result.output
    only_blank = tmp_path / "blank.jsonl.gz"
    only_blank.write_bytes(gzip.compress(b"\n" * 1000 + record % 0))
    result = CliRunner().invoke(app, ["diagnose", str(only_blank)])
    assert result.exit_code == 2 and "starts with 1,000 blank lines" in result.output
    state = tmp_path / "trainer_state.json"
    state.write_bytes(b"\n" * 1000 + b'{"log_history": []}\n')
    assert not hf_state.is_trainer_state(state)


def test_classes_means_the_class_count_in_train_as_in_diagnose(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--classes", "3", "--epochs",
                                      "1", "--no-live", "--log", str(tmp_path / "d.jsonl")])
    assert result.exit_code == 2
    assert "--classes 3, but --data digits has 10 classes" in result.output
    assert not (tmp_path / "d.jsonl").exists()
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--classes", "10", "--epochs",
                                      "1", "--no-live", "--log", str(tmp_path / "d.jsonl")])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["train", "--classes", "4", "--epochs", "1", "--no-live",
                                      "--log", str(tmp_path / "s.jsonl")])
    header = json.loads((tmp_path / "s.jsonl").read_text().splitlines()[0])
    assert result.exit_code == 0 and header["num_classes"] == 4  # the spiral's arms
