"""babysit search: sampling, narrowing, warnings, divergence, resume, workers, Dask, ensembles."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from babysit.api import prepare_data
from babysit.cli.app import app
from babysit.config import Config
from babysit.search.runner import LocalRunner
from babysit.search.search import load_results, narrow, plan_stage, run_search, stage_plan
from babysit.search.space import Choice, LinRange, LogRange, edge_warnings

BASE = Config(epochs=3, hidden=(30,))
SPACE = {"lr": LogRange(1e-4, 1e-1), "reg": LogRange(1e-6, 1e-2)}


def test_log_uniform_sampling() -> None:
    rng = np.random.default_rng(0)
    dim = LogRange(1e-6, 1e-1)
    logs = np.log10([dim.sample(rng) for _ in range(4000)])
    assert logs.min() >= -6 and logs.max() <= -1
    # Uniform in log space: each decade gets about a fifth of the samples.
    counts = np.histogram(logs, bins=5, range=(-6, -1))[0]
    assert np.all(np.abs(counts / 4000 - 0.2) < 0.03)


def test_same_seed_same_trials_and_stage_two_lies_inside_stage_one() -> None:
    assert plan_stage(SPACE, 7, 0, 5) == plan_stage(SPACE, 7, 0, 5)
    assert plan_stage(SPACE, 7, 0, 5) != plan_stage(SPACE, 8, 0, 5)
    rows = [{"status": "completed", "val_acc": acc, "params": {"lr": lr, "reg": 1e-4}}
            for acc, lr in [(0.9, 1e-3), (0.85, 2e-3), (0.8, 5e-4), (0.3, 5e-2), (0.2, 1e-4)]]
    fine = narrow(SPACE, rows)
    assert SPACE["lr"].lo <= fine["lr"].lo < 5e-4 and 2e-3 < fine["lr"].hi <= SPACE["lr"].hi
    assert fine["lr"].hi < 5e-2  # the poor trials do not stretch it
    assert Choice(("relu", "tanh", "elu")).narrow(["tanh", "relu"]).options == ("relu", "tanh")
    assert LinRange(0.0, 0.5).narrow([0.2]).lo >= 0.0


def test_edge_warning_fires_only_at_the_edge() -> None:
    assert edge_warnings(SPACE, {"lr": 9e-2, "reg": 1e-4})[0].startswith("the best lr")
    assert edge_warnings(SPACE, {"lr": 1.1e-4, "reg": 1e-4})[0].startswith("the best lr")
    assert edge_warnings(SPACE, {"lr": 3e-3, "reg": 1e-4}) == []


def trial_rows(path: Path) -> list[dict]:
    """The results file's trial rows (after its header line; stage and ensemble records left out)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0]["type"] == "search"  # the header: what a --resume must match
    return [r for r in rows[1:] if "type" not in r]


def run(tmp_path: Path, workers: int = 1, name: str = "r.jsonl", **kw) -> tuple:  # type: ignore[no-untyped-def]
    data = prepare_data(BASE)
    runner = LocalRunner(workers)
    try:
        outcome = run_search(BASE, kw.pop("space", SPACE), kw.pop("plan", stage_plan(6, 3, 6, 2)),
                             data, tmp_path / name, runner, **kw)
    finally:
        runner.close()
    return outcome, tmp_path / name


def test_diverging_trials_are_recorded_and_the_search_goes_on(tmp_path: Path) -> None:
    space = {"lr": LogRange(1e2, 1e4), "reg": LogRange(1e-6, 1e-5)}
    outcome, path = run(tmp_path, space=space, plan=stage_plan(4, 3, 3, 2))
    rows = trial_rows(path)
    assert len(rows) == 4 + 3 and {r["status"] for r in rows} <= {"diverged", "hopeless", "completed"}
    assert sum(r["status"] == "diverged" for r in rows) >= 4
    assert any("diverged: lower the learning-rate range" in w for w in outcome.warnings)
    assert all(Path(r["log"]).exists() for r in rows)


def test_resume_does_not_rerun_finished_trials(tmp_path: Path) -> None:
    _, path = run(tmp_path)
    trials = len(trial_rows(path))
    lines = path.read_text().splitlines()
    # Pretend the search was interrupted after 4 trials (one line cut short by the crash).
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:10])
    kept = {json.loads(line)["trial"]: Path(json.loads(line)["log"]).stat().st_mtime_ns
            for line in lines[1:4]}
    outcome, _ = run(tmp_path, resume=True)
    assert len(load_results(path)) == trials
    for trial, mtime in kept.items():  # their logs were not rewritten
        assert Path(next(r["log"] for r in outcome.rows if r["trial"] == trial)).stat().st_mtime_ns == mtime
    with pytest.raises(Exception, match="exists"):
        run(tmp_path)  # an existing results file is never overwritten without --resume


def test_one_and_two_workers_give_identical_results(tmp_path: Path) -> None:
    one, _ = run(tmp_path, workers=1, name="one.jsonl")
    two, _ = run(tmp_path, workers=2, name="two.jsonl")
    key = [(r["trial"], r["params"], r["status"], r["val_acc"]) for r in one.rows]
    assert key == [(r["trial"], r["params"], r["status"], r["val_acc"]) for r in two.rows]


def test_ensemble_averages_the_top_models(tmp_path: Path) -> None:
    outcome, _ = run(tmp_path, ensemble=3)
    e = outcome.ensemble
    assert e is not None and len(e["members"]) == 3
    assert e["best_single_val_acc"] == outcome.best["val_acc"]
    assert 0.0 <= e["val_acc"] <= 1.0 and math.isfinite(e["val_acc"])


def test_dask_path_on_a_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = CliRunner().invoke(app, [
            "search", "--trials", "4", "--stages", "2", "--epochs", "2", "--fine-epochs", "2",
            "--hidden", "20", "--results", str(tmp_path / "dask.jsonl"), "--scheduler",
            cluster.scheduler_address, "--no-live"])
    assert result.exit_code == 0, result.output
    rows = trial_rows(tmp_path / "dask.jsonl")
    assert len(rows) == 4 + 3 and "best:" in result.output


def test_cli_search_and_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli.jsonl"
    result = runner.invoke(app, ["search", "--trials", "4", "--epochs", "2", "--fine-epochs", "3",
                                 "--fine-trials", "2",
                                 "--hidden", "20", "--results", str(out), "--workers", "1",
                                 "--hidden-choices", "10;20,20", "--activation-choices",
                                 "relu,tanh", "--ensemble", "2", "--no-live"])
    assert result.exit_code == 0, result.output
    assert "best:" in result.output and "ensemble of the top 2" in result.output
    lines = result.output.splitlines()
    trial_lines = [line for line in lines if line.startswith(("s1-", "s2-"))]
    assert len(trial_lines) == 6 and all(len(line) <= 80 for line in trial_lines)
    assert not re.search(r"\d\.\d{8}", result.output) and "{" not in result.output  # no raw floats, no dicts
    assert lines[-1].startswith("babysit train ") and lines[-2] == "train it again:"
    rows = trial_rows(out)
    assert len(rows) == 4 + 2
    params = [r["params"] for r in rows]
    assert all(r["config"]["activation"] == r["params"]["activation"] for r in rows)
    assert all(p["activation"] in ("relu", "tanh") and p["hidden"] in ([10], [20, 20]) for p in params)
    for bad in (["--lr-range", "1e-1:1e-5"], ["--lr-range", "x"], ["--activation-choices", "nope"],
                ["--resume"], ["--scheduler", "tcp://127.0.0.1:1"]):
        res = runner.invoke(app, ["search", "--trials", "2", "--no-live", *bad])
        assert res.exit_code == 2, (bad, res.output)
        assert res.output.startswith("error:")


def test_resume_refuses_another_search(tmp_path: Path) -> None:
    cli = CliRunner()
    results = tmp_path / "s.jsonl"
    base = ["search", "--no-live", "--trials", "2", "--stages", "1", "--epochs", "1", "--hidden", "8",
            "--workers", "1", "--results", str(results)]
    assert cli.invoke(app, base).exit_code == 0
    for change, named in ((["--data", "digits"], "--data spiral -> digits"),
                          (["--hidden", "16"], "--hidden [8] -> [16]"),
                          (["--lr-range", "1e-3:1"], "ranges"),
                          (["--epochs", "2"], "--epochs 1 -> 2"),
                          (["--seed", "1"], "--seed 0 -> 1")):
        result = cli.invoke(app, [*base, "--resume", *change])
        assert result.exit_code == 2 and "holds a different search" in result.output, result.output
        assert named in result.output, (named, result.output)
    resumed = cli.invoke(app, [*base, "--resume", "--stages", "2", "--fine-trials", "1",
                               "--fine-epochs", "1"])
    assert resumed.exit_code == 0, resumed.output  # more stages: the same search, continued
    assert len(trial_rows(results)) == 3


def test_narrowing_keeps_ranges_valid_for_values_outside_them() -> None:
    rows = [{"status": "completed", "val_acc": 0.9, "params": {"lr": 5.0, "reg": 1e-9}}]
    fine = narrow(SPACE, rows)
    assert SPACE["lr"].lo <= fine["lr"].lo <= fine["lr"].hi <= SPACE["lr"].hi
    assert SPACE["reg"].lo <= fine["reg"].lo <= fine["reg"].hi <= SPACE["reg"].hi


def test_the_best_trials_train_command_trains_the_same_config() -> None:
    from dataclasses import replace

    from babysit.config import Config
    from babysit.search.view import train_command

    config = replace(Config(), lr=0.036381331310284926, reg=0.0006105064421352182, hidden=(50, 50),
                     activation="tanh", epochs=20, seed=1000, batchnorm=True)
    line = train_command(config.to_dict())
    assert line == ("babysit train --hidden 50,50 --activation tanh --batchnorm --reg 0.0006105 "
                    "--lr 0.03638 --epochs 20 --seed 1000")
    # every flag of the line exists and its value parses (the run then stops at validation)
    result = CliRunner().invoke(app, [*line.split()[1:], "--epochs", "0"])
    assert "--epochs must be positive" in result.output  # parsed up to validation: every flag exists


def test_ensemble_resumed_from_another_directory_or_with_bad_model_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 38: model paths were relative to where the search ran (FileNotFoundError when
    resumed from elsewhere) and a damaged model file was a traceback."""
    runner = CliRunner()
    where = tmp_path / "ran-here"
    where.mkdir()
    monkeypatch.chdir(where)
    args = ["search", "--trials", "3", "--epochs", "1", "--workers", "1", "--ensemble", "2",
            "--results", "res.jsonl"]
    assert runner.invoke(app, args).exit_code == 0
    monkeypatch.chdir(tmp_path)
    resumed = runner.invoke(app, [*args[:-1], str(where / "res.jsonl"), "--resume"])
    assert resumed.exit_code == 0 and "ensemble of the top 2" in resumed.output
    for model in (where / "res" / "models").glob("*.npz"):
        model.write_bytes(b"not a zip")
    damaged = runner.invoke(app, [*args[:-1], str(where / "res.jsonl"), "--resume"])
    assert damaged.exit_code == 0 and "Traceback" not in damaged.output
    assert "left out 2 trial(s) whose model file is missing or unreadable" in damaged.output


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_search_and_wait_for_its_workers(args: list[str], cwd: Path) -> None:
    """Start `babysit search ARGS --workers 2 --results res.jsonl` in `cwd`, SIGKILL it once two
    trials are running, and wait (for a condition, with a deadline) for its workers to exit."""
    import signal
    import subprocess
    import sys

    from tests.waiting import wait_until
    search = subprocess.Popen([sys.executable, "-m", "babysit", "search", *args, "--workers", "2",
                               "--results", str(cwd / "res.jsonl")],
                              cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(list((cwd / "res" / "trials").glob("*.jsonl"))) >= 2, "two trials running")
        workers = _children(search.pid)
        assert len([w for w in workers if _alive(w)]) >= 2
    finally:
        search.send_signal(signal.SIGKILL)
        search.wait(timeout=60)
    wait_until(lambda: not any(_alive(w) for w in workers), "the orphaned workers to exit")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_of_a_killed_search_stop_instead_of_finishing_trials(tmp_path: Path) -> None:
    """Issue 38: SIGKILL of `search` left its workers (which ignore SIGTERM by design) running."""
    kill_search_and_wait_for_its_workers(["--trials", "4", "--epochs", "100000"], tmp_path)


SIGTERM_AFTER_LAST_TRIAL = """
import os, signal, sys
from babysit.cli.app import app
from babysit.search.runner import LocalRunner

close = LocalRunner.close

def close_after_a_sigterm(self, cancel=False):
    # the window issue 38 names: every trial is done, the workers are being closed
    if not cancel and self.pool is not None:
        os.kill(os.getpid(), signal.SIGTERM)
    close(self, cancel)

if __name__ == "__main__":  # spawned workers import this file too
    LocalRunner.close = close_after_a_sigterm
    sys.argv = ["babysit", *sys.argv[1:]]
    app()
"""


def test_a_sigterm_after_the_last_trial_still_prints_the_best_and_writes_the_report(tmp_path: Path) -> None:
    """Issue 38 item 15: a SIGTERM between the last trial and "best:" exited 143 and lost the
    best line and the report. The signal is sent by the process to itself at that point."""
    import subprocess
    import sys

    script = tmp_path / "search_then_sigterm.py"
    script.write_text(SIGTERM_AFTER_LAST_TRIAL)
    results = tmp_path / "s.jsonl"
    done = subprocess.run([sys.executable, str(script), "search", "--no-live", "--trials", "2",
                           "--stages", "1", "--epochs", "1", "--hidden", "8", "--workers", "1",
                           "--results", str(results)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "best: " in done.stdout and f"results: {results}" in done.stdout
    assert len(trial_rows(results)) == 2
