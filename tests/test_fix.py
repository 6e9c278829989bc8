"""Remedies and the fix chain: each remedy applies, the chain keeps what helps, undoes what does
not, never loops, and `babysit train --fix` keeps every attempt's log and a report."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from babysit.config import Config
from babysit.diagnostics.engine import Report
from babysit.diagnostics.remedy import InitForActivation, LrToTarget, Scale, plan
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.rules import ALL_RULES
from babysit.fix.chain import Outcome, Plan, apply, bisected, run_chain, serious
from babysit.fix.runner import attempt_runner
from tests.waiting import wait_until

BABYSIT = [sys.executable, "-m", "babysit"]
BASES = [Config(), Config(activation="tanh", init="small", optimizer="sgd", lr=0.1),
         Config(activation="sigmoid", init="xavier", hidden=(20, 20), reg=0.0, preprocess="none"),
         Config(init="zeros", bias_init=-1.0, dropout=0.2),
         Config(lr_schedule="step", lr_decay=0.1, lr_step=1)]


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.remedies], ids=lambda r: r.id)
def test_every_remedy_gives_a_valid_changed_config(rule: type) -> None:
    applied = 0
    for base in BASES:
        for remedy in plan(rule.remedies, base.to_dict(), {"update_ratio": 1e-7, "ratio": 78.0}):
            changed = apply(base, remedy["set"])
            assert changed != base, (rule.id, remedy)
            applied += 1
    assert applied, f"{rule.id}: no remedy applies to any of the base configs"


def test_an_unknown_value_keeps_the_relative_form() -> None:
    assert Scale("lr x0.1", "lr", 0.1).changes({}) == {"lr": "x0.1"}
    assert Scale("L2 x10", "reg", 10.0, floor=1e-3).changes({"reg": 0.0}) == {"reg": 1e-3}


def test_lr_to_target_scales_by_the_measured_ratio_within_bounds() -> None:
    up = LrToTarget("up", lowest=10.0)
    assert up.changes({"lr": 1e-6}, {"update_ratio": 1e-8}) == {"lr": 0.1}
    assert up.changes({"lr": 1e-6}, {"update_ratio": 9e-4}) == {"lr": 1e-5}  # at least 10x
    assert up.changes({"lr": 1e-6}, {}) == {"lr": 1e-5}  # no ratio: the fallback factor
    down = LrToTarget("down", target=3e-2, lowest=1e-3, highest=0.1)
    assert down.changes({"lr": 1.0}, {"update_ratio": 1e3}) == {"lr": 1e-3}
    assert down.changes({"lr": 1.0}, {"update_ratio": 0.12}) == {"lr": 0.1}


def test_init_follows_the_activation() -> None:
    remedy = InitForActivation("init")
    assert remedy.changes({"activation": "tanh", "init": "small"}) == {"init": "xavier"}
    assert remedy.changes({"activation": "relu", "init": "xavier"}) == {"init": "he"}
    assert remedy.changes({"activation": "relu", "init": "he", "bias_init": -5.0}) == {"bias_init": 0.0}
    assert remedy.changes({"activation": "relu", "init": "he", "bias_init": 0.0}) is None
    assert remedy.changes({"activation": "relu"}) == {"init": "he"}  # unknown: suggested
    assert InitForActivation("init", known_only=True).changes({"activation": "relu"}) is None


# --- the chain, with a fake trainer --------------------------------------------------------
def fake_runner(judge, calls: list[Config]):
    """A Runner whose 'training' is judge(config) -> (findings [(rule, severity)], val_acc)."""
    def run(config: Config, k: int, chosen: Plan | None) -> Outcome:
        calls.append(config)
        found, val = judge(config)
        findings = [Finding(rule, sev, 10, "fake", "advice", {}) for rule, sev in found]
        report = Report(findings, [], 100, 100, 100, config.to_dict())
        status = "stopped" if found else "completed"
        return Outcome(f"log{k}", status, report, val, 1000)
    return run


def test_a_remedy_that_does_not_help_is_undone_and_the_next_one_tried() -> None:
    calls: list[Config] = []
    run = fake_runner(lambda c: ([("loss-explosion", "error")], 0.3) if c.lr > 0.5 else ([], 0.9), calls)
    attempts = run_chain(Config(optimizer="sgd", lr=30.0), run)
    assert [a.verdict for a in attempts] == ["failed", "undone", "fixed"]
    assert [c.lr for c in calls] == [30.0, 3.0, 0.3]  # x0.1 undone, then x0.01 of the original
    assert attempts[-1].changes == {"lr": 0.3} and attempts[0].changes == {}


def test_a_remedy_that_helps_is_kept_and_the_new_root_cause_fixed() -> None:
    def judge(c: Config):
        if c.init == "zeros":
            return [("symmetric-init", "error")], 0.33
        return ([("dead-relu", "warning")], 0.6) if c.lr > 0.05 else ([], 0.95)

    attempts = run_chain(Config(init="zeros", lr=0.1), fake_runner(judge, []))
    assert [a.verdict for a in attempts] == ["failed", "kept", "fixed"]
    assert attempts[-1].changes == {"init": "he", "lr": 0.01}


def test_a_fall_in_validation_accuracy_undoes_a_remedy() -> None:
    def judge(c: Config):
        if c.reg < 1e-3:
            return [("overfitting", "warning")], 0.80
        return ([], 0.50) if c.reg < 1e-2 else ([], 0.81)  # L2 x10 underfits; x100 here is fine

    attempts = run_chain(Config(reg=1e-4), fake_runner(judge, []))
    assert [a.verdict for a in attempts][:2] == ["failed", "undone"]
    assert attempts[-1].verdict == "fixed"


def test_the_chain_never_repeats_a_config_and_stops_at_max_attempts() -> None:
    calls: list[Config] = []
    attempts = run_chain(Config(lr=1.0), fake_runner(lambda c: ([("loss-nan", "error")], None), calls), 3)
    assert len(attempts) == 3 and len(set(calls)) == 3
    calls.clear()
    attempts = run_chain(Config(lr=1.0), fake_runner(lambda c: ([("loss-nan", "error")], None), calls), 20)
    assert len(attempts) == 4 and len(set(calls)) == 4  # three remedies, then nothing left


def test_a_cut_that_goes_past_the_working_band_is_bisected() -> None:
    """Rates work only in (0.1, 0.2]: 0.3 is unstable, its x0.3 cut (0.09) underfits, the other
    side's trouble. The next cut (x0.1, 0.03) would go further still; the chain tries the
    geometric mean of 0.3 and 0.09 instead, and it works."""
    def judge(c: Config):
        if c.lr > 0.5:
            return [("loss-explosion", "error")], 0.3
        if c.lr > 0.2:
            return [("training-unstable", "warning")], 0.8
        return ([], 0.95) if c.lr > 0.1 else ([("underfitting", "warning")], 0.6)

    calls: list[Config] = []
    attempts = run_chain(Config(optimizer="sgd", lr=30.0), fake_runner(judge, calls))
    assert [c.lr for c in calls] == [30.0, 3.0, 0.3, 0.09, 0.164]
    assert [a.verdict for a in attempts] == ["failed", "undone", "kept", "undone", "fixed"]
    assert "bisect" in attempts[-1].plan.remedy
    # 3.0 was undone for the same finding (not far enough): no bisecting on that side
    assert bisected({"lr": 0.3}, 30.0, None) == {"lr": 0.3}


def test_a_kept_cut_that_now_underfits_bisects_before_adding_capacity() -> None:
    """0.126 is unstable; its x0.3 cut (0.0378) helps (kept) but now underfits: the rate is
    bracketed, so the next attempt is its middle (0.069), not a wider net."""
    def judge(c: Config):
        if c.lr > 0.1:
            return [("training-unstable", "warning")], 0.75
        return ([], 0.9) if c.lr > 0.05 else ([("underfitting", "warning")], 0.74)

    calls: list[Config] = []
    attempts = run_chain(Config(optimizer="sgd", lr=0.126), fake_runner(judge, calls))
    assert [c.lr for c in calls] == [0.126, 0.0378, 0.069]
    assert [a.verdict for a in attempts] == ["failed", "kept", "fixed"]
    assert all(c.hidden == Config().hidden for c in calls)


def test_bisected_only_replaces_an_lr_change_past_the_overshot_rate() -> None:
    assert bisected({"lr": 0.003}, 0.3, 0.03) == {"lr": 0.0949}  # past it: the middle instead
    assert bisected({"lr": 0.1}, 0.3, 0.03) == {"lr": 0.1}  # short of it: as the remedy says
    assert bisected({"lr": 3.0}, 0.3, 0.03) == {"lr": 3.0}  # the other direction
    assert bisected({"lr": 0.003, "reg": 1.0}, 0.3, 0.03) == {"lr": 0.003, "reg": 1.0}


def test_a_healthy_first_run_is_not_changed() -> None:
    attempts = run_chain(Config(), fake_runner(lambda c: ([], 0.9), []))
    assert [a.verdict for a in attempts] == ["healthy"]


def test_an_interrupted_attempt_ends_the_chain() -> None:
    def run(config: Config, k: int, chosen: Plan | None) -> Outcome:
        finding = Finding("loss-nan", "error", 3, "m", "a", {})
        report = Report([finding], [], 5, 5, 5, config.to_dict())
        return Outcome("x", "interrupted" if k else "diverged", report, None)

    attempts = run_chain(Config(lr=5.0), run)
    assert [a.verdict for a in attempts] == ["failed", "interrupted"]


# --- real training ----------------------------------------------------------------------
@pytest.mark.parametrize("config", [
    Config(optimizer="momentum", lr=3e-7, epochs=40),                  # far too low a rate
    Config(init="zeros", epochs=30),                                    # symmetric
    Config(hidden=(50,) * 6, activation="tanh", init="small", optimizer="sgd", lr=0.1, epochs=40),
    Config(hidden=(2,), epochs=60),                                     # too small a net
    Config(reg=1.0, epochs=40),                  # L2 78x the data loss: not a width problem
    Config(optimizer="sgd", lr=3e-3, epochs=40),  # a rate a little low: not a width problem
], ids=["lr-3e-7", "zeros", "tiny-tanh", "2-units", "reg-1", "sgd-3e-3"])
def test_fix_heals_faulty_configs_without_losing_accuracy(config: Config) -> None:
    to_the_end = attempt_runner(None)(config, 0, None)
    attempts = run_chain(config, attempt_runner("warning"), 5)
    last = attempts[-1]
    assert last.verdict == "fixed", [(a.verdict, a.changes) for a in attempts]
    assert last.outcome.val_acc >= to_the_end.val_acc + 0.1  # the broken run failed to learn
    assert last.outcome.val_acc >= 0.9


def test_train_fix_keeps_every_attempt_log_and_writes_the_report(tmp_path: Path) -> None:
    log, report = tmp_path / "run.jsonl", tmp_path / "fix.json"
    proc = subprocess.run([*BABYSIT, "train", "--no-live", "--lr", "3", "--hidden", "64,64",
                           "--epochs", "30", "--fix", "--log", str(log), "--fix-report", str(report)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert data["fixed"] is True and data["attempts"][0]["changes"] == {}
    assert set(data["attempts"][0]) >= {"log", "changes", "status", "findings", "val_acc"}
    assert data["attempts"][0]["findings"][0]["fix"] == {"lr": 0.3}
    assert data["attempts"][-1]["findings"] == [] or all(
        f["severity"] == "info" for f in data["attempts"][-1]["findings"])
    for k, attempt in enumerate(data["attempts"]):
        path = Path(attempt["log"])
        assert path == (log if k == 0 else tmp_path / f"run.fix{k}.jsonl")
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines[0]["type"] == "header" and lines[-1]["type"] == "summary"
    assert "fixed in" in proc.stdout and "attempt 2/5" in proc.stdout


def test_ctrl_c_during_an_attempt_leaves_whole_logs_and_a_report(tmp_path: Path) -> None:
    log, report = tmp_path / "run.jsonl", tmp_path / "fix.json"
    # Attempt 1 stops at step 0 (symmetric init); attempt 2 (He init) trains for a long time.
    proc = subprocess.Popen([*BABYSIT, "train", "--no-live", "--init", "zeros", "--epochs", "100000",
                             "--fix", "--log", str(log), "--fix-report", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = tmp_path / "run.fix1.jsonl"
    try:
        wait_until(lambda: second.exists() and second.read_bytes().count(b'"type":"step"') >= 20,
                   "the second attempt to train")
        proc.send_signal(subprocess.signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    for path in (log, second):
        assert json.loads(path.read_text().splitlines()[-1])["type"] == "summary"
    data = json.loads(report.read_text())
    assert [a["status"] for a in data["attempts"]] == ["stopped", "interrupted"]
    assert data["fixed"] is False and data["attempts"][1]["changes"] == {"init": "he"}


@pytest.mark.parametrize("args, message", [
    (["train", "--fix-report", "r.json"], "only apply with --fix"),
    (["train", "--fix", "--max-attempts", "0"], "--max-attempts must be between"),
    (["search", "--fix"], "--fix is for babysit train"),
])
def test_fix_options_that_make_no_sense_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run([*BABYSIT, *args], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_fix_with_stop_on_error_leaves_warnings_alone(tmp_path: Path) -> None:
    # A 2-unit net underfits (a warning): with --stop-on error there is nothing to fix.
    proc = subprocess.run([*BABYSIT, "train", "--no-live", "--hidden", "2", "--epochs", "60", "--fix",
                           "--stop-on", "error", "--log", str(tmp_path / "r.jsonl")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing changed" in proc.stdout and not (tmp_path / "r.fix1.jsonl").exists()


def test_babysit_fix_prints_the_changes_for_a_log(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    subprocess.run([*BABYSIT, "train", "--no-live", "--optimizer", "sgd", "--lr", "30", "--epochs", "5",
                    "--log", str(log)], capture_output=True, timeout=120, check=False)
    proc = subprocess.run([*BABYSIT, "fix", str(log), "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    changes = json.loads(proc.stdout)["runs"][0]["changes"]
    assert changes[0]["rule"] == "loss-explosion" and changes[0]["remedies"][0]["set"] == {"lr": 3.0}
    healthy = tmp_path / "h.jsonl"
    healthy.write_text("".join(json.dumps({"step": i, "loss": 2.3 * 0.99 ** i}) + "\n" for i in range(300)))
    proc = subprocess.run([*BABYSIT, "fix", str(healthy)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "nothing to change" in proc.stdout
    proc = subprocess.run([*BABYSIT, "fix", str(tmp_path / "missing.jsonl")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_diagnose_json_shows_a_fix_on_root_causes_only(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    subprocess.run([*BABYSIT, "train", "--no-live", "--hidden", "50,50,50,50,50,50", "--activation",
                    "tanh", "--init", "small", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "40",
                    "--log", str(log)], capture_output=True, timeout=120, check=False)
    proc = subprocess.run([*BABYSIT, "diagnose", str(log), "--json"], capture_output=True, text=True,
                          timeout=60)
    findings = json.loads(proc.stdout)["runs"][0]["findings"]
    assert findings[0]["rule"] == "vanishing-activations" and findings[0]["fix"] == {"init": "xavier"}
    assert all(f["fix"] is None for f in findings if f["caused_by"])


def test_apply_sets_options_and_turns_lists_into_tuples() -> None:
    base = replace(Config(), lr=0.5)
    assert apply(base, {"lr": 0.05}).lr == 0.05 and apply(base, {"hidden": [8]}).hidden == (8,)


def test_a_provisional_finding_does_not_stop_a_healthy_run() -> None:
    # This run's training accuracy starts slowly: underfitting fires at step 39 and is
    # withdrawn later. Stopping there would "fix" a healthy run.
    config = Config(activation="tanh", init="xavier", lr=3e-3, epochs=80)
    outcome = attempt_runner("warning")(config, 0, None)
    assert outcome.status == "completed" and not serious(outcome.report, "warning")


@pytest.mark.parametrize("report_name", ["run.jsonl", "run.fix1.jsonl"])
def test_the_fix_report_never_replaces_a_training_log(tmp_path: Path, report_name: str) -> None:
    """Issue 22: --fix-report naming the log (or an attempt's log) replaced it with JSON."""
    log = tmp_path / "run.jsonl"
    log.write_text('{"type": "header"}\n')  # an earlier run's log, kept
    proc = subprocess.run([*BABYSIT, "train", "--no-live", "--fix", "--overwrite", "--log", str(log),
                           "--fix-report", str(tmp_path / report_name)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "would replace the input" in proc.stderr, proc.stderr
    assert log.read_text() == '{"type": "header"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.jsonl"]


def test_fix_reads_logs_with_diagnoses_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from babysit.cli.app import app

    log = tmp_path / "other.csv"  # another tool's names: the loss is "objective"
    log.write_text("step,objective\n" + "".join(f"{i},{'nan' if i > 5 else 2.3}\n" for i in range(20)))
    runner = CliRunner()
    result = runner.invoke(app, ["fix", str(log), "--json", "--map", "loss=objective"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["runs"][0]["changes"][0]["rule"] == "loss-nan"
    result = runner.invoke(app, ["fix", str(log), "--map", "loss=objective", "--ignore", "loss-nan"])
    assert "loss-nan" not in result.output
    result = runner.invoke(app, ["fix", str(log), "--set", "loss-nan.nope=1"])
    assert result.exit_code == 2


def test_reg_to_share_sets_the_l2_term_to_a_hundredth_of_the_data_loss() -> None:
    from babysit.diagnostics.remedy import RegToShare

    remedy = RegToShare("x")
    assert remedy.changes({"reg": 1.0}, {"ratio": 78.1}) == {"reg": 0.000126}  # 10^-3.9
    assert remedy.changes({"reg": 1.0}, {"ratio": 0.005}) is None  # already under 1%
    assert remedy.changes({}, {"ratio": 10.0}) == {"reg": "x0.001"}  # unknown reg: relative


def test_a_rate_a_little_low_is_raised_before_the_net_is_widened() -> None:
    # sgd at lr 3e-3: fc1's updates are ~3e-5 of its weights; underfitting used to widen the
    # net (55%, unchanged) and --fix never tried the rate
    config = Config(optimizer="sgd", lr=3e-3, epochs=40)
    attempts = run_chain(config, attempt_runner("warning"), 5)
    assert set(attempts[1].changes) == {"lr"} and attempts[1].changes["lr"] > 10 * config.lr
    best = max(a.outcome.val_acc for a in attempts)
    assert best >= attempts[0].outcome.val_acc + 0.2, [(a.changes, a.outcome.val_acc) for a in attempts]
