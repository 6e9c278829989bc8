"""Runs keep their logs whatever happens around them: closed pipes, full disks, signals, hang-ups,
replaced logs, ASCII terminals. Each case is a real subprocess that waits on conditions."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from babysit.api import prepare_data
from babysit.config import Config
from babysit.search.results import FINISHED
from babysit.training import MemorySink, Trainer
from tests.waiting import Lines, wait_until

BABYSIT = [sys.executable, "-m", "babysit"]


def records(path: Path) -> list[dict]:
    """Every line of a log as JSON: fails if any line is cut short."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Like `babysit ... | head -0`: the reader has gone before the first line is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([*BABYSIT, *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=cwd, timeout=120)
    finally:
        os.close(write_end)


def test_a_closed_stdout_does_not_stop_training(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    proc = run_with_closed_stdout(["train", "--no-live", "--epochs", "30", "--log", str(log)], tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert records(log)[-1]["status"] == "completed"


def test_rules_into_a_closed_pipe_exits_0(tmp_path: Path) -> None:
    proc = run_with_closed_stdout(["rules"], tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""


def test_a_file_size_limit_is_a_clean_error_and_the_log_stays_whole(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    limit = 20 * 1024

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([*BABYSIT, "train", "--no-live", "--epochs", "2000", "--log", str(log)],
                          capture_output=True, text=True, preexec_fn=small_files, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"error: cannot write log {log}: File too large"
    assert 0 < log.stat().st_size <= limit
    assert records(log)[-1]["type"] == "step"  # whole lines only, up to the last that fitted


def _start_train(tmp_path: Path, log: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*BABYSIT, "train", "--no-live", "--log", str(log), "--epochs", "100000",
                             "--hidden", "50", *extra], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _steps_written(log: Path, n: int) -> bool:
    return log.exists() and log.read_bytes().count(b'"type":"step"') >= n


def test_sighup_ends_training_with_a_summary(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    proc = _start_train(tmp_path, log)
    wait_until(lambda: _steps_written(log, 50), "training to start")
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    summary = records(log)[-1]
    assert summary["status"] == "interrupted" and "SIGHUP" in summary["reason"]


def test_a_second_ctrl_c_during_the_final_evaluation_still_writes_the_summary() -> None:
    config = Config(epochs=2, hidden=(20,))
    memory = MemorySink()
    trainer = Trainer(config, prepare_data(config), [memory])

    class FirstCtrlC(MemorySink):
        def emit(self, record: dict) -> None:
            trainer.request_stop("interrupted by SIGINT")

    trainer.sinks.append(FirstCtrlC())
    # The signal handler's second Ctrl-C, arriving while the final evaluation runs...
    trainer._final = trainer.force_stop  # type: ignore[method-assign]
    summary = trainer.run()
    assert summary["status"] == "interrupted"
    assert summary["reason"] == "interrupted by SIGINT; final evaluation skipped"
    assert memory.records[-1] is summary and "train_acc" not in summary
    trainer.force_stop()  # ...and one while the summary is written: ignored, it must not be cut


def _processes_marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries `mark` (a test's own children)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                if mark.encode() in fh.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C to the process group",
                                 "SIGTERM to the process group"])  # timeout, Slurm, systemd
def test_interrupted_search_keeps_every_finished_trial_and_leaves_no_process(tmp_path: Path, how: str) -> None:
    mark = f"BABYSIT_TEST_{uuid.uuid4().hex}"
    results = tmp_path / "s.jsonl"
    # Learning rates up to 1e3: some trials diverge and finish at once; the rest train long.
    proc = subprocess.Popen([*BABYSIT, "search", "--no-live", "--workers", "2", "--trials", "6",
                             "--stages", "1", "--epochs", "100000", "--lr-range", "1e-3:1e3",
                             "--results", str(results)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, env={**os.environ, mark: "1"},
                            start_new_session=True)
    wait_until(lambda: results.exists() and results.read_text().count('"trial"') >= 1,
               "a first finished trial")
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "interrupted:" in out and "--resume" in out
    kept = {row["trial"] for row in records(results)[1:]}
    for log in (tmp_path / "s" / "trials").glob("*.jsonl"):
        last = records(log)[-1]
        finished = last["type"] == "summary" and last["status"] in FINISHED
        assert finished == (log.stem in kept), (log.stem, last)
    wait_until(lambda: not _processes_marked(mark), "the search's workers to exit", timeout=30)


def _header(run: str) -> str:
    return json.dumps({"type": "header", "run_id": run, "num_classes": 3,
                       "config": {"hidden": [10], "epochs": 5}}) + "\n"


@pytest.mark.parametrize("how", ["replaced", "truncated"])
def test_watch_follows_a_new_run_in_the_same_log(tmp_path: Path, how: str) -> None:
    log = tmp_path / "r.jsonl"
    log.write_text(_header("first") + "".join(json.dumps({"step": i, "loss": 1.0}) + "\n"
                                               for i in range(50)))  # longer than the new run
    proc = subprocess.Popen([*BABYSIT, "watch", str(log), "--no-live"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out = Lines(proc.stdout)  # type: ignore[arg-type]
    out.wait_for("training ?")  # it is following the first run
    second = (_header("second") + "".join(json.dumps({"step": i, "loss": 1.0}) + "\n" for i in range(3))
              + json.dumps({"step": 3, "loss": "NaN"}) + "\n"
              + json.dumps({"type": "summary", "status": "diverged"}) + "\n")
    if how == "replaced":  # what --overwrite does: a new file renamed over the old name
        (tmp_path / "new").write_text(second)
        os.replace(tmp_path / "new", log)
    else:
        with log.open("r+") as fh:
            fh.truncate(0)
            fh.write(second)
    out.wait_for("was replaced: following the new run")
    out.wait_for("run diverged: 4 steps")
    assert proc.wait(timeout=60) == 1
    assert "ERROR loss-nan at step 3" in out.rest()


def test_sigterm_ends_watch_with_its_findings(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    steps = [{"step": i, "loss": 1.0} for i in range(7)]
    steps[-1]["val_acc"] = 0.5  # an epoch's end: watch prints a progress line for it
    log.write_text(_header("run") + "".join(json.dumps(s) + "\n" for s in steps))
    proc = subprocess.Popen([*BABYSIT, "watch", str(log), "--no-live"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out = Lines(proc.stdout)  # type: ignore[arg-type]
    out.wait_for("step 6")  # every record read: now it only waits for more
    proc.send_signal(signal.SIGTERM)
    out.wait_for("stopped watching: 7 steps read")
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_an_ascii_terminal_gets_escapes_not_tracebacks(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    log = tmp_path / "lög.jsonl"
    proc = subprocess.run([*BABYSIT, "train", "--no-live", "--epochs", "3", "--log", str(log)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "l\\xf6g.jsonl" in proc.stdout
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text("".join(json.dumps({"step": i, "loss": 1.0, "layers": {"schicht·1": {
        "dead_frac": 0.9, "act_mean": 0.0, "act_std": 0.0}}}) + "\n" for i in range(40)))
    proc = subprocess.run([*BABYSIT, "diagnose", str(foreign)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "schicht\\xb71" in proc.stdout


def _log_text(n: int = 30) -> str:
    return "".join(json.dumps({"step": i, "loss": 2.0 - i / 100}) + "\n" for i in range(n))


def test_diagnose_reads_stdin_and_pipes(tmp_path: Path) -> None:
    for target in ("-", "/dev/stdin"):
        proc = subprocess.run([*BABYSIT, "diagnose", target], input=_log_text(), capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0 and "30 records, 30 steps" in proc.stdout, (target, proc.stderr)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*BABYSIT, "diagnose", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with fifo.open("w") as writer:  # opening blocks until diagnose has opened the other end
        writer.write(_log_text(12))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "12 records, 12 steps" in out, err
