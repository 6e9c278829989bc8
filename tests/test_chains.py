"""One remedy chain per quantity (issue 36): never two learning-rate chains, never two directions."""

from __future__ import annotations

import functools
from typing import Any

from babysit.api import train
from babysit.config import Config
from babysit.diagnostics.chains import direction, merge
from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.records import Header
from babysit.diagnostics.remedy import Scale, Set
from babysit.diagnostics.rule import Finding, Rule
from babysit.diagnostics.sink import DiagnosticsSink


def step(**changes: Any) -> dict[str, Any]:
    return {"change": "c", "set": changes}


def test_direction_reads_numbers_relative_changes_and_choices() -> None:
    assert direction(0.1, 1.0) == -1.0
    assert direction(10.0, 1.0) == 1.0
    assert direction("x0.1", None) == -1.0
    assert direction("x10", None) == 1.0
    assert direction("he", "small") == repr("he")
    assert direction(1.0, 1.0) is None


def test_a_later_cut_joins_the_first_chain_and_its_own_goes() -> None:
    chains = merge([("loss-explosion", [step(lr=0.1), step(lr=0.01)]),
                    ("dead-relu", [step(lr=0.3), step(activation="leaky_relu")])], {"lr": 1.0})
    assert [s["set"] for s in chains["loss-explosion"].steps] == [{"lr": 0.1}, {"lr": 0.01}, {"lr": 0.3}]
    assert [s["set"] for s in chains["dead-relu"].steps] == [{"activation": "leaky_relu"}]
    assert chains["dead-relu"].deferred == {"lr": "loss-explosion"}
    assert chains["dead-relu"].overruled == {}


def test_the_other_direction_is_dropped_not_merged() -> None:
    chains = merge([("update-ratio-high", [step(lr=1e-4)]), ("loss-flat", [step(lr=0.1), step(lr=1.0)])],
                   {"lr": 0.01})
    assert [s["set"] for s in chains["update-ratio-high"].steps] == [{"lr": 1e-4}]
    assert chains["loss-flat"].steps == []
    assert chains["loss-flat"].overruled == {"lr": "update-ratio-high"}


def test_near_misses_keep_their_own_chains() -> None:
    # Different options, and a step that changes an owned option together with a free one.
    chains = merge([("exploding-gradients", [step(init="he")]),
                    ("sigmoid-hidden", [step(activation="relu", init="he")]),
                    ("reg-dominant", [step(reg=1e-4)])], {"init": "small", "reg": 0.1})
    assert chains["sigmoid-hidden"].steps == [step(activation="relu", init="he")]
    assert chains["reg-dominant"].steps == [step(reg=1e-4)]
    assert not any(c.deferred or c.overruled for c in chains.values())


def test_the_same_choice_is_deferred_another_is_overruled() -> None:
    chains = merge([("a", [step(init="he"), step(init="xavier")]), ("b", [step(init="xavier")]),
                    ("c", [step(init="small")])], {"init": "normal"})
    assert chains["b"].deferred == {"init": "a"} and chains["b"].steps == []
    assert chains["c"].overruled == {"init": "a"}
    assert len(chains["a"].steps) == 2


def finding(rule: str, severity: str, step_: int = 10, **evidence: Any) -> Finding:
    return Finding(rule, severity, step_, "seen", "advice", evidence)


def test_report_tries_say_where_the_rate_went() -> None:
    report = Report([finding("update-ratio-high", "error", update_ratio=0.3),
                     finding("loss-flat", "warning", 20)], [], 1, 1, context={"lr": 0.01})
    first, second = report.findings
    assert "lr=" in (report.tries(first) or "")
    assert report.tries(second) == "try: the learning rate: see update-ratio-high"
    assert report.remedies(second) == []


class _Raise(Rule):
    id, severity, needs, advice = "raise-it", "warning", ("loss",), "Raise the learning rate."
    remedies = (Scale("lr x10", "lr", 10.0),)

    def on_header(self, header: Header) -> Finding | None:
        return self.report(0, "too slow")


class _Lower(Rule):
    id, severity, needs, advice = "lower-it", "error", ("loss",), "Lower the learning rate."
    remedies = (Scale("lr x0.1", "lr", 0.1), Set("xavier", (("init", "xavier"),)))

    def on_header(self, header: Header) -> Finding | None:
        return self.report(0, "too fast")


def test_the_engine_never_advises_both_directions() -> None:
    engine = Engine(rules=[_Raise(), _Lower()])
    engine.push({"type": "header", "config": {"lr": 0.01}})
    by_rule = {f.rule: f for f in engine.findings}
    assert by_rule["lower-it"].advice == "Lower the learning rate."
    assert "lower-it" in by_rule["raise-it"].advice and "Raise" not in by_rule["raise-it"].advice


def test_a_lone_finding_keeps_its_advice() -> None:
    engine = Engine(rules=[_Raise()])
    engine.push({"type": "header", "config": {"lr": 0.01}})
    assert engine.findings[0].advice == "Raise the learning rate."


@functools.cache
def diverging_dead_relu_run() -> Report:
    """The issue's run: ReLU, a small init, lr 10 (it diverges and kills units), diagnosed."""
    config = Config(activation="relu", init="small", lr=10.0, hidden=(100,), epochs=8, seed=0)
    doctor = DiagnosticsSink()
    train(config, [doctor], live=False)
    doctor.close()
    assert doctor.report is not None
    return doctor.report


def test_a_diverging_dead_relu_run_has_one_learning_rate_chain() -> None:
    # The case: `try: lr=0.3` under one finding and `try: lr=0.9; then 0.3` under another.
    report = diverging_dead_relu_run()
    rules = [f.rule for f in report.findings]
    assert "loss-explosion" in rules and "dead-relu" in rules
    with_lr = [f.rule for f in report.findings if any("lr" in r["set"] for r in report.remedies(f))]
    assert with_lr == ["loss-explosion"]
    assert "the learning rate: see loss-explosion" in (report.tries(report.findings[rules.index("dead-relu")]) or "")


def test_a_babysit_runs_later_changes_are_flags_to_add_to_its_command() -> None:
    """Issue 36: `then batchnorm=True` could not be pasted; each later change of a babysit run
    is now the `babysit train` flag that makes it (appended to the first command, the last
    value of a repeated option wins)."""
    report = diverging_dead_relu_run()
    explosion = next(f for f in report.findings if f.rule == "loss-explosion")
    said = [r["say"] for r in report.remedies(explosion)]
    assert said[1].startswith("--lr 0.") and "lr=" not in " ".join(said)
    line = report.tries(explosion) or ""
    assert line.startswith("try: babysit train ") and "; then --lr " in line
    from babysit.diagnostics.vocabulary import say

    assert say({"batchnorm": True}, "babysit") == "--batchnorm"
    assert say({"hidden": (100, 100)}, "babysit") == "--hidden 100,100"
    assert say({"batchnorm": True}, None) == "batchnorm=True"  # near miss: another tool's run
