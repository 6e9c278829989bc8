"""One remedy chain per quantity across a verdict's findings.

Each rule plans its own remedies from the run's configuration, so two root causes can each say
what to do with the learning rate: a diverging dead-ReLU run got `try: lr=0.3` under one
finding and `try: lr=0.9; then 0.3; then 0.09` under the next, and a flat loss beside high
update ratios got "raise" and "lower" at once. Here the findings, taken in the engine's order
(root causes first), each claim the options their remedies change; the first finding to change
an option owns it. A later finding's step that changes only owned options moves into the
owner's chain when it goes the same way with a value not tried there yet (a further cut, say),
and is dropped otherwise; the later finding says which finding now carries that option.

"The same way": for a number (lr, reg, dropout) the sign of the change, measured against the
run's value or read from a relative change ("x0.1"); for a choice (init, activation) the same
value. A step that changes an owned option together with a free one stays where it is: it is
a different change ("relu with He init" beside an "init=he" elsewhere).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babysit.diagnostics.remedy import Remedy, plan
from babysit.diagnostics.rule import Finding

Step = dict[str, Any]  # {"change": text, "set": {option: value}}, as remedy.plan gives them


@dataclass
class Chain:
    """One finding's remedies after merging, and the options it leaves to other findings."""

    steps: list[Step] = field(default_factory=list)
    deferred: dict[str, str] = field(default_factory=dict)  # option -> the rule that carries it
    overruled: dict[str, str] = field(default_factory=dict)  # ... where it went the other way


def direction(value: Any, current: Any) -> float | str | None:
    """How a step moves an option: +1.0 / -1.0 for a number (against `current`, or a relative
    'x10'), the value itself for a choice, None when it cannot be told."""
    if isinstance(value, str) and value.startswith("x"):
        try:
            factor = float(value[1:])
        except ValueError:
            return value
        return math.copysign(1.0, factor - 1) if factor > 0 and factor != 1 else None
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric and isinstance(current, (int, float)) and not isinstance(current, bool):
        return None if value == current else math.copysign(1.0, value - current)
    return repr(value)


def merge(chains: list[tuple[str, list[Step]]], config: Mapping[str, Any]) -> dict[str, Chain]:
    """Each rule's chain, in the verdict's order, merged so that each option has one owner."""
    owner: dict[str, tuple[str, set[Any]]] = {}  # option -> (rule, the ways its steps move it)
    out: dict[str, Chain] = {rule: Chain() for rule, _ in chains}
    for rule, steps in chains:
        mine = out[rule]
        claims: dict[str, set[Any]] = {}
        for step in steps:
            changes = step["set"]
            taken = [o for o in changes if o in owner and owner[o][0] != rule]
            if not taken or len(taken) < len(changes):
                mine.steps.append(step)
                for option, value in changes.items():
                    claims.setdefault(option, set()).add(direction(value, config.get(option)))
                continue
            for option in taken:
                holder, ways = owner[option]
                if direction(changes[option], config.get(option)) in ways:
                    mine.deferred.setdefault(option, holder)
                else:
                    mine.overruled.setdefault(option, holder)
            if not any(o in mine.overruled for o in taken):
                target = out[owner[taken[0]][0]]
                if all(s["set"] != changes for s in target.steps):
                    target.steps.append(step)
        for option, ways in claims.items():
            owner.setdefault(option, (rule, ways))
    return out


def verdict_chains(findings: list[Finding], remedies: Mapping[str, tuple[Remedy, ...]],
                   config: Mapping[str, Any]) -> dict[str, Chain]:
    """The merged chains of a verdict's root causes (a consequence has none: its cause's come
    first), from each rule's `remedies` planned for `config` and the finding's evidence."""
    roots = [(f.rule, plan(remedies.get(f.rule, ()), config, f.evidence))
             for f in findings if f.caused_by is None]
    return merge(roots, config)


def overruled_advice(chain: Chain) -> str | None:
    """What a finding advises instead when all its remedies change what a finding ahead of it
    needs changed the other way (one direction for the learning rate, never two); else None.
    A finding with remedies of its own left keeps its advice: its try line says the rest."""
    if not chain.overruled or chain.steps:
        return None
    option, holder = next(iter(chain.overruled.items()))
    name = "the learning rate" if option == "lr" else option
    return (f"{holder}, ahead of this, needs {name} changed the other way: follow its advice "
            "first, then see whether this remains.")
