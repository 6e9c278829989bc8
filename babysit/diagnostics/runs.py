"""Diagnose the runs an input holds: read each one, push its records through a fresh engine.

Shared by `babysit diagnose`, `babysit fix` and `babysit report`; `observe` lets a caller see
every record the engine sees (the report draws its curves from them) without reading twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from babysit.config import MAX_CLASSES, short_int
from babysit.diagnostics.engine import Engine, Report, build_rules, did_you_mean
from babysit.diagnostics.rules import ALL_RULES, RULES_BY_ID
from babysit.diagnostics.thresholds import Overrides
from babysit.diagnostics.vocabulary import FORMAT_FRAMEWORK
from babysit.errors import BabysitError
from babysit.readers import FieldMap, ReadStats, Record, Run, find_runs, parse_maps
from babysit.readers.jsonl import unread_keys
from babysit.readers.notes import read_notes
from babysit.text import visible

Observer = Callable[[Record], None]


def check_classes(classes: int | None) -> None:
    """A BabysitError unless `classes` is unset or a sensible class count."""
    if classes is not None and not 2 <= classes <= MAX_CLASSES:
        raise BabysitError(f"--classes must be between 2 and {MAX_CLASSES:,}, got {short_int(classes)}")


def check_rule_ids(ids: Iterable[str], option: str) -> None:
    """A BabysitError naming the first id that is no rule's (with a near miss suggested)."""
    for rule_id in ids:
        if rule_id not in RULES_BY_ID:
            raise BabysitError(f"{option}: no rule {rule_id!r}{did_you_mean(rule_id)} "
                               "(babysit rules lists them)")


def _tapped(records: Iterable[Record], observe: Observer) -> Iterator[Record]:
    for record in records:
        observe(record)
        yield record


def diagnose_run(found: Run, where: str, classes: int | None = None, overrides: Overrides | None = None,
                 observe: Observer | None = None, ignore: Iterable[str] = (),
                 task: str | None = None) -> tuple[Report, list[str]]:
    """One run's report and the notes about its input (the rules in `ignore` left out); a
    BabysitError if it holds nothing to judge."""
    kept = [rule.id for rule in ALL_RULES if rule.id not in set(ignore)]
    engine = Engine(build_rules(overrides or {}, only=kept), classes=classes, task=task)  # fresh per run
    stats = ReadStats()
    records = found.read(stats, engine.wants_layers)
    report = engine.push_all(_tapped(records, observe) if observe else records)
    if found.format == "jsonl":  # its records keep every key: the engine saw which
        stats.unread.update(dict.fromkeys(unread_keys(engine.seen)))
    framework = found.framework or FORMAT_FRAMEWORK.get(found.format)
    if framework and "framework" not in report.context:
        report.context["framework"] = framework
    if not report.measured:  # a CI gate must not pass a log that holds nothing to judge
        raise BabysitError(f"nothing to diagnose in {where}: no record has a loss, an epoch "
                           "metric (train_acc, val_acc, val_loss) or layer statistics "
                           f"(docs/log-format.md){map_hint(engine.seen)}")
    return report, read_notes(stats, engine.losses > 0) + engine.facts.notes()


def map_hint(seen: Iterable[str]) -> str:
    """'; it has train_loss: --map loss=train_loss?' for a log whose metrics have other names."""
    named = sorted(k for k in seen if isinstance(k, str) and "." not in k
                   and any(w in k.lower() for w in ("loss", "acc")))[:3]
    if not named:
        return ""
    field = "loss" if "loss" in named[0].lower() else "val_acc" if "val" in named[0].lower() \
        else "train_acc"
    return f"; it has {', '.join(named)}: read one with --map {field}={named[0]}"


def where(log: Path, found: Run, runs: list[Run]) -> str:
    """How an error names this run: the input alone, or which of its runs."""
    return visible(log) if len(runs) == 1 else f"run {visible(found.name)} of {visible(log)}"


Unusable = list[tuple[Run, str]]  # runs that could not be diagnosed, and why


def diagnose_runs(log: Path, classes: int | None = None, overrides: Overrides | None = None,
                  map_: list[str] | None = None, run: str | None = None, ignore: Iterable[str] = (),
                  task: str | None = None) -> tuple[list[tuple[Run, Report, list[str]]], Unusable]:
    """Read each run of `log` and diagnose it: (run, report, notes about the input) for each
    run that could be, and (run, why) for each that could not. One unusable run among several
    (an empty or text-only TensorBoard run, a params-only MLflow run) never hides the others; a
    BabysitError only when no run could be diagnosed."""
    check_classes(classes)
    check_rule_ids(ignore, "--ignore")
    runs = find_runs(log, FieldMap(parse_maps(map_)), run)
    done: list[tuple[Run, Report, list[str]]] = []
    unusable: Unusable = []
    for found in runs:
        try:
            done.append((found, *diagnose_run(found, where(log, found, runs), classes, overrides,
                                              ignore=ignore, task=task)))
        except BabysitError as exc:
            if len(runs) == 1:
                raise
            unusable.append((found, str(exc)))
    if not done:
        raise BabysitError(f"no run of {visible(log)} could be diagnosed: {unusable[0][1]}"
                           + (f" (and {len(unusable) - 1} more)" if len(unusable) > 1 else ""))
    return done, unusable

