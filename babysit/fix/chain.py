"""The fix chain: train, find the root cause, apply its next remedy, train again from scratch.

`run_chain` knows nothing of training: it calls `run(config, attempt, plan)` and judges the
Outcome it gets back (the CLI trains, the tests pass a fake). A remedy that does not help (its
finding returns, or validation accuracy falls by more than its noise) is undone and the next
one tried; a remedy that helps is kept, and the next attempt fixes whatever is now the root
cause. No configuration is trained twice, so the chain ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from babysit.config import Config
from babysit.diagnostics.engine import Report
from babysit.diagnostics.rule import SEVERITY_RANK, Finding
from babysit.diagnostics.rules import RULES_BY_ID
from babysit.errors import BabysitError

NOISE_Z = 2.0  # validation accuracy "falls" when it drops by more than 2 standard errors


@dataclass
class Outcome:
    """What one training attempt gave: how it ended, its diagnosis, its validation accuracy."""

    log: str
    status: str
    report: Report
    val_acc: float | None
    n_val: int | None = None  # validation examples, for the accuracy's noise


@dataclass
class Plan:
    """The change an attempt tries: which finding it answers and how."""

    rule: str
    remedy: str
    changes: dict[str, Any]  # this attempt's change, on top of the kept ones


@dataclass
class Attempt:
    """One attempt of the chain and what came of it."""

    config: Config
    outcome: Outcome
    plan: Plan | None  # None for the first attempt
    verdict: str  # "healthy", "fixed", "kept", "undone", "interrupted", "failed"
    changes: dict[str, Any] = field(default_factory=dict)  # relative to the first attempt


Runner = Callable[[Config, int, "Plan | None"], Outcome]


def serious(report: Report, level: str) -> list[Finding]:
    """Findings of severity `level` or worse."""
    return [f for f in report.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[level]]


def is_healthy(outcome: Outcome, level: str) -> bool:
    """Completed with no finding at `level` or worse."""
    return outcome.status == "completed" and not serious(outcome.report, level)


def fell(outcome: Outcome, before: Outcome) -> bool:
    """Validation accuracy dropped by more than NOISE_Z standard errors."""
    new, old = outcome.val_acc, before.val_acc
    if new is None or old is None:
        return False
    n = outcome.n_val or before.n_val
    noise = NOISE_Z * math.sqrt(max(old * (1 - old), 1e-12) / n) if n else 0.0
    return new < old - noise


def apply(config: Config, changes: dict[str, Any]) -> Config:
    """config with `changes` (option names as Config's fields), validated."""
    values = {k: (tuple(v) if k == "hidden" else v) for k, v in changes.items()}
    return replace(config, **values).validated()


def relative(config: Config, base: Config) -> dict[str, Any]:
    """The options of `config` that differ from `base`, JSON-ready."""
    now, then = config.to_dict(), base.to_dict()
    return {k: v for k, v in now.items() if then.get(k) != v}


def root_causes(outcome: Outcome, level: str) -> list[Finding]:
    """Serious findings no other explains, in the engine's order. In a run stopped early the
    finding that stopped it comes before provisional ones, which had no time to be withdrawn."""
    roots = [f for f in serious(outcome.report, level) if f.caused_by is None]
    if outcome.status == "completed":
        return roots
    return sorted(roots, key=lambda f: RULES_BY_ID[f.rule].provisional if f.rule in RULES_BY_ID else False)


def bisected(changes: dict[str, Any], kept_lr: float, overshot: float | None) -> dict[str, Any]:
    """An lr change that would go as far as, or past, a rate already found to overshoot (in the
    same direction from the kept rate) becomes the geometric mean of the kept rate and that one:
    the working band lies between them, and on a log scale its middle is the best next guess."""
    lr = changes.get("lr")
    if overshot is None or set(changes) != {"lr"} or not isinstance(lr, float) or lr <= 0:
        return changes
    step, limit = math.log(lr / kept_lr), math.log(overshot / kept_lr)
    if step * limit > 0 and abs(step) >= abs(limit):
        return {"lr": middle(kept_lr, overshot)}
    return changes


def middle(a: float, b: float) -> float:
    """The geometric mean of two rates, to 3 significant digits (a rate a person would type)."""
    return float(f"{math.sqrt(a * b):.3g}")


def overshoots(plan: Plan, kept_lr: float, outcome: Outcome, level: str) -> bool:
    """An lr-only change whose run now shows only the other side's trouble (a cut that now
    learns too little, a raise that now diverges): the rate went past the working band, not
    short of it, whether the change was kept or undone. Judged by the root causes' `lr_symptom`."""
    lr = plan.changes.get("lr")
    if set(plan.changes) != {"lr"} or not isinstance(lr, float) or lr <= 0 or lr == kept_lr:
        return False
    other_side = "low" if lr < kept_lr else "high"
    roots = root_causes(outcome, level)
    return bool(roots) and all(symptom(f) == other_side for f in roots)


def symptom(finding: Finding) -> str | None:
    """What `finding` says of the learning rate: "high", "low" or None (see Rule.lr_symptom)."""
    rule = RULES_BY_ID.get(finding.rule)
    return rule.lr_symptom if rule is not None else None


def bracket_plan(outcome: Outcome, config: Config, tried: set[Config], level: str,
                 overshot: float | None) -> tuple[Plan, Config] | None:
    """Once the rate is bracketed (the kept run shows one side's trouble, `overshot` the other
    side's), the geometric mean of the two: the working band lies between them."""
    roots = root_causes(outcome, level)
    if overshot is None or not roots or overshot == config.lr:
        return None
    side = "high" if overshot < config.lr else "low"  # the kept rate's trouble, if bracketed
    if not all(symptom(f) == side for f in roots):
        return None
    changes = {"lr": middle(config.lr, overshot)}
    candidate = apply(config, changes)
    if candidate in tried:
        return None
    return Plan(roots[0].rule, f"lr between {config.lr:g} and {overshot:g} (bisect)", changes), candidate


def next_plan(outcome: Outcome, config: Config, tried: set[Config],
              level: str, overshot: float | None = None) -> tuple[Plan, Config] | None:
    """The first untried remedy of the first root cause that has one, an lr that would pass
    `overshot` bisected instead. A root cause whose remedies never touch the rate (underfitting:
    capacity) comes after the bisected rate when the rate is bracketed: its trouble is then the
    rate's side it shows, not a lack of capacity."""
    report = outcome.report
    roots = root_causes(outcome, level)
    if roots and not any("lr" in r["set"] for r in report.remedies(roots[0])):
        bracketed = bracket_plan(outcome, config, tried, level, overshot)
        if bracketed is not None:
            return bracketed
    for finding in roots:
        for remedy in report.remedies(finding):
            changes = bisected(remedy["set"], config.lr, overshot)
            label = remedy["change"] if changes is remedy["set"] else \
                f"lr between {config.lr:g} and {overshot:g} (bisect)"
            try:
                candidate = apply(config, changes)
            except (TypeError, BabysitError):  # an option babysit lacks, or a value it refuses
                continue
            if candidate not in tried:
                return Plan(finding.rule, label, changes), candidate
    return None


def run_chain(config: Config, run: Runner, max_attempts: int = 5, level: str = "warning",
              on_attempt: Callable[[Attempt], None] | None = None) -> list[Attempt]:
    """Attempts until one ends healthy, remedies run out or `max_attempts` have run."""
    def record(attempt: Attempt) -> Attempt:
        attempts.append(attempt)
        if on_attempt is not None:
            on_attempt(attempt)
        return attempt

    attempts: list[Attempt] = []
    first = run(config, 0, None)
    verdict = "healthy" if is_healthy(first, level) else (
        "interrupted" if first.status == "interrupted" else "failed")
    record(Attempt(config, first, None, verdict))
    kept_config, kept = config, first
    tried = {config}
    overshot: float | None = None  # the last rate that went past the working band
    while verdict in ("failed", "kept", "undone") and len(attempts) < max_attempts:
        chosen = next_plan(kept, kept_config, tried, level, overshot)
        if chosen is None:
            break
        plan, candidate = chosen
        tried.add(candidate)
        outcome = run(candidate, len(attempts), plan)
        if outcome.status == "interrupted":
            verdict = "interrupted"
        elif is_healthy(outcome, level) and not fell(outcome, kept):
            verdict = "fixed"
        elif fell(outcome, kept) or plan.rule in {f.rule for f in serious(outcome.report, level)}:
            verdict = "undone"
        else:
            verdict = "kept"
        record(Attempt(candidate, outcome, plan, verdict, relative(candidate, config)))
        went_past = verdict in ("kept", "undone") and overshoots(plan, kept_config.lr, outcome, level)
        if verdict == "kept":
            if went_past:  # kept (it helped) but now on the other side: the old rate bounds it
                overshot = kept_config.lr
            kept_config, kept = candidate, outcome
        elif went_past:
            overshot = candidate.lr
    return attempts


def attempt_log(first: Path, attempt: int) -> Path:
    """run.jsonl -> run.fix1.jsonl for attempt 1 (attempt 0 is the first log itself)."""
    return first.with_suffix(f".fix{attempt}{first.suffix}") if attempt else first


def fixed(attempts: list[Attempt]) -> bool:
    """Whether the chain ended on a healthy run."""
    return bool(attempts) and attempts[-1].verdict in ("healthy", "fixed")
