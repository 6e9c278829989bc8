"""Each rule on synthetic metric sequences: the bad one fires exactly it, the good ones do not."""

from __future__ import annotations

import copy
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from babysit.diagnostics.engine import Engine, build_rules
from babysit.diagnostics.rule import SEVERITIES, Finding, Rule
from babysit.diagnostics.rules import ALL_RULES, RULES_BY_ID
from tests.rule_cases import CASES, NEAR_MISSES, Records, curve, epochs, header, healthy_loss, noisy, sparse

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def fired(rule_id: str, records: Records) -> list[str]:
    engine = Engine(build_rules(only=[rule_id]))
    report = engine.push_all(copy.deepcopy(records))
    return [f.rule for f in report.findings]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_bad_sequence_fires(rule_id: str) -> None:
    assert fired(rule_id, CASES[rule_id][0]) == [rule_id]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_good_sequence_is_quiet(rule_id: str) -> None:
    assert fired(rule_id, CASES[rule_id][1]) == []


@pytest.mark.parametrize("rule_id,records", [(r, recs) for r, cases in NEAR_MISSES.items()
                                             for recs in cases])
def test_near_miss_is_quiet(rule_id: str, records: Records) -> None:
    assert fired(rule_id, records) == []


def test_every_rule_has_cases() -> None:
    assert set(CASES) == set(RULES_BY_ID)


def test_healthy_run_raises_nothing_with_all_rules() -> None:
    report = Engine().push_all(copy.deepcopy(CASES["symmetric-init"][1]))
    assert report.findings == []


KNOWN_FIELDS = {"loss", "data_loss", "reg_loss", "train_acc", "val_acc", "val_loss", "lr", "ranks", "amp_scale",
                "clipped_steps", "eval_mode", "eval_train_mode", "classes"} | {
    f"layers.{f}" for f in ("weight_norm", "grad_norm", "update_ratio", "act_mean", "act_std",
                            "dead_frac", "sat_frac")} | {
    f"header.{f}" for f in ("num_classes", "activation", "input_stats")}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_is_self_describing(rule: type) -> None:
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.id)
    assert rule.severity in SEVERITIES
    assert rule.__doc__ and "Why" in rule.__doc__ and rule.advice
    alternatives = {alt for need in rule.needs for alt in need.split("|")}
    assert alternatives <= KNOWN_FIELDS, alternatives - KNOWN_FIELDS
    doc = DOCS.read_text()
    section = doc.split(f"## `{rule.id}`", 1)
    assert len(section) == 2, f"{rule.id} missing from docs/rules.md"
    body = section[1].split("\n## ", 1)[0]
    for name in rule.thresholds:
        assert f"`{name}`" in body, f"{rule.id}: threshold {name} undocumented"


def test_ids_are_unique() -> None:
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids))


def test_thresholds_override_and_unknown_names_fail() -> None:
    records = CASES["loss-flat"][1]  # 15% drop: quiet at min_drop 0.05
    engine = Engine(build_rules({"loss-flat": {"min_drop": 0.5}}, only=["loss-flat"]))
    assert [f.rule for f in engine.push_all(copy.deepcopy(records)).findings] == ["loss-flat"]
    from babysit.errors import BabysitError

    with pytest.raises(BabysitError, match="no threshold"):
        build_rules({"loss-flat": {"nope": 1.0}})
    with pytest.raises(BabysitError, match="unknown rule"):
        build_rules({"not-a-rule": {"x": 1.0}})


def test_rules_without_their_fields_are_reported_not_checked() -> None:
    report = Engine().push_all([{"loss": 1.0}, {"loss": 0.9}])
    missing = {n["rule"]: n["needs"] for n in report.not_checked}
    assert missing["dead-relu"] == ["layers.dead_frac"]
    assert missing["loss-at-init"] == ["header.num_classes"]
    assert "loss-nan" not in missing


@pytest.mark.parametrize("activation, listed", [("tanh", {"saturated-activations"}),
                                                 ("relu", {"dead-relu"}), (None, {"dead-relu", "saturated-activations"})])
def test_activation_rules_of_another_activation_are_not_applicable(activation: str | None,
                                                                   listed: set[str]) -> None:
    header = {"type": "header"} | ({"activation": activation} if activation else {})
    report = Engine().push_all([header, {"loss": 1.0}, {"loss": 0.9}])
    unchecked = {n["rule"] for n in report.not_checked}
    assert unchecked & {"dead-relu", "saturated-activations"} == listed


def test_classes_option_stands_in_for_the_header() -> None:
    records = [{"loss": 9.0}, {"loss": 8.0}]
    assert "loss-at-init" not in [f.rule for f in Engine().push_all(copy.deepcopy(records)).findings]
    report = Engine(classes=10).push_all(copy.deepcopy(records))
    assert "loss-at-init" in [f.rule for f in report.findings]


def test_explosion_supersedes_its_symptoms() -> None:
    records = [header()] + curve(list(healthy_loss(100)) + [1e3] * 300)
    report = Engine().push_all(records)
    ids = [f.rule for f in report.findings]
    assert "loss-explosion" in ids and "loss-flat" not in ids


def test_live_push_announces_each_finding_once() -> None:
    engine = Engine()
    announced = []
    for rec in copy.deepcopy(CASES["loss-nan"][0]) + curve(["NaN"] * 5):
        announced += [f.rule for f in engine.push(rec)]
    assert announced.count("loss-nan") == 1
    assert engine.findings[0].severity == "error"


def test_docs_rules_md_is_up_to_date() -> None:
    from babysit.diagnostics.catalogue import catalogue

    assert DOCS.read_text() == catalogue(), (
        "docs/rules.md is stale: python -m babysit.diagnostics.catalogue > docs/rules.md")


def test_layer_samples_thin_out_on_long_runs() -> None:
    from babysit.diagnostics.rule import Rule

    class Count(Rule):
        id, severity, needs, advice = "count", "info", (), ""
        calls = 0

        def on_layers(self, sample):  # type: ignore[no-untyped-def]
            Count.calls += 1

    engine = Engine([Count()])
    layers = {"fc1": {"grad_norm": 1.0}}
    for step in range(100_000):
        engine.push({"step": step, "loss": 1.0, "layers": layers})
    # every 10 steps up to 10,000 (1,000 samples), then ~1000 per decade: ~1000 * ln(10) more
    assert 3000 < Count.calls < 3600


def test_rules_command_lists_every_rule_and_threshold() -> None:
    import json as _json

    from typer.testing import CliRunner

    from babysit.cli.app import app

    result = CliRunner().invoke(app, ["rules", "--json"])
    assert result.exit_code == 0
    listed = {r["id"]: r for r in _json.loads(result.stdout)["rules"]}
    assert set(listed) == set(RULES_BY_ID)
    assert listed["loss-flat"]["thresholds"] == RULES_BY_ID["loss-flat"].thresholds
    table = CliRunner().invoke(app, ["rules", "--all"])
    assert table.exit_code == 0 and "min_drop=0.05" in table.output


@pytest.mark.parametrize("every", [1, 5, 10])
def test_loss_flat_counts_steps_not_records(every: int) -> None:
    # The same stuck run (lr far too low), logged every step, every 5 or every 10 steps.
    flat = noisy(np.full(450, 2.3), 0.05, seed=3)
    assert fired("loss-flat", [header()] + sparse(flat, every)) == ["loss-flat"]
    falling = noisy(2.3 * np.exp(-np.arange(450) / 150) + 0.1, 0.05, seed=3)  # a healthy start
    assert fired("loss-flat", [header()] + sparse(falling, every)) == []


def test_a_consequence_is_listed_under_its_cause_with_the_causes_advice() -> None:
    from babysit.diagnostics.rule import Finding, Rule

    class Cause(Rule):
        id, severity, needs, advice = "cause", "warning", (), "fix the cause"
        explains = ("effect",)

        def on_step(self, record):  # type: ignore[no-untyped-def]
            return self.report(record["step"], "cause") if record["step"] == 5 else None

    class Effect(Rule):
        id, severity, needs, advice = "effect", "error", (), "contradicting advice"

        def on_step(self, record):  # type: ignore[no-untyped-def]
            return self.report(record["step"], "effect") if record["step"] == 7 else None

    class Other(Rule):
        id, severity, needs, advice = "other", "info", (), "unrelated"

        def on_step(self, record):  # type: ignore[no-untyped-def]
            return self.report(record["step"], "other") if record["step"] == 1 else None

    engine = Engine([Effect(), Other(), Cause()])
    report = engine.push_all({"step": i, "loss": 1.0} for i in range(10))
    assert [(f.rule, f.caused_by) for f in report.findings] == [
        ("cause", None), ("effect", "cause"), ("other", None)]  # the effect is worse, yet follows
    effect = report.findings[1]
    assert isinstance(effect, Finding) and "cause" in effect.advice and "contradicting" not in effect.advice
    assert report.to_dict()["findings"][1]["caused_by"] == "cause"
    assert report.worst == "error"
    class EarlyEffect(Effect):
        def on_step(self, record):  # type: ignore[no-untyped-def]
            return self.report(record["step"], "effect") if record["step"] == 2 else None

    findings = Engine([EarlyEffect(), Cause()]).push_all({"step": i, "loss": 1.0} for i in range(10)).findings
    assert [(f.rule, f.caused_by) for f in findings] == [("effect", None), ("cause", None)]  # it came first


def test_a_learning_rate_far_too_low_is_the_cause_not_low_accuracy() -> None:
    # The same stuck run a learning rate of 1e-6 gives: flat loss, accuracy at chance.
    records = [header()] + epochs([0.34] * 30, [0.33] * 30, loss=[1.1] * 30)
    report = Engine().push_all(copy.deepcopy(records))
    head = report.findings[0]
    assert head.rule == "loss-flat" and head.caused_by is None
    assert all(f.caused_by == "loss-flat" for f in report.findings[1:] if f.rule == "underfitting")


def test_underfitting_needs_a_net_that_learned() -> None:
    stuck = [header(num_classes=10)] + epochs([0.104] * 12, [0.10] * 12, loss=[2.3] * 12)
    assert fired("underfitting", stuck) == []  # never left chance: loss-flat's case, not capacity
    small = [header(num_classes=10)] + epochs([0.5, 0.58, 0.6, 0.61, 0.61, 0.61, 0.61, 0.61],
                                              [0.5, 0.57, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6],
                                              loss=[2.3, 1.6, 1.3, 1.25, 1.22, 1.21, 1.2, 1.2])
    assert fired("underfitting", small) == ["underfitting"]
    lucky = [header(num_classes=10)] + epochs([0.5] * 8, [0.5] * 8, loss=[2.3] * 8)
    assert fired("underfitting", lucky) == []  # above chance from the start, but the loss never moved


def test_underfitting_infers_the_class_count_from_the_first_loss() -> None:
    # A Keras-style log of a 2-unit net on 10 classes: no header, first loss ~log(10).
    records = epochs([0.45, 0.55, 0.59, 0.6, 0.61, 0.61, 0.61, 0.61],
                     [0.44, 0.55, 0.58, 0.6, 0.6, 0.6, 0.6, 0.6],
                     loss=[2.32, 1.6, 1.3, 1.25, 1.22, 1.21, 1.2, 1.2])
    report = Engine(build_rules(only=["underfitting"])).push_all(copy.deepcopy(records))
    (finding,) = report.findings
    assert finding.evidence["classes"] == 10 and finding.evidence["classes_inferred"] is True
    assert "inferred from the first loss" in finding.message
    # 0.61 is below the 10-class mark (0.775); the 0.6 fallback mark would have kept quiet
    assert finding.evidence["low"] == pytest.approx(0.1 + 0.75 * 0.9)


def test_loss_flat_judges_one_quiet_window_each() -> None:
    # 33 records over 330 steps (logged every 10): three windows; stuck at 2.303 to 0.1%.
    records = [header()] + sparse(noisy(np.full(330, 2.303), 0.001, seed=1), 10)
    assert fired("loss-flat", records) == ["loss-flat"]
    noisy_records = [header()] + sparse(noisy(np.full(330, 2.303), 0.1, seed=1), 10)
    assert fired("loss-flat", noisy_records) == []  # too noisy to judge on single windows


def test_training_unstable_when_training_accuracy_falls_from_its_best() -> None:
    falling = [header()] + epochs([0.9, 0.96, 0.98, 0.97, 0.92, 0.88, 0.9], loss=[0.3] * 7)
    assert fired("training-unstable", falling) == ["training-unstable"]
    wobbling = [header()] + epochs([0.9, 0.96, 0.98, 0.97, 0.98, 0.955, 0.98], loss=[0.3] * 7)
    assert fired("training-unstable", wobbling) == []  # within 5 points of its best


def test_an_early_bump_in_validation_loss_is_withdrawn() -> None:
    val_loss = [1.0, 0.5, 0.7, 0.75, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1]
    train_loss = [1.1, 0.6, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1]
    val_acc = [0.5, 0.6, 0.62, 0.64, 0.66, 0.7, 0.75, 0.8, 0.85, 0.9]
    records = [header()] + epochs([a + 0.02 for a in val_acc], val_acc, val_loss, loss=train_loss)
    assert fired("overfitting", records[:6 * 10 + 1]) == ["overfitting"]  # while it rose
    assert fired("overfitting", records) == []  # then fell to a fifth of its former best


def test_overfitting_from_losses_logged_once_an_epoch() -> None:
    # A Hugging Face-style log: loss and eval_loss only, one training loss per epoch.
    n = 150
    train = [2.3 * 0.95**e for e in range(n)]
    val = [max(0.3, 2.3 * 0.93**e) if e < 40 else 0.3 + 0.32 * (e - 40) / (n - 40) for e in range(n)]
    records = [{"type": "step", "step": e, "epoch": e, "loss": train[e], "val_loss": val[e]} for e in range(n)]
    assert fired("overfitting", records) == ["overfitting"]


def test_a_hockey_stick_is_measured_in_epochs() -> None:
    # 18 steps per epoch: ten epochs at log(10), then the fall (the lecture's deep tanh net).
    level = np.concatenate([np.full(180, 2.303), np.geomspace(2.303, 0.1, 60), np.full(200, 0.1)])
    loss = noisy(level, 0.01, seed=2)

    def per_epoch(spe: int) -> Records:
        out: Records = [header(num_classes=10)]
        for i, v in enumerate(loss):
            rec = {"type": "step", "step": i, "epoch": i // spe, "loss": float(v)}
            if i % spe == spe - 1:
                rec["train_acc"] = 0.1 if i < 180 else 0.9
            out.append(rec)
        return out

    assert fired("plateau-then-drop", per_epoch(18)) == ["plateau-then-drop"]
    assert fired("plateau-then-drop", [header()] + curve(loss)) == []  # no epochs known: 200 steps
    early = noisy(np.concatenate([np.full(40, 2.303), np.geomspace(2.303, 0.1, 40), np.full(300, 0.1)]),
                  0.01, seed=2)
    quick: Records = [header(steps_per_epoch=4)] + curve(early)  # a tiny data set: 4 steps an epoch
    assert fired("plateau-then-drop", quick) == []  # 40 steps is a normal start, not a plateau


def test_a_burst_in_a_learning_run_is_not_an_explosion() -> None:
    # Adam at a high rate: a window of wild losses, some far below the untrained 1.3; it recovers.
    burst = [0.043, 1.629, 0.056, 1.442, 1.989, 2.78, 0.017, 5.299, 3.086, 0.121, 3.188, 6.071,
             4.584, 2.005, 0.001]
    # placed so that steps 300-309 hold its wildest ten losses (mean 2.7, over 2x the start)
    losses = [1.3] + list(noisy(np.full(294, 0.05), 0.2, seed=1)) + burst + list(noisy(np.full(200, 0.05), 0.2))
    assert fired("loss-explosion", [header()] + curve(losses)) == []
    blown = [1.3] + list(noisy(np.full(99, 0.5), 0.2, seed=1)) + list(np.geomspace(2, 50, 30))
    assert fired("loss-explosion", [header()] + curve(blown)) == ["loss-explosion"]


def test_underfitting_from_losses_alone() -> None:
    # A Hugging Face-style log of a 2-unit net on 10 classes: loss and eval_loss per epoch,
    # the first loss logged a tenth of the way into the first epoch (about the loss at init).
    def log(train: list[float], val: list[float], first_at: float = 0.1) -> Records:
        return [{"type": "step", "step": 0, "epoch": first_at, "loss": train[0]}] + [
            {"type": "step", "step": e + 1, "epoch": e + 1, "loss": t, "val_loss": v}
            for e, (t, v) in enumerate(zip(train, val, strict=True))]

    creeping = [2.3 * 0.8**e + 1.2 * (1 - 0.8**e) - 0.001 * e for e in range(40)]
    assert fired("underfitting", log(creeping, [t - 0.07 for t in creeping])) == ["underfitting"]
    # No class count: the first loss came after training started (a fine-tune of a language
    # model logs 2.3 at its first epoch's end); a loss's level then says nothing.
    late = log(creeping, [t - 0.07 for t in creeping])[1:]
    assert fired("underfitting", late) == []
    healthy = [2.3 * 0.8**e + 0.05 for e in range(40)]
    assert fired("underfitting", log(healthy, [t + 0.01 for t in healthy])) == []
    never = [2.3] * 40  # never learned: loss-flat's case
    assert fired("underfitting", log(never, never)) == []
    overfit = [2.3 * 0.8**e + 1.2 * (1 - 0.8**e) for e in range(40)]  # a gap: not underfitting
    assert fired("underfitting", log(overfit, [2 * t for t in overfit])) == []


def test_a_high_initial_loss_from_unscaled_inputs_says_so() -> None:
    stats = {"std_mean": 58.0, "rms": 58.0, "mean_over_std_max": 0.0}
    engine = Engine(build_rules(only=["loss-at-init"]))
    (finding,) = engine.push_all([header(input_stats=stats)] + curve([40.0, 30.0])).findings
    assert "the inputs are not scaled (RMS 58" in finding.message
    engine = Engine(build_rules(only=["loss-at-init"]))
    (finding,) = engine.push_all([header(input_stats={"std_mean": 1.0, "rms": 1.0})]
                                 + curve([40.0, 30.0])).findings
    assert "not scaled" not in finding.message  # unit-scale inputs: the init's scale is to blame


def test_an_explosion_in_the_first_epoch_of_a_per_epoch_log() -> None:
    # Keras' CSVLogger at SGD lr 30: the first row is already the exploded epoch's mean.
    losses = [889.8, 6.98, 7.27, 5.85, 6.9, 7.1, 6.5, 7.3, 6.2, 6.8]
    rows = [{"type": "step", "step": e, "epoch": e, "loss": v, "train_acc": 0.1, "val_loss": v,
             "val_acc": 0.1} for e, v in enumerate(losses)]
    assert fired("loss-explosion", rows) == ["loss-explosion"]
    healthy = [{**r, "loss": 2.0 / (e + 1), "train_acc": 0.5 + e / 25} for e, r in enumerate(rows)]
    assert fired("loss-explosion", healthy) == []
    # 250 classes, 27% after the first epoch: C is not 1 / 0.27 = 4 (log 4 = 1.39 would make
    # this fall from 4.9 "3.5x the starting loss").
    speakers = [{**r, "loss": 4.9 - 0.3 * e, "train_acc": 0.27 + 0.06 * e} for e, r in enumerate(rows)]
    assert fired("loss-explosion", speakers) == []
    regression = [{k: v for k, v in r.items() if k not in ("train_acc", "val_acc")} for r in rows]
    assert fired("loss-explosion", regression) == []  # no accuracy: an MSE may start at 890


def _hf_like(train_loss: list[float], eval_loss: list[float], per_epoch: int = 3) -> Records:
    """A Hugging Face Trainer-like log: losses per step, eval_loss per epoch, no accuracies."""
    out: Records = []
    step = 0
    for tl, vl in zip(train_loss, eval_loss, strict=True):
        for _ in range(per_epoch):
            out.append({"type": "step", "step": step, "loss": tl})
            step += 1
        out.append({"type": "epoch", "step": step - 1, "val_loss": vl})
    return out


def test_overfitting_from_losses_alone() -> None:
    # train loss keeps halving while eval loss sits still (the HF zoo's 60-example run)
    train = [2.3, 1.5, 0.9, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05, 0.03, 0.02, 0.015]
    stalled = [2.2, 1.4, 0.9, 0.72, 0.68, 0.67, 0.67, 0.668, 0.668, 0.667, 0.667, 0.668]
    report = Engine(build_rules(only=["overfitting"])).push_all(_hf_like(train, stalled))
    (finding,) = report.findings
    assert finding.rule == "overfitting" and finding.evidence["classes"] == 10  # from log(10)
    assert "validation loss moved only" in finding.message
    # still improving: the validation loss follows the training loss down
    improving = [2.2, 1.4, 0.9, 0.6, 0.45, 0.35, 0.28, 0.24, 0.21, 0.19, 0.17, 0.16]
    assert fired("overfitting", _hf_like(train, improving)) == []


def test_overfitting_from_losses_near_misses() -> None:
    stalled = [2.2, 1.4, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    # the training loss fell, but not by half, while validation stalled
    slow = [2.3, 1.5, 1.0, 0.8, 0.75, 0.7, 0.66, 0.63, 0.6, 0.58, 0.56, 0.55]
    assert fired("overfitting", _hf_like(slow, stalled)) == []
    # halved, but still far from fitted (above -log 0.55 for 10 classes): not yet memorizing
    unfit = [2.3, 2.3, 2.3, 2.25, 2.2, 2.1, 2.0, 1.8, 1.6, 1.4, 1.2, 1.1]
    assert fired("overfitting", _hf_like(unfit, [2.2] * 12)) == []


def test_input_not_centered_judges_images_per_channel() -> None:
    off = [header(input_stats={"mean_abs_mean": 0.1, "std_mean": 60.0,
                               "channel_mean_over_std_max": 2.0})] + curve(healthy_loss())
    assert fired("input-not-centered", off) == ["input-not-centered"]  # raw 0..255 pixels
    near = [header(input_stats={"mean_abs_mean": 0.1, "std_mean": 60.0,
                                "channel_mean_over_std_max": 0.9})] + curve(healthy_loss())
    assert fired("input-not-centered", near) == []


def test_sanity_blames_input_scale_for_an_unadapted_init() -> None:
    from dataclasses import replace

    from babysit.api import prepare_data
    from babysit.config import Config
    from babysit.sanity import checks

    for config in (Config(data="digits", init="small", init_std=0.5, preprocess="per-channel"),
                   Config(data="digits", init="he", preprocess="per-channel")):  # the lecture's He
        data = prepare_data(config)
        result = checks.check_init_loss(config, data)
        assert result.status != "PASS" and "not scaled" in result.advice
        scaled = replace(data, X_train=data.X_train / data.input_scale)
        assert "not scaled" not in checks.check_init_loss(config, scaled).advice


def test_a_flat_loss_after_the_warmup_is_still_flat() -> None:
    from tests.rule_cases import WARMED_UP_BUT_FLAT

    findings = fired("loss-flat", WARMED_UP_BUT_FLAT)
    assert findings == ["loss-flat"]
    engine = Engine(build_rules(only=["loss-flat"]))
    report = engine.push_all(copy.deepcopy(WARMED_UP_BUT_FLAT))
    assert report.findings[0].step > 300  # judged from the end of the warmup (step 99) on


def test_a_warmup_is_not_announced_as_a_flat_loss_while_it_runs() -> None:
    warmup = NEAR_MISSES["loss-flat"][-1]  # lr rising over 400 steps, the loss flat until 350
    engine = Engine(build_rules(only=["loss-flat"]))
    announced = [f.rule for rec in copy.deepcopy(warmup) for f in engine.push(rec)]
    assert announced == []


def test_a_finding_shown_during_the_run_and_withdrawn_is_said_at_the_end() -> None:
    from rich.console import Console

    from babysit.cli.findings_view import findings_view
    from babysit.diagnostics.sink import DiagnosticsSink

    class Shaky(Rule):
        id, severity, needs, advice = "shaky", "warning", (), "wait and see"
        provisional = True

        def on_step(self, record):  # type: ignore[no-untyped-def]
            if record["step"] == 2:
                return self.report(2, "looks bad")
            if record["step"] == 6:
                self.finding = None  # later evidence contradicts it
            return None

    class Stays(Rule):
        id, severity, needs, advice = "stays", "info", (), "fine"

        def on_step(self, record):  # type: ignore[no-untyped-def]
            return self.report(4, "noted") if record["step"] == 4 else None

    shown: list[Finding] = []
    sink = DiagnosticsSink(Engine([Shaky(), Stays()]), listeners=[shown.append])
    for i in range(10):
        sink.emit({"step": i, "loss": 1.0})
    sink.close()
    report = sink.report
    assert report is not None and [f.rule for f in shown] == ["shaky", "stays"]
    assert [f.rule for f in report.findings] == ["stays"]
    assert [(f.rule, why) for f, why in report.withdrawn] == [
        ("shaky", "withdrawn: later records contradicted it")]
    assert report.to_dict()["withdrawn"][0]["rule"] == "shaky"
    said = "WARNING shaky at step 2, shown during the run: withdrawn: later records contradicted it"
    for verbose in (False, True):  # docs/findings.md: withdrawn findings only on request
        console = Console(width=200, record=True)
        console.print(findings_view(report, verbose))
        assert (said in console.export_text()) is verbose
    # a healthy end: "No problems found." alone, never with findings listed under it
    healthy = replace(report, findings=[])
    for verbose, first in ((False, "No problems found."),
                           (True, "No problems hold at the end; shown during the run and withdrawn")):
        console = Console(width=200, record=True)
        console.print(findings_view(healthy, verbose))
        text = console.export_text()
        assert text.startswith(first) and (said in text) is verbose


@pytest.mark.parametrize("val,fires", [
    ([0.5] + [1.0] * 20, False),  # perfect: nothing left to gain, "decay the lr" is no advice
    ([0.34, 0.33] * 10, False),  # at chance (3 classes): nothing learned, another rule's case
    ([0.3] + [0.7] * 20, True),  # a real plateau between the two
    ([0.3] + [0.36] * 20, True),  # near miss of chance: 0.36 > 1/3 + 0.02
])
def test_val_plateau_not_at_chance_nor_at_perfect(val: list[float], fires: bool) -> None:
    records = [header(num_classes=3)] + epochs([0.9] * len(val), val)
    rules = [f.rule for f in Engine(build_rules(only=["val-plateau"])).push_all(records).findings]
    assert (rules == ["val-plateau"]) is fires


@pytest.mark.parametrize("start,end,fires", [
    (8.7e-10, 3.4e-6, False),  # grew from nothing to almost nothing: under 1e-3 of the weights
    (1e-4, 0.5, True),  # grew 5000x to half the weights' norm: exploding
    (1e-6, 2e-3, True),  # near miss of the floor: 2e-3 of the weights, grown 2000x
])
def test_exploding_needs_a_gradient_that_is_large_not_only_grown(start: float, end: float,
                                                                 fires: bool) -> None:
    grads = np.geomspace(start, end, 30)

    def layers(i: int) -> dict:
        return {"fc1": {"grad_norm": float(grads[i // 10]), "weight_norm": 1.0},
                "fc2": {"grad_norm": float(grads[i // 10]), "weight_norm": 1.0}}

    records = [header()] + curve([1.0] * 300, layers)
    rules = [f.rule for f in Engine(build_rules(only=["exploding-gradients"])).push_all(records).findings]
    assert (rules == ["exploding-gradients"]) is fires


def test_vanishing_gradients_supersede_a_growth_from_nothing() -> None:
    grads = np.geomspace(1e-9, 1e-2, 30)

    def layers(i: int) -> dict:  # fc1's gradient 1e-5 of fc2's: vanishing; and it grew 1e7x
        return {"fc1": {"grad_norm": float(grads[i // 10]) * 1e-5, "weight_norm": 1e-5},
                "fc2": {"grad_norm": float(grads[i // 10]) * 1e5, "weight_norm": 1.0}}

    rules = [f.rule for f in Engine(build_rules(only=["exploding-gradients", "vanishing-gradients"]))
             .push_all([header()] + curve([1.0] * 300, layers)).findings]
    assert rules == ["vanishing-gradients"]


def test_messages_say_numbers_plainly() -> None:
    # a loss that fell a little is not "+0.1%"; a huge ratio is not 98 digits
    falling = [header()] + curve(np.linspace(1.1, 1.05, 800))
    flat = Engine(build_rules(only=["loss-flat"])).push_all(falling).findings[0]
    assert re.search(r"loss fell \d\.\d% in", flat.message), flat.message
    rising = [header()] + curve(np.linspace(1.1, 1.15, 800))
    flat = Engine(build_rules(only=["loss-flat"])).push_all(rising).findings[0]
    assert re.search(r"loss rose \d\.\d% in", flat.message), flat.message
    blown = [header()] + curve([1.1] * 5 + [1e97] * 20)
    (boom,) = Engine(build_rules(only=["loss-explosion"])).push_all(blown).findings
    assert re.search(r"is [\d.]+e\+96x the starting", boom.message), boom.message


@pytest.mark.parametrize("first,grew", [(0.01, True), (0.9, False), (0.3, False)])
def test_saturation_that_training_caused_is_blamed_on_the_rate_not_the_init(first: float,
                                                                            grew: bool) -> None:
    def layers(i: int) -> dict:  # fc1 saturates from step 50 on
        return {"fc1": {"sat_frac": first if i < 50 else 0.6}, "fc2": {"weight_norm": 1.0}}

    records = [header(activation="tanh", config={"lr": 0.1, "init": "xavier",
                                                  "activation": "tanh"})] + curve([1.0] * 200, layers)
    report = Engine(build_rules(only=["saturated-activations"])).push_all(records)
    (finding,) = report.findings
    assert ("training, not the init, saturated it" in finding.message) is grew
    first_fix = report.remedies(finding)[0]["set"]
    if grew:
        assert first_fix == {"lr": 0.01}
    else:
        assert "lr" not in first_fix  # the init (or batch norm) comes first


def test_loss_at_init_says_which_loss_it_judged() -> None:
    # total 17.34 and data 12.50 at the same step were both called "initial loss"
    with_data = [header()] + [{"type": "step", "step": 0, "loss": 17.34, "data_loss": 12.5}]
    (finding,) = Engine(build_rules(only=["loss-at-init"])).push_all(with_data).findings
    assert finding.message.startswith("initial data loss 12.500 ")
    total_only = [header()] + [{"type": "step", "step": 0, "loss": 17.34}]
    (finding,) = Engine(build_rules(only=["loss-at-init"])).push_all(total_only).findings
    assert finding.message.startswith("initial loss 17.340 ")


def test_the_lectures_update_ratio_target_is_defined_once() -> None:
    # rules, remedies, the dashboard and the report all read one constant (it was written in 4)
    from babysit.dashboard import views
    from babysit.diagnostics import remedy, targets
    from babysit.diagnostics.rules import update_ratio
    from babysit.report import run_figures

    target = targets.TARGET_UPDATE_RATIO
    assert update_ratio.TARGET is target and views.TARGET_RATIO is target
    assert run_figures.TARGET_RATIO is target and remedy.LrToTarget("x").target is target


def test_a_class_count_is_read_only_from_a_loss_that_is_still_the_loss_at_init() -> None:
    from babysit.diagnostics.rules._util import classes_from_first

    assert classes_from_first({"step": 0, "loss": 2.30}) == 10  # the lecture's first check
    assert classes_from_first({"step": 5, "epoch": 0.11, "loss": 2.41}) == 11  # HF, early
    # A Keras epoch row at chance (11% for 10 classes): its mean loss is still about log C.
    assert classes_from_first({"step": 0, "loss": 2.32, "train_acc": 0.11, "val_acc": 0.15}) == 10
    # 250 speakers, 27% after one epoch: 4.88 is not log C of a 132-class net at chance.
    assert classes_from_first({"step": 0, "loss": 4.88, "train_acc": 0.27, "val_acc": 0.41}) is None
    # A fine-tune's first loss at step 500, half an epoch in: nothing says it is at init.
    assert classes_from_first({"step": 500, "epoch": 0.5, "loss": 0.72}) is None
    assert classes_from_first({"step": 10, "loss": 25.5}) is None  # no classifier starts there


def test_patience_is_counted_in_the_logs_own_epochs_not_in_evaluations() -> None:
    # The same evaluations, one per epoch or one every 50 steps (0.02 epochs, as a Hugging
    # Face run evaluating by steps logs them): patience means epochs of training.
    def log(spacing: float) -> Records:
        out: Records = []
        for i in range(15):
            out.append({"type": "step", "step": 10 * i, "loss": 2.0 * 0.8 ** i})
            out.append({"type": "step", "step": 10 * i, "epoch": spacing * (i + 1),
                        "val_acc": min(0.6, 0.3 + 0.1 * i), "val_loss": 0.9 + 0.1 * max(0, i - 3)})
        return out

    assert fired("val-plateau", log(1.0)) == ["val-plateau"]
    assert fired("val-plateau", log(0.02)) == []
    assert fired("overfitting", log(1.0)) == ["overfitting"]
    assert fired("overfitting", log(0.02)) == []
    no_epochs = [{k: v for k, v in r.items() if k != "epoch"} for r in log(0.02)]
    assert fired("val-plateau", no_epochs) == ["val-plateau"]  # no stated epoch: count them
    said = Engine(build_rules(only=["val-plateau"])).push_all(copy.deepcopy(no_epochs)).findings
    assert "evaluations" in said[0].message  # and say so: they are evaluations, not epochs

    def stalled(spacing: float) -> Records:  # learned to 50% on 10 classes, then stopped
        out: Records = [{"type": "step", "step": 0, "loss": 2.3}]
        for i in range(8):
            acc = min(0.5, 0.2 + 0.1 * i)
            out += [{"type": "step", "step": 10 * i + j + 1, "loss": 2.3 - 0.3 * min(i, 3)}
                    for j in range(10)]
            out.append({"type": "step", "step": 10 * i + 10, "epoch": spacing * (i + 1),
                        "train_acc": acc, "val_acc": acc - 0.01})
        return out

    assert fired("underfitting", stalled(1.0)) == ["underfitting"]
    assert fired("underfitting", stalled(0.02)) == []


def test_a_flat_loss_in_a_log_of_epochs_is_found_and_withdrawn_when_it_falls_later() -> None:
    # Keras's CSVLogger: one row per epoch, so the steps are epochs (20 of them, not 20 steps).
    def rows(losses: list[float]) -> Records:
        return [{"type": "step", "step": e, "epoch": e, "loss": v, "train_acc": 0.055,
                 "val_loss": v, "val_acc": 0.07} for e, v in enumerate(losses)]

    flat = [2.4741 - 0.0001 * e for e in range(20)]
    assert fired("loss-flat", rows(flat)) == ["loss-flat"]
    assert fired("loss-flat", rows(flat[:9])) == []  # 9 epochs: too soon to say
    # A 2-unit net: flat for 20 epochs, then 13% down by epoch 40: a slow start after all.
    later = flat + [2.47 - 0.35 * min(1.0, (e + 1) / 8) for e in range(20)]
    assert fired("loss-flat", rows(later)) == []


def test_a_gap_is_measured_from_the_training_loss_when_no_training_accuracy_is_logged() -> None:
    # A Hugging Face run on 60 examples: training loss 0.0001 (at least 99.99% right), eval
    # accuracy 76%. Each error costs at least ln 2, so the loss bounds the training accuracy.
    def log(train_loss: float) -> Records:
        out: Records = [{"type": "step", "step": 0, "loss": 2.3}]
        for e in range(1, 20):
            out.append({"type": "step", "step": 5 * e, "loss": train_loss})
            out.append({"type": "step", "step": 5 * e, "epoch": e, "val_acc": 0.76,
                        "val_loss": 0.75})
        return out

    assert fired("overfitting", log(0.0001)) == ["overfitting"]
    assert fired("overfitting", log(0.2)) == []  # at least 71% right: no gap it can prove
    svm = [header(loss_fn="svm")] + log(0.0001)  # a hinge loss allows no such bound
    assert "overfitting" not in [f.rule for f in Engine(build_rules(only=["overfitting"]))
                                 .push_all(copy.deepcopy(svm)).findings]


def test_run_facts_settle_the_class_count_once_for_every_rule() -> None:
    from babysit.diagnostics.facts import RunFacts
    from babysit.diagnostics.records import Header

    # An evaluation logged before the first training loss (HF: eval at step 38, loss at 50):
    # the first accuracy, 12% at 10 classes, confirms the first loss's C.
    engine = Engine(build_rules(only=["underfitting", "overfitting", "val-plateau"]))
    engine.push_all([{"type": "step", "step": 38, "epoch": 1.0, "val_acc": 0.121, "val_loss": 2.34}]
                    + [{"type": "step", "step": 50 + i, "loss": 2.387} for i in range(12)])
    assert (engine.facts.classes, engine.facts.classes_from) == (11, "first loss")
    assert all(rule.facts is engine.facts for rule in engine.rules)
    # A first accuracy well above that C's chance: the loss came after learning began.
    facts = RunFacts()
    facts.on_first_step({"step": 50, "epoch": 0.5, "loss": 2.3})
    facts.on_epoch({"step": 60, "val_acc": 0.4})
    assert facts.classes is None
    facts = RunFacts()  # the header wins over any loss
    facts.on_header(Header.of({"type": "header", "num_classes": 3}))
    facts.on_first_step({"step": 0, "loss": 2.3})
    assert (facts.classes, facts.classes_from) == (3, "header")


def test_the_task_decides_whether_a_first_loss_is_a_class_count() -> None:
    from babysit.diagnostics.facts import RunFacts
    from babysit.diagnostics.records import Header
    from babysit.diagnostics.task import task_of

    assert task_of(["loss", "eval_wer"]) == ("sequence", "eval_wer")
    assert task_of(["val/RougeL_sum", "eval_accuracy"]) == ("sequence", "val/RougeL_sum")
    assert task_of(["test_MAE", "val_loss"]) == ("regression", "test_MAE")
    assert task_of(["val_mean_absolute_error"]) == ("regression", "val_mean_absolute_error")  # Keras
    assert task_of(["eval_f1", "loss"]) == ("classification", "eval_f1")
    assert task_of(["career_loss", "tower/loss", "eval_runtime"]) is None  # not words of a metric
    assert task_of(["eval_gen_len"]) == ("sequence", "eval_gen_len")
    assert task_of(["gen_loss", "disc_loss"]) is None  # a GAN's generator

    def facts(first: dict, *, metrics: list[str] | None = None, acc: bool = False) -> RunFacts:
        got = RunFacts()
        got.on_header(Header.of({"type": "header", **({"metrics": metrics} if metrics else {})}))
        got.on_first_step({"type": "step", **first})
        if acc:
            got.on_epoch({"type": "step", "step": 500, "val_acc": 0.9})
        return got

    early = {"step": 10, "epoch": 0.02, "loss": 3.26}  # a fine-tuned LM's first log: "26 classes"
    assert facts(early).classes is None  # the log names no metric but its loss
    assert facts(early, acc=True).classes == 26  # a classifier: it logs an accuracy
    assert facts({"step": 0, "loss": 2.3}).classes == 10  # logged at step 0: the loss at init
    whisper = facts({"step": 0, "loss": 0.83}, metrics=["loss", "eval_loss", "eval_wer"])
    assert whisper.classes is None and whisper.task_note == "a sequence model (eval_wer is logged)"
    stated = facts(early, metrics=["eval_wer"])
    stated.on_header(Header.of({"type": "header", "num_classes": 5}))
    assert (stated.classes, stated.task, stated.task_note) == (5, "classification", "")
    # a whole-number epoch 0 (Lightning) covers the first epoch: its loss is no init loss
    assert facts({"step": 49, "epoch": 0, "loss": 0.64}, acc=True).classes is None


def test_a_speech_model_is_not_asked_for_a_class_count() -> None:
    engine = Engine()
    engine.push_all([{"type": "header", "metrics": ["loss", "eval_loss", "eval_wer"]}]
                    + [{"type": "step", "step": 10 * i, "loss": 1.0 / (i + 1)} for i in range(30)]
                    + [{"type": "step", "step": 300, "epoch": 1.0, "val_loss": 0.2}])
    assert not [item for item in engine.not_checked() if item["rule"] in ("loss-at-init", "underfitting")]
    engine = Engine()  # the same log without the word error rate: C would enable them
    engine.push_all([{"type": "header"}]
                    + [{"type": "step", "step": 10 * i + 5, "loss": 1.0 / (i + 1)} for i in range(30)]
                    + [{"type": "step", "step": 300, "epoch": 1.0, "val_loss": 0.2}])
    assert {"rule": "underfitting", "needs": ["classes|train_acc"]} in engine.not_checked()


def test_an_accuracy_thrown_back_to_chance_is_instability() -> None:
    # HF at a far too high rate: eval accuracy 29% after one epoch, then 10% (chance for 10
    # classes) from then on; no training accuracy is logged.
    def log(val: list[float], train: bool = False) -> Records:
        out: Records = [header(num_classes=10)]
        for e, acc in enumerate(val):
            out.append({"type": "step", "step": 10 * e, "loss": 2.3})
            out.append({"type": "step", "step": 10 * e, "epoch": e + 1, "val_acc": acc,
                        **({"train_acc": acc} if train else {})})
        return out

    assert fired("training-unstable", log([0.29, 0.097, 0.102, 0.097, 0.102])) == ["training-unstable"]
    assert fired("training-unstable", log([0.29, 0.25, 0.27, 0.26, 0.28])) == []  # a wobble
    # a majority-class fine-tune at 90% that starts predicting the other classes: no class
    # count, so no chance to fall back to; validation accuracy alone does not double errors
    majority = [{**r, "step": r["step"] + 500, **({"loss": 0.5} if "loss" in r else {})}
                for r in log([0.9, 0.45, 0.49, 0.78, 0.8]) if r["type"] != "header"]
    assert fired("training-unstable", majority) == []


def test_the_epoch_clock_goes_on_when_a_resumed_run_counts_from_zero_again() -> None:
    engine = Engine(build_rules(only=["val-plateau"]))
    epochs = [1, 2, 3, 4, 0.5, 1.5, 2.5]  # resumed after epoch 4, its counter reset
    engine.push_all([{"type": "step", "step": 10 * i, "epoch": e, "val_acc": 0.5}
                     for i, e in enumerate(epochs)])
    assert engine.facts.epoch_at == 6.5  # 4, then 4 + 0.5 ... : on, not back to 2.5
    assert engine.facts.notes() == ["the epoch counter started again at step 40 (epoch 0.5, a "
                                    "resumed run?): counted on as epoch 4.5"]


def test_validation_above_training_is_no_underfitting_and_a_gap_that_reverses_is_withdrawn() -> None:
    # moons with 20% of the training labels flipped: 82% training, 89% validation, stalled.
    noisy_labels = [header(num_classes=2)] + epochs(
        [0.6, 0.75, 0.8, 0.81, 0.815, 0.816, 0.816, 0.817], [0.7, 0.85, 0.88, 0.887, 0.888, 0.888, 0.889, 0.888])
    assert fired("underfitting", noisy_labels) == []
    level = [header(num_classes=2)] + epochs(
        [0.6, 0.75, 0.8, 0.81, 0.815, 0.816, 0.816, 0.817], [0.6, 0.74, 0.79, 0.8, 0.805, 0.81, 0.81, 0.81])
    assert fired("underfitting", level) == ["underfitting"]
    # an early gap (77% vs 64%) that closes: validation reaches training and stays there
    early = [header(num_classes=3)] + epochs(
        [0.6, 0.68, 0.77, 0.84, 0.89, 0.91, 0.94, 0.96, 0.98, 0.99],
        [0.42, 0.53, 0.64, 0.70, 0.76, 0.91, 0.95, 0.97, 1.0, 1.0])
    assert fired("overfitting", early) == []
    kept = [header(num_classes=3)] + epochs(  # memorized: the gap narrows but stays
        [0.6, 0.68, 0.77, 0.84, 0.89, 0.95, 1.0, 1.0, 1.0, 1.0],
        [0.42, 0.53, 0.64, 0.70, 0.76, 0.8, 0.84, 0.86, 0.85, 0.86])
    assert fired("overfitting", kept) == ["overfitting"]


def test_validation_loss_spikes_are_instability_and_a_steady_rise_is_not() -> None:
    def log(val_losses: list[float]) -> Records:
        out: Records = [header(num_classes=10)]
        for e, v in enumerate(val_losses):
            out.append({"type": "step", "step": 10 * e, "loss": 1.0})
            out.append({"type": "step", "step": 10 * e, "epoch": e, "val_loss": v})
        return out

    spikes = [2.0, 1.6, 1.5, 1.4, 9.0, 1.5, 1.4, 1.4, 7.5, 1.3]  # Adam at lr 0.1, twice
    assert fired("training-unstable", log(spikes)) == ["training-unstable"]
    assert fired("training-unstable", log(spikes[:6])) == []  # one jump: one bad evaluation
    rising = [1.0, 0.8, 0.7, 0.75, 0.85, 1.0, 1.2, 1.4, 1.7, 2.0]  # overfitting's slow rise
    assert fired("training-unstable", log(rising)) == []


def test_a_hockey_stick_logged_sparsely_is_timed_on_its_records() -> None:
    # log(20) for 380 steps, then down to 0.55, logged every 25 steps: 250 steps a window.
    steps = np.arange(0, 2000, 25)
    stick = np.where(steps < 380, math.log(20) + 0.02 * np.sin(steps),
                     0.55 + (math.log(20) - 0.55) * np.exp(-(steps - 380) / 40))
    assert fired("plateau-then-drop", [{"type": "step", "step": int(s), "loss": float(v)}
                                       for s, v in zip(steps, stick, strict=True)]) == ["plateau-then-drop"]
    # a healthy run logged as sparsely: it falls from the first record on, no plateau
    healthy = 0.3 + 2.7 * np.exp(-steps / 300)
    assert fired("plateau-then-drop", [{"type": "step", "step": int(s), "loss": float(v)}
                                       for s, v in zip(steps, healthy, strict=True)]) == []


def test_on_imbalanced_data_chance_is_the_majority_rate() -> None:
    # 95/5 classes: 91.5% validation accuracy is below always guessing the commonest class.
    imbalanced = header(num_classes=2, dataset={"val_majority_rate": 0.95})
    stuck = [imbalanced] + epochs([0.93, 0.94, 0.95, 0.95, 0.95], [0.91, 0.915, 0.915, 0.92, 0.915])
    assert fired("not-learning", stuck) == ["not-learning"]
    learned = [imbalanced] + epochs([0.95, 0.97, 0.98, 0.99, 0.99], [0.95, 0.97, 0.98, 0.985, 0.99])
    assert fired("not-learning", learned) == []
    balanced = [header(num_classes=2)] + epochs([0.93, 0.94, 0.95, 0.95, 0.95],
                                                [0.91, 0.915, 0.915, 0.92, 0.915])
    assert fired("not-learning", balanced) == []


def test_not_learning_reads_where_the_net_is_not_its_luckiest_evaluation() -> None:
    # issue 36: an MLP at lr 3 touched 14% once and sat at 8-11% for 19 epochs (never found);
    # at lr 5e-4 one evaluation at 12.1% in epoch 17 withdrew the error shown at epoch 3
    noisy = [0.09, 0.14, 0.1, 0.08, 0.11, 0.09, 0.1, 0.08, 0.1, 0.11]
    assert fired("not-learning", [header(num_classes=10)] + epochs(noisy, noisy)) == ["not-learning"]
    late = [0.1] * 16 + [0.121, 0.11, 0.1]
    assert fired("not-learning", [header(num_classes=10)] + epochs(late, late)) == ["not-learning"]
    # near miss: a slow start that leaves chance for good is withdrawn, however late
    slow = [0.1] * 8 + [0.16, 0.25, 0.4, 0.55]
    assert fired("not-learning", [header(num_classes=10)] + epochs(slow, slow)) == []


def test_babysit_train_records_the_validation_majority_rate(tmp_path: Path) -> None:
    from babysit.api import train
    from babysit.config import Config
    from babysit.training import MemorySink

    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 10))
    y = (rng.random(600) < 0.05).astype(int)  # 95/5 and nothing to learn from x
    np.savez(tmp_path / "skewed.npz", X_train=x, y_train=y)
    sink = MemorySink()
    train(Config(data=str(tmp_path / "skewed.npz"), epochs=8, classes=2), [sink])
    rate = sink.records[0]["dataset"]["val_majority_rate"]
    assert 0.9 < rate < 1.0
    engine = Engine(build_rules(only=["not-learning"]))
    assert [f.rule for f in engine.push_all(sink.records).findings] == ["not-learning"]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_a_rules_advice_names_no_babysit_flag(rule: type) -> None:
    # The advice is read on PyTorch, Keras and HF runs too; the remedies ("try:") say the
    # change in the run's own terms (babysit/diagnostics/vocabulary.py).
    assert not re.search(r"--[a-z]", rule.advice), rule.advice


def test_a_rule_done_with_its_steps_is_no_longer_called_for_each_one() -> None:
    engine = Engine(build_rules(only=["plateau-then-drop", "loss-flat"]))
    assert {rule.id for rule, _ in engine._on_step} == {"plateau-then-drop", "loss-flat"}
    engine.push_all(curve(healthy_loss(300)))  # falls from the start: judged, no plateau
    assert {rule.id for rule, _ in engine._on_step} == {"loss-flat"}


def test_a_jump_a_few_hard_examples_explain_is_not_instability() -> None:
    # Batch 1, the loss logged every 50 steps: a converged fine-tune at 0.0003 whose logged
    # mean jumps to 0.22 and 0.34 for one record each (11 and 17 nats over 50 examples).
    losses = [0.7 * 0.5 ** i for i in range(12)] + [0.0003] * 200
    for at, peak in ((60, 0.224), (120, 0.34), (180, 0.16)):
        losses[at] = peak
    steps = [{"type": "step", "step": 50 * (i + 1), "loss": v} for i, v in enumerate(losses)]
    hf = {"type": "header", "batch_size": 1, "log_every": 50}
    assert fired("training-unstable", [hf] + steps) == []
    assert fired("training-unstable", [{"type": "header"}] + steps) == ["training-unstable"]  # n unknown
    # the same jumps in means of 64 x 50 examples: hundreds of examples' worth, the net forgot
    assert fired("training-unstable", [{**hf, "batch_size": 64}] + steps) == ["training-unstable"]


def test_a_per_epoch_log_stuck_after_a_first_epoch_blow_up_is_flat() -> None:
    # epoch 0 averaged 929 (a blow-up at init, recovered within the epoch), then 59 epochs at
    # ln 3: the mean of the first epochs fell 95%, the net learned nothing after epoch 0
    wobble = [0.0004, -0.0003, 0.0001, -0.0002]
    stuck = [{"type": "step", "step": e, "epoch": e, "val_loss": 1.0987,
              "loss": 929.0 if e == 0 else 1.0986 + wobble[e % 4]} for e in range(60)]
    assert fired("loss-flat", stuck) == ["loss-flat"]
    # one that learned in its first epoch and goes on learning (0.38 -> 0.02) is not flat
    learning = [{**r, "loss": 0.36 * 0.85 ** r["step"] + 0.02} for r in stuck[:40]]
    assert fired("loss-flat", learning) == []


def test_a_loss_that_blew_up_before_it_was_first_logged_is_an_explosion() -> None:
    # HF logs the mean of its first 5 steps: 340 from a language model's 3.3 at init, never below 99
    high = [340.3, 395.3, 222.8, 148.4, 124.6, 163.2, 121.7, 145.2, 195.1, 124.8, 99.0] * 3
    log = [{"type": "header", "metrics": ["loss", "eval_loss", "eval_perplexity"]}] + \
        [{"type": "step", "step": 5 * (i + 1), "loss": v} for i, v in enumerate(high)]
    assert fired("loss-explosion", log) == ["loss-explosion"]
    assert fired("loss-explosion", log[1:]) == []  # losses alone: a regression's could be this large
    hf = [{"type": "header", "source": "trainer_state.json"}] + log[1:]  # the Trainer's cross-entropy
    assert fired("loss-explosion", hf) == ["loss-explosion"]
    # mT5's large first loss that comes down again, and a regression's squared error
    falling = log[:1] + [{**r, "loss": 25.5 * 0.8 ** i + 2} for i, r in enumerate(log[1:])]
    assert fired("loss-explosion", falling) == []
    mse = [{"type": "header", "metrics": ["loss", "val_mae"]}] + log[1:]
    assert fired("loss-explosion", mse) == []


def test_loss_jumps_the_training_accuracy_never_feels_are_hard_examples() -> None:
    # batch 4, every step: converged at ~0.02 with single batches lifted to 0.8-1.3, and the
    # epoch-end training accuracy climbing to 100% (its worst fall 1 point)
    def log(accs: list[float]) -> Records:
        out: Records = []
        for e, acc in enumerate(accs):
            for i in range(100):
                step = 100 * e + i
                loss = 0.7 * 0.9 ** step + 0.02 if step < 60 or i not in (37, 71) else 1.1
                out.append({"type": "step", "step": step, "loss": loss})
            out.append({"type": "step", "step": 100 * e + 99, "epoch": e, "train_acc": acc})
        return out

    felt_nothing = [0.97, 0.98, 0.99, 0.98, 1.0, 1.0, 1.0, 1.0]
    assert fired("training-unstable", log(felt_nothing)) == []
    forgot = [0.97, 0.98, 0.99, 0.92, 0.99, 1.0, 0.93, 1.0]  # 7 points below its best, twice
    assert fired("training-unstable", log(forgot)) == ["training-unstable"]
    steps_only = [r for r in log(felt_nothing) if "train_acc" not in r]  # nothing to check it by
    assert fired("training-unstable", steps_only) == ["training-unstable"]


def test_a_swing_the_windows_own_noise_explains_is_not_oscillation() -> None:
    rng = np.random.default_rng(0)
    # batch 4 on noisy data: each record a mean of 4 examples, window means scatter by ~half
    noisy = 0.35 + rng.uniform(-0.3, 0.3, 400)
    assert fired("loss-oscillation", curve(noisy)) == []
    # the same level bouncing between windows, each window quiet: the rate overshoots
    bouncing = np.repeat([0.25, 0.45] * 20, 10) + rng.uniform(-0.01, 0.01, 400)
    assert fired("loss-oscillation", curve(bouncing)) == ["loss-oscillation"]


def test_docs_findings_md_lists_exactly_the_provisional_rules() -> None:
    # docs/findings.md states the policy once; its list is the code's, not a copy that drifts
    text = (Path(__file__).parents[1] / "docs" / "findings.md").read_text()
    listed = text.split("are shown marked", 1)[1].split("**What stops a run.**", 1)[0]
    named = set(re.findall(r"`([a-z]+(?:-[a-z]+)*)`", listed))
    assert named == {r.id for r in ALL_RULES if r.provisional}


def test_a_provisional_finding_is_marked_when_shown_live() -> None:
    from babysit.dashboard.plain import live_line

    shaky = Finding("not-learning", "error", 65, "at chance", "check the rate")
    assert live_line(shaky) == ("ERROR not-learning at step 65: (provisional: later records may "
                                "withdraw it) at chance -> check the rate")
    final = Finding("loss-nan", "error", 3, "loss is NaN", "lower the rate")
    assert live_line(final) == str(final)  # a fact later records cannot undo: unmarked
