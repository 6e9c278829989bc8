"""`babysit diagnose LOG`: read a run log, apply the rules, print findings and advice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from babysit.cli.errors import reports_errors
from babysit.cli.report import read_notes, report_view
from babysit.config import MAX_CLASSES, short_int
from babysit.diagnostics.engine import Engine, build_rules
from babysit.diagnostics.readers import ReadStats, read_log
from babysit.diagnostics.rule import Rule
from babysit.diagnostics.thresholds import load_toml, merge, parse_set
from babysit.errors import BabysitError


def check_classes(classes: int | None) -> None:
    """A BabysitError unless --classes is unset or a sensible class count."""
    if classes is not None and not 2 <= classes <= MAX_CLASSES:
        raise BabysitError(f"--classes must be between 2 and {MAX_CLASSES:,}, got {short_int(classes)}")


def rules_from_options(rules_config: Path | None, set_: list[str] | None) -> list[Rule]:
    """Rules with thresholds from --rules-config, then --set (which wins)."""
    overrides = merge(load_toml(rules_config) if rules_config else {}, parse_set(set_ or []))
    return build_rules(overrides)


@reports_errors
def diagnose(
    log: Annotated[Path, typer.Argument(
        help="Run log: JSONL (or .gz; - for stdin), a Keras/Lightning CSV log, or a "
             "trainer_state.json")],
    classes: Annotated[int | None, typer.Option(
        help="Number of classes, for the initial-loss check (overrides the header)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a threshold: RULE.NAME=VALUE (repeatable)")] = None,
    rules_config: Annotated[Path | None, typer.Option(
        help="TOML file of thresholds: [rule-id] name = value")] = None,
) -> None:
    """Diagnose a training run from its log: findings, evidence and advice.

    Exit status: 0 no warning or error, 1 at least one, 2 unreadable input or bad options.
    """
    check_classes(classes)
    engine = Engine(rules_from_options(rules_config, set_), classes=classes)
    stats = ReadStats()
    report = engine.push_all(read_log(log, stats, layers_wanted=engine.wants_layers))
    if not report.measured:  # a CI gate must not pass a log that holds nothing to judge
        raise BabysitError(f"nothing to diagnose in {log}: no record has a loss, an epoch metric "
                           "(train_acc, val_acc, val_loss) or layer statistics (docs/log-format.md)")
    notes = read_notes(stats)
    if json_out:
        out = report.to_dict()
        out["notes"] = notes
        typer.echo(json.dumps(out, default=str))
    else:
        Console(highlight=False).print(report_view(report, notes))
    serious = any(f.severity in ("warning", "error") for f in report.findings)
    raise typer.Exit(1 if serious else 0)
