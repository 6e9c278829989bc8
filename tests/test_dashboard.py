"""The dashboard: panels rendered for the main states, a real terminal, watch, stop-on, plain mode."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from babysit.api import train
from babysit.cli.app import app
from babysit.config import Config
from babysit.dashboard.plot import plot_lines, sparkline
from babysit.dashboard.state import MAX_POINTS, RunState
from babysit.dashboard.views import Dashboard
from babysit.diagnostics.engine import Engine
from babysit.diagnostics.sink import DiagnosticsSink
from tests.waiting import Lines

runner = CliRunner()
FAST = Config(epochs=15, hidden=(30, 20))


def screen(state: RunState, engine: Engine, width: int = 100, height: int = 30) -> str:
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None,
                      legacy_windows=False)
    console.print(Dashboard(state.snapshot(), engine.findings))
    return console.file.getvalue()  # type: ignore[attr-defined]


def run_into_dashboard(config: Config) -> tuple[RunState, Engine]:
    state, doctor = RunState("runs/test.jsonl"), DiagnosticsSink()
    train(config, [state, doctor])
    return state, doctor.engine


def test_healthy_run_screen() -> None:
    out = screen(*run_into_dashboard(FAST))
    lines = out.splitlines()
    assert len(lines) == 30 and all(len(line) <= 100 for line in lines)
    for text in ("babysit", "spiral (240, 2)", "30-20 relu", "loss (log)", "accuracy · gap",
                 "layers (step", "fc1", "fc2", "fc3", "upd/w", "advice", "runs/test.jsonl",
                 "expected initial loss 1.099", "completed"):
        assert text in out, text
    assert "No problems found" in out or "INFO" in out


def test_nan_run_screen_shows_the_error() -> None:
    out = screen(*run_into_dashboard(replace(FAST, optimizer="sgd", lr=1e6)))
    assert "ERROR" in out and ("loss-nan" in out or "loss-explosion" in out)
    assert "diverged" in out


def test_dead_relu_screen() -> None:
    out = screen(*run_into_dashboard(replace(FAST, bias_init=-5.0)))
    assert "dead-relu" in out and "Leaky ReLU" in out
    row = next(line for line in out.splitlines() if "fc1 " in line)
    assert "%" in row  # the dead column is filled


def test_minimal_log_shows_only_its_panels() -> None:
    state, engine = RunState("other.jsonl"), Engine()
    for i in range(200):
        rec = {"type": "step", "step": i, "loss": 2.3 * 0.99**i}
        state.emit(rec)
        engine.push(dict(rec))
    out = screen(state, engine, 80, 24)
    assert "loss (log)" in out and "advice" in out
    assert "layers" not in out and "accuracy" not in out
    assert len(out.splitlines()) == 24


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_layout_fits_the_terminal(size: tuple[int, int]) -> None:
    out = screen(*run_into_dashboard(FAST), *size)
    assert len(out.splitlines()) == size[1]
    assert max(len(line) for line in out.splitlines()) <= size[0]


def test_loss_series_stays_bounded() -> None:
    state = RunState()
    for i in range(10 * MAX_POINTS):
        state.emit({"type": "step", "step": i, "loss": 1.0 / (i + 1)})
    snap = state.snapshot()
    assert MAX_POINTS // 2 <= len(snap.loss) <= MAX_POINTS
    assert snap.loss[-1][0] > 9 * MAX_POINTS  # still reaches the latest steps


def test_plot_and_sparkline() -> None:
    rows, lo, hi = plot_lines([([(0, 1.0), (1, 2.0), (2, 4.0)], "")], 10, 3, log_y=True)
    assert len(rows) == 3 and all(len(r.plain) == 10 for r in rows) and (lo, hi) == (1.0, 4.0)
    assert sparkline([0, 1, 4]) == " ▄█" and sparkline([0, 0]) == "  "


def test_stop_on_error_stops_and_keeps_the_log(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    result = runner.invoke(app, ["train", "--log", str(log), "--init", "zeros", "--stop-on",
                                 "error", "--no-live", "--epochs", "50"])
    assert result.exit_code == 3, result.output
    assert "--stop-on error: symmetric-init" in result.output
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[-1]["status"] == "stopped" and records[-1]["steps"] < 50 * 8


def test_plain_mode_prints_findings_as_they_appear_without_color(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "babysit", "train", "--log", str(tmp_path / "r.jsonl"),
                           "--bias-init", "-5", "--epochs", "20"], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING dead-relu at step" in proc.stdout and "\x1b[" not in proc.stdout
    assert proc.stdout.count("epoch ") <= 12


def _append_slowly(path: Path, records: list[dict], delay: float) -> None:
    with path.open("a") as fh:
        for i, rec in enumerate(records):
            line = json.dumps(rec) + "\n"
            if i == 5:  # a half-written line, finished a little later
                fh.write(line[:7])
                fh.flush()
                time.sleep(delay * 5)
                fh.write(line[7:])
            else:
                fh.write(line)
            fh.flush()
            time.sleep(delay)


def test_watch_follows_a_growing_file(tmp_path: Path) -> None:
    log = tmp_path / "grow.jsonl"
    log.write_text(json.dumps({"type": "header", "num_classes": 3}) + "\n")
    records = [{"step": i, "loss": 1.1} for i in range(40)] + [{"step": 40, "loss": "NaN"}]
    records.append({"type": "summary", "status": "diverged"})
    writer = threading.Thread(target=_append_slowly, args=(log, records, 0.01))
    proc = subprocess.Popen([sys.executable, "-m", "babysit", "watch", str(log), "--no-live"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writer.start()
    out, err = proc.communicate(timeout=60)
    writer.join()
    assert proc.returncode == 1, err
    assert "ERROR loss-nan at step 40" in out  # printed live, as it appeared
    assert "run diverged: 41 steps" in out
    assert "malformed" not in out  # the half-written line was waited for, not rejected


def test_watch_missing_file_is_exit_2() -> None:
    result = runner.invoke(app, ["watch", "/nonexistent/run.jsonl"])
    assert result.exit_code == 2 and "not found" in result.output
    result = runner.invoke(app, ["watch", "/nonexistent/run.jsonl", "--wait"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_watch_waits_for_a_log_that_does_not_exist_yet(tmp_path: Path) -> None:
    log = tmp_path / "later.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "babysit", "watch", str(log), "--wait",
                             "--no-live"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = Lines(proc.stdout)  # type: ignore[arg-type]
    out.wait_for("waiting for")  # started, and waiting: the log does not exist yet
    log.write_text("".join(json.dumps({"step": i, "loss": 1.0}) + "\n" for i in range(5))
                   + json.dumps({"type": "summary", "status": "completed"}) + "\n")
    out.wait_for("run completed: 5 steps")
    assert proc.wait(timeout=60) == 0, proc.stderr.read()  # type: ignore[union-attr]


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])  # ascii: a C locale must not crash drawing
def test_real_terminal_dashboard_and_ctrl_c(tmp_path: Path, encoding: str) -> None:
    pexpect = pytest.importorskip("pexpect")
    pyte = pytest.importorskip("pyte")
    log = tmp_path / "r.jsonl"
    env = {**os.environ, "TERM": "xterm", "PYTHONIOENCODING": encoding}
    child = pexpect.spawn(sys.executable, ["-m", "babysit", "train", "--log", str(log),
                                           "--epochs", "100000", "--hidden", "50,50"],
                          dimensions=(30, 100), cwd=str(tmp_path), env=env,
                          encoding="utf-8", codec_errors="replace")
    term = pyte.Screen(100, 30)
    stream = pyte.Stream(term)
    panels = ("babysit", "loss (log)", "accuracy", "layers (step", "advice", "ETA", "it/s")
    # A read can land mid-redraw: wait for one screen that shows every panel at once.
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        try:
            stream.feed(child.read_nonblocking(65536, timeout=0.5))
        except pexpect.TIMEOUT:
            pass
        text = "\n".join(term.display)
        if all(panel in text for panel in panels):
            break
    missing = [panel for panel in panels if panel not in text]
    assert not missing, f"{missing} not on screen:\n{text}"
    assert "Traceback" not in text and "dashboard error" not in text, text
    child.sendintr()
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    assert child.exitstatus == 130
    records = [json.loads(line) for line in log.read_text().splitlines()]  # nothing half-written
    assert records[-1]["type"] == "summary" and records[-1]["status"] == "interrupted"
    assert records[-1]["steps"] == records[-2]["step"] + 1


def test_epoch_lines_show_the_latest_loss_when_the_epoch_record_has_none() -> None:
    # Other tools and the PyTorch monitor write epoch records of their own, without a loss.
    import io

    from babysit.dashboard.progress import ProgressPrinter
    from babysit.dashboard.state import RunState

    out = io.StringIO()
    printer, state = ProgressPrinter(out), RunState()
    for rec in ({"type": "step", "step": 0, "loss": 2.3}, {"type": "step", "step": 1, "loss": 1.25},
                {"type": "epoch", "step": 1, "epoch": 0, "val_acc": 0.5}):
        printer.emit(rec)
        state.emit(rec)
    assert "loss 1.2500" in out.getvalue() and state.epochs[-1]["loss"] == 1.25


def test_log_content_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    """Issue 22: a layer name holding terminal escapes set the title and cleared the screen."""
    name = "\x1b]0;PWNED\x07\x1b[2J"
    records = [{"type": "header", "num_classes": 3, "activation": "relu", "model": name,
                "config": {"optimizer": name}}]
    for i in range(60):
        rec: dict = {"type": "step", "step": i, "loss": 1.1}
        if i % 10 == 0:
            rec["layers"] = {name: {"weight_norm": 1.0, "dead_frac": 0.9, "act_std": 0.5},
                             "out": {"weight_norm": 1.0}}
        records.append(rec)
    log = tmp_path / "esc.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    state, doctor = RunState(str(log)), DiagnosticsSink()
    for rec in records:
        state.emit(rec)
        doctor.emit(rec)
    shown = screen(state, doctor.engine, width=140, height=40)
    out = runner.invoke(app, ["diagnose", str(log)]).output
    for text in (shown, out):
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;PWNED\\x07" in out  # the name, made visible


def test_watch_shows_a_gzipped_log_whole_instead_of_waiting(tmp_path: Path) -> None:
    """Issue 22: `watch run.jsonl.gz` read the compressed bytes as text and waited forever."""
    import gzip

    log = tmp_path / "run.jsonl.gz"
    lines = [json.dumps({"type": "header", "num_classes": 3})]
    lines += [json.dumps({"type": "step", "step": i, "loss": float("nan") if i == 30 else 1.0})
              for i in range(31)]
    log.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    proc = subprocess.run([sys.executable, "-m", "babysit", "watch", str(log), "--no-live"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "loss-nan" in proc.stdout, proc.stdout + proc.stderr


def test_following_a_log_that_is_deleted_says_so_and_a_very_long_line_counts_once(tmp_path: Path) -> None:
    """Issue 22 minors: `watch` was silent when its log was deleted and never came back, and a
    200 MB line counted as 12 malformed lines."""
    from babysit.dashboard.follow import MAX_LINE_BYTES, follow_records
    from babysit.readers.common import ReadStats
    from tests.waiting import wait_until

    log = tmp_path / "run.jsonl"
    log.write_text(json.dumps({"type": "header"}) + "\n" + "".join(
        json.dumps({"step": i, "loss": 1.0}) + "\n" for i in range(5)))
    seen: list[dict] = []
    missing: list[int] = []
    replaced: list[int] = []
    follower = threading.Thread(target=lambda: seen.extend(follow_records(
        log, poll=0.01, on_missing=lambda: missing.append(1), on_replaced=lambda: replaced.append(1))),
        daemon=True)
    follower.start()
    wait_until(lambda: len(seen) == 6, "the first run's records")
    log.unlink()
    wait_until(lambda: missing == [1], "the deletion to be said")
    with log.open("wb") as fh:  # a new run at the same path, with one line 2.5x the limit
        fh.write(json.dumps({"type": "header"}).encode() + b"\n")
        fh.write(b'{"loss": "' + b"x" * int(2.5 * MAX_LINE_BYTES) + b'"}\n')
        fh.write(json.dumps({"type": "summary", "status": "completed"}).encode() + b"\n")
    follower.join(timeout=60)
    assert not follower.is_alive() and replaced == [1] and missing == [1]
    assert seen[-1]["type"] == "summary"
    stats = ReadStats()
    list(follow_records(log, stats, poll=0.01))
    assert stats.malformed == 1 and stats.long_lines == 1


def test_a_monitor_log_shows_its_model_optimizer_rate_and_eta() -> None:
    state = RunState("runs/torch.jsonl")
    state.emit({"type": "header", "source": "babysit.torch.Monitor", "num_classes": 10,
                "activation": "relu", "num_params": 4810, "optimizer": "Adam", "lr": 0.001,
                "weight_decay": 0.01, "model": "Sequential(\n  (0): Linear(...)\n)",
                "total_steps": 1000})
    # 200 steps at 67 steps/s of the run's own clock, all read at once (a backlog): the
    # rate is the run's, not the reading's
    for i in range(200):
        state.emit({"type": "step", "step": i, "epoch": i // 50, "loss": 2.0, "time": i / 67})
    snap = state.snapshot()
    assert snap.rate == pytest.approx(67, rel=0.02) and snap.total_steps == 1000
    out = screen(state, Engine(), width=120)
    assert "Sequential · 4,810 parameters · relu · Adam lr 0.001 · weight decay 0.01" in out
    assert "step 200/1000  epoch 4 " in out and "67 it/s  ETA 11.9s" in out


def test_the_verdict_and_the_next_step_stay_on_screen_after_the_dashboard(tmp_path: Path) -> None:
    # issue 36: the dashboard went with the alternate screen and the last line was the log's
    pexpect = pytest.importorskip("pexpect")
    pyte = pytest.importorskip("pyte")
    log = tmp_path / "r.jsonl"
    env = {**os.environ, "TERM": "xterm"}
    child = pexpect.spawn(sys.executable, ["-m", "babysit", "train", "--log", str(log),
                                           "--epochs", "30", "--init", "small", "--live"],
                          dimensions=(40, 100), cwd=str(tmp_path), env=env,
                          encoding="utf-8", codec_errors="replace")
    term = pyte.Screen(100, 40)
    stream = pyte.Stream(term)
    while True:  # to the end of the output: the process has exited (a condition, not a time)
        try:
            stream.feed(child.read_nonblocking(65536, timeout=60))
        except pexpect.EOF:
            break
    child.close()
    screen = "\n".join(line.rstrip() for line in term.display)
    assert f"next: babysit report {log}" in screen, screen
    assert "completed: " in screen and "loss " in screen and "(log scale)" in screen, screen
    assert "try: babysit train" in screen or "No problems found." in screen, screen
