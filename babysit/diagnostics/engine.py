"""The diagnostics engine: records in, findings out; the same code live and offline.

Records are pushed one at a time (by the trainer's sink while a run trains, or by the reader
over a file). The engine smooths the loss into windows of `window` step records, dispatches
each record to the rules that want it, and keeps only bounded state: memory does not grow
with the length of the log.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from babysit.diagnostics.chains import Chain, overruled_advice, verdict_chains
from babysit.diagnostics.facts import RunFacts
from babysit.diagnostics.records import Evaluation, Header
from babysit.diagnostics.rule import SEVERITY_RANK, Finding, LayerSample, Record, Rule, Window
from babysit.diagnostics.rules import ALL_RULES, RULES_BY_ID
from babysit.diagnostics.vocabulary import babysit_command, say_chain
from babysit.errors import BabysitError
from babysit.readers.common import number

# Fields only some setups have (several ranks, an AMP scaler, gradient clipping, a model
# trained in eval mode or evaluated in train mode): a run without them has nothing those rules
# could check, so they are not "not checked".
SITUATIONAL = frozenset({"ranks", "amp_scale", "clipped_steps", "eval_mode", "eval_train_mode"})
WINDOW = 10  # step records per loss window: averages out minibatch noise, ~3x less spread
# Layer rules see at most one layer sample per LAYER_STRIDE steps (babysit's default sampling),
# so "samples" means the same thing whether a tool logs layer statistics every step or every 10.
# Past LAYER_DENSE_STEPS the spacing grows with the step (step / 1000, like cockpit's sparser
# schedules): about 1000 samples per decade of steps, so a million-step log costs ~5600 layer
# samples instead of 100,000, while a sustained problem late in a run still shows.
LAYER_STRIDE = 10
LAYER_DENSE_STEPS = 10_000
REMEDIES = {rid: rule.remedies for rid, rule in RULES_BY_ID.items()}
_EPOCH_FIELDS = ("train_acc", "val_acc", "val_loss")
_HOOKS = ("on_header", "on_first_step", "on_step", "on_nonfinite", "on_window", "on_layers",
          "on_epoch", "finish")
_LAYER_FIELD_SAMPLES = 50  # layer records whose field names are collected (they rarely change)
_FIELD_SAMPLES = 1000  # step records whose top-level field names are all collected


@dataclass
class Report:
    """The outcome of a diagnosis: findings (most severe first) and rules not checked."""

    findings: list[Finding]
    not_checked: list[dict[str, Any]]
    records: int
    steps: int
    measured: int = 0  # records with a loss, an epoch metric or layer statistics
    context: dict[str, Any] = field(default_factory=dict)  # the run's config, as far as known
    # Findings announced while the run went on (a listener printed them) that are not among the
    # findings at its end, each with why: a later finding superseded it, or the rule withdrew it.
    withdrawn: list[tuple[Finding, str]] = field(default_factory=list)

    def chains(self) -> dict[str, Chain]:
        """The root causes' remedy chains, merged so that each option has one (chains.py)."""
        return verdict_chains(self.findings, REMEDIES, self.context)

    def remedies(self, finding: Finding, chains: dict[str, Chain] | None = None) -> list[dict[str, Any]]:
        """The finding's remedies that apply to this run, in order (none for a consequence:
        its cause's remedies come first; none for an option a finding ahead of it changes)."""
        chain = (chains if chains is not None else self.chains()).get(finding.rule)
        if finding.caused_by is not None or chain is None:
            return []
        steps = chain.steps
        own = "data" in self.context and not self.context.get("framework")  # a babysit run
        said = say_chain([r["set"] for r in steps], self.context,
                         "babysit" if own else self.context.get("framework"))
        out = [{**r, "say": text} for r, text in zip(steps, said, strict=True)]
        if own:  # its first change as the whole command; the rest as flags to change in it
            for r in out:
                command = babysit_command(self.context, r["set"])
                if command is not None:
                    r["command"] = command
        return out

    def tries(self, finding: Finding) -> str | None:
        """The remedies as one line, 'lr=0.001; then ...' (the first as the `babysit train`
        command to paste, for a babysit run), saying which finding carries an option this one
        leaves to it; None when there is nothing to try."""
        chains = self.chains()
        remedies = self.remedies(finding, chains)
        said = [r["say"] for r in remedies]
        if remedies and "command" in remedies[0]:
            said[0] = remedies[0]["command"]
        chain = chains.get(finding.rule)
        elsewhere = _elsewhere({**chain.deferred, **chain.overruled} if chain is not None else {})
        if not said:
            return f"try: {elsewhere}" if elsewhere else None
        return "try: " + "; then ".join(said) + (f" ({elsewhere})" if elsewhere else "")

    def withdrawn_lines(self) -> list[str]:
        """One line per finding shown during the run and withdrawn since, saying why."""
        return [f"{f.severity.upper()} {f.rule} at step {f.step}, shown during the run: {why}"
                for f, why in self.withdrawn]

    @property
    def worst(self) -> str | None:
        """The highest severity among the findings, or None."""
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__, default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as `babysit diagnose --json` prints it."""
        findings, chains = [], self.chains()  # merged once for the whole verdict
        for f in self.findings:
            remedies = self.remedies(f, chains)
            findings.append({**f.to_dict(), "fix": remedies[0]["set"] if remedies else None,
                             "remedies": remedies})
        withdrawn = [{**f.to_dict(), "why": why} for f, why in self.withdrawn]
        return {"findings": findings, "withdrawn": withdrawn, "not_checked": self.not_checked,
                "records": self.records, "steps": self.steps}


def _elsewhere(left: dict[str, str]) -> str:
    """{'lr': 'loss-explosion', 'init': 'x'} -> 'the learning rate: see loss-explosion; init: see x'."""
    by_rule: dict[str, list[str]] = {}
    for option, rule in left.items():
        by_rule.setdefault(rule, []).append("the learning rate" if option == "lr" else option)
    return "; ".join(f"{', '.join(names)}: see {rule}" for rule, names in by_rule.items())


def did_you_mean(rule_id: str) -> str:
    """'; did you mean dead-relu?' for a near miss of a rule id, else ''."""
    close = difflib.get_close_matches(rule_id, list(RULES_BY_ID), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def build_rules(overrides: Mapping[str, Mapping[str, float]] | None = None,
                only: Iterable[str] | None = None) -> list[Rule]:
    """Instantiate every rule (or those in `only`) with threshold overrides per rule id."""
    overrides = overrides or {}
    unknown = set(overrides) - set(RULES_BY_ID)
    if unknown:
        raise BabysitError(f"unknown rule id(s): {', '.join(sorted(unknown))}"
                           f"{did_you_mean(sorted(unknown)[0])} (babysit rules lists them)")
    chosen = [RULES_BY_ID[r] for r in only] if only is not None else list(ALL_RULES)
    try:
        return [cls(**dict(overrides.get(cls.id, {}))) for cls in chosen]
    except KeyError as exc:
        raise BabysitError(str(exc.args[0])) from None


def layer_sample(step: int, loss: float | None, layers: dict[str, Any],
                 lr: Any = None) -> LayerSample:
    """Clean a record's `layers` object once: finite floats kept, non-finite ones listed."""
    clean: list[tuple[str, dict[str, float]]] = []
    nonfinite: list[str] = []
    for name, entry in layers.items():
        if not isinstance(entry, dict):
            continue
        stats: dict[str, float] = {}
        for key, value in entry.items():
            if value.__class__ is not float:
                if key == "hist" or value is None:
                    continue
                value = number(value)
                if value is None:
                    continue
            if value - value == 0.0:
                stats[key] = value
            else:
                nonfinite.append(f"{name}.{key}")
        clean.append((str(name), stats))
    rate = number(lr)
    return LayerSample(step, loss if loss is not None and loss - loss == 0.0 else None, clean,
                       nonfinite, rate if rate is not None and math.isfinite(rate) else None)


def run_context(header: Record) -> dict[str, Any]:
    """The run's configuration as far as a header tells it: babysit's `config`, else the
    fields other producers write (activation, lr), plus whether the inputs are images."""
    config = header.get("config")
    context = dict(config) if isinstance(config, dict) else {}
    for key in ("activation", "lr", "optimizer"):
        if key not in context and header.get(key) is not None:
            context[key] = header[key]
    # A PyTorch optimizer's weight_decay is the L2 strength (SGD adds wd * w to the gradient)
    if "reg" not in context and isinstance(header.get("weight_decay"), (int, float)):
        context["reg"] = header["weight_decay"]
    if header.get("framework"):
        context["framework"] = header["framework"]
    dataset = header.get("dataset")
    if isinstance(dataset, dict) and dataset.get("image_shape"):
        context["image_shape"] = dataset["image_shape"]
    return context


def _overrides(rule: Rule, hook: str) -> bool:
    return getattr(type(rule), hook) is not getattr(Rule, hook)


class Engine:
    """Feeds records to rules; collects findings, retractions and what could not be checked."""

    def __init__(self, rules: list[Rule] | None = None, classes: int | None = None,
                 window: int = WINDOW, layer_stride: int = LAYER_STRIDE,
                 task: str | None = None) -> None:
        """`classes` stands in for (or overrides) the header's num_classes, `task` for its task
        (classification, sequence, regression: diagnostics/task.py)."""
        self.rules = rules if rules is not None else build_rules()
        self.classes, self.task = classes, task
        self.window_size = max(1, window)
        self.layer_stride = max(1, layer_stride)
        self._last_layer_step: int | None = None
        self._hooks = {h: [(r, getattr(r, h)) for r in self.rules if _overrides(r, h)]
                       for h in _HOOKS}
        self._on_step = self._hooks["on_step"]
        self.seen: set[str] = set()
        self.header_seen = False
        self.records = 0
        self.steps = 0
        self.measured = 0
        self.losses = 0  # records with a training loss
        self._layer_records = 0
        self._window_index = 0
        self._win: list[float] = []  # count, sum, min, max, first: a list for speed
        self._win_first = self._win_last = 0
        self._last_mean: float | None = None  # the last closed window's mean loss
        self._reported: set[str] = set()
        self._announced: dict[str, Finding] = {}  # what push() returned, by rule id
        self.context: dict[str, Any] = {}  # what is known of the run's config, for remedies
        self.facts = RunFacts()  # what every rule reads of the run (its class count)
        for rule in self.rules:
            rule.facts = self.facts

    # --- input ---------------------------------------------------------------------------
    def push(self, record: Record) -> list[Finding]:
        """Feed one record; return findings that appeared for the first time because of it.

        This runs once per logged iteration, so it avoids per-call overhead where it can:
        hooks are pre-bound, and common cases (a float loss, no epoch fields) take fast paths.
        """
        self.records += 1
        kind = record.get("type", "step")
        if kind != "step" and kind != "epoch":
            if kind == "header":
                return self._header(record)
            return []
        new: list[Finding] = []
        if not self.header_seen:
            new += self._header({"type": "header"})
        if self.steps < _FIELD_SAMPLES:
            self.seen.update(record)  # later records rarely bring new fields (epoch ones do: below)
        step = record.get("step")
        if step.__class__ is not int:  # absent, or a float / string from some other tool
            value = number(step)
            step = record["step"] = int(value) if value is not None and math.isfinite(value) \
                else self.steps
        loss = record.get("loss")
        if loss.__class__ is not float:
            loss = record["loss"] = number(loss)
        if loss is not None:
            self.measured += 1
            self.losses += 1
        if kind == "step":
            if self.steps == 0:
                self.facts.on_first_step(record)
                self._call(self._hooks["on_first_step"], record, new)
                lr = number(record.get("lr"))
                if lr is not None and "lr" not in self.context:  # a log without a header's lr
                    self.context["lr"] = lr
            self.steps += 1
            if self._on_step:
                self._call(self._on_step, record, new)
            if loss is not None and loss - loss == 0.0:  # finite: into the current window
                w = self._win
                if w:
                    w[0] += 1
                    w[1] += loss
                    if loss < w[2]:
                        w[2] = loss
                    elif loss > w[3]:
                        w[3] = loss
                else:
                    self._win = w = [1, loss, loss, loss, loss]
                    self._win_first = step
                self._win_last = step
                if w[0] >= self.window_size:
                    self._close_window(new)
        # NaN/Infinity, however written: checked here once rather than by a rule on every step.
        # The common case (finite float loss and data_loss, no val_loss) costs three tests.
        dl = record.get("data_loss")
        if (loss is None or loss - loss != 0.0 or "val_loss" in record
                or (dl is not None and (dl.__class__ is not float or dl - dl != 0.0))):
            self._check_nonfinite(record, new)
        layers = record.get("layers")
        if layers is not None and layers.__class__ is dict and loss is None:
            self.measured += 1
        if layers is not None and layers.__class__ is dict and self._take_layer_sample(step):
            if self._layer_records < _LAYER_FIELD_SAMPLES:
                self._layer_records += 1
                for entry in layers.values():
                    if isinstance(entry, dict):
                        self.seen.update("layers." + k for k in entry)
            self._call(self._hooks["on_layers"], layer_sample(step, loss, layers, record.get("lr")), new)
        if "train_acc" in record or "val_acc" in record or "val_loss" in record:
            self.measured += loss is None
            self.seen.update(record)
            # The training loss now, for rules that compare it with validation: the mean of the
            # current window so far (the last 1-10 logged losses), else of the last window.
            w = self._win
            evaluation = Evaluation.of(record, self.facts.tick(record),
                                       w[1] / w[0] if w else self._last_mean)
            self.facts.on_epoch(record)
            self._call(self._hooks["on_epoch"], evaluation, new)
        return new

    def _check_nonfinite(self, record: Record, new: list[Finding]) -> None:
        for key in ("loss", "data_loss", "val_loss"):
            v = number(record.get(key))
            if v is not None and not math.isfinite(v):
                self._call(self._hooks["on_nonfinite"], (record, key, v), new)
                return

    def push_all(self, records: Iterable[Record]) -> Report:
        """Feed a whole stream and finish."""
        push = self.push
        for record in records:
            push(record)
        return self.finish()

    def wants_layers(self, step: int) -> bool:
        """Whether a record at `step` would be a layer sample (readers may skip the others)."""
        last = self._last_layer_step
        stride = self.layer_stride
        if step > LAYER_DENSE_STEPS:
            stride = max(stride, step * stride // LAYER_DENSE_STEPS)
        return last is None or not last < step < last + stride

    def _take_layer_sample(self, step: int) -> bool:
        """True (and remembered) unless the last sample was taken less than a stride before."""
        if not self.wants_layers(step):
            return False
        self._last_layer_step = step
        return True

    def _header(self, header: Record) -> list[Finding]:
        self.header_seen = True
        header = dict(header)
        if self.classes is not None:
            header["num_classes"] = self.classes
        if self.task is not None:
            header["task"] = self.task
        self.seen.update("header." + k for k in header if header[k] is not None)
        self.context = run_context(header)
        new: list[Finding] = []
        typed = Header.of(header)
        self.facts.on_header(typed)
        self._call(self._hooks["on_header"], typed, new)
        return new

    def _close_window(self, new: list[Finding]) -> None:
        count, total, lo, hi, first = self._win
        window = Window(self._window_index, self._win_first, self._win_last, int(count), first,
                        total / count, lo, hi)
        if self._window_index == 0:
            self.facts.on_first_window(first)
        self.facts.progress.on_window(window)
        if self._on_step and not all(rule.wants_steps for rule, _ in self._on_step):
            self._on_step = [(rule, hook) for rule, hook in self._on_step if rule.wants_steps]
        self._window_index += 1
        self._win = []
        self._last_mean = total / count
        self._call(self._hooks["on_window"], window, new)

    def _call(self, calls: list[tuple[Rule, Any]], arg: Any, new: list[Finding]) -> None:
        for rule, hook in calls:
            if hook(arg) is not None and rule.id not in self._reported:
                self._reported.add(rule.id)
                if rule.id not in self._superseded():
                    new.append(rule.finding)  # type: ignore[arg-type]
                    self._announced[rule.id] = rule.finding  # type: ignore[assignment]

    # --- output --------------------------------------------------------------------------
    def _superseded(self) -> set[str]:
        return {other for r in self.rules if r.finding is not None for other in r.supersedes}

    @property
    def findings(self) -> list[Finding]:
        """Current findings (less those superseded by another), root causes first.

        Each root cause (a finding no other finding explains) comes in order of severity, then
        step, followed by the findings it explains (those that started no earlier than it, and
        symptoms whenever they started),
        marked `caused_by` and advised to follow the cause's advice.
        """
        hidden = self._superseded()
        found = {r.id: r.finding for r in self.rules if r.finding is not None and r.id not in hidden}
        cause: dict[str, str] = {}
        symptoms = {r.id for r in self.rules if r.symptom}
        for rule in self.rules:  # the first listed rule that explains a finding is its cause
            if rule.id in found:
                for other in rule.explains:  # a consequence cannot start before its cause
                    if other in found and other != rule.id and (
                            other in symptoms or found[other].step >= found[rule.id].step):
                        cause.setdefault(other, rule.id)
        for rid in list(cause):  # a cycle (a explains b explains a) makes neither a consequence
            seen, at = {rid}, cause[rid]
            while at in cause:
                if at in seen:
                    del cause[rid]
                    break
                seen.add(at)
                at = cause[at]

        def order(f: Finding) -> tuple[int, int]:
            return -SEVERITY_RANK[f.severity], f.step

        out: list[Finding] = []

        def add(rid: str) -> None:
            f = found[rid]
            if rid in cause:
                f = replace(f, caused_by=cause[rid],
                            advice=f"A consequence of {cause[rid]}: follow its advice first.")
            out.append(f)
            for child in sorted((found[c] for c, p in cause.items() if p == rid), key=order):
                add(child.rule)

        for root in sorted((f for rid, f in found.items() if rid not in cause), key=order):
            add(root.rule)
        return self._one_direction(out)

    def _one_direction(self, findings: list[Finding]) -> list[Finding]:
        """A root cause whose every remedy changes what one ahead of it needs changed the other
        way advises to follow that one first (docs/findings.md: one verdict, never "raise the
        rate" beside "lower the rate")."""
        remedies = {r.id: r.remedies for r in self.rules}
        chains = verdict_chains(findings, remedies, self.context)
        out = []
        for f in findings:
            chain = chains.get(f.rule)
            advice = overruled_advice(chain) if chain is not None else None
            out.append(f if advice is None else replace(f, advice=advice))
        return out

    def not_checked(self) -> list[dict[str, Any]]:
        """Rules without a finding whose required fields never appeared, with what they need."""
        out = []
        activation = self.context.get("activation")
        for rule in self.rules:
            if rule.activations and activation is not None and activation not in rule.activations:
                continue  # dead ReLUs in a tanh net: not applicable, nothing was left unchecked
            if set(rule.needs) <= SITUATIONAL:
                continue  # a single-process run without AMP has no ranks to compare
            seen = self.seen | ({"classes"} if self.facts.classes else set())
            missing = [f for f in rule.needs if not any(alt in seen for alt in f.split("|"))]
            if self.facts.task_note and all({"classes", "header.num_classes"} & set(f.split("|"))
                                            for f in missing):
                continue  # a speech or regression model has no class count to give
            if rule.finding is None and missing:
                out.append({"rule": rule.id, "needs": missing})
        return out

    def finish(self) -> Report:
        """Close the last partial window (if at least half full) and let rules conclude."""
        new: list[Finding] = []
        if self._win and self._win[0] >= self.window_size / 2:
            self._close_window(new)
        for rule, hook in self._hooks["finish"]:
            if hook() is not None:
                self._reported.add(rule.id)
        findings = self.findings
        return Report(findings, self.not_checked(), self.records, self.steps, self.measured,
                      dict(self.context), self._withdrawn({f.rule for f in findings}))

    def _withdrawn(self, kept: set[str]) -> list[tuple[Finding, str]]:
        """Announced findings missing from the end, with why (see Report.withdrawn)."""
        out = []
        for rid, finding in self._announced.items():
            if rid in kept:
                continue
            by = [r.id for r in self.rules if r.finding is not None and rid in r.supersedes]
            out.append((finding, f"superseded by {by[0]}" if by else
                        "withdrawn: later records contradicted it"))
        return out
