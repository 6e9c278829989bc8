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
from babysit.diagnostics.engine import Engine, Report, build_rules
from babysit.diagnostics.readers import FieldMap, ReadStats, Run, find_runs, parse_maps
from babysit.diagnostics.thresholds import Overrides, load_toml, merge, parse_set
from babysit.errors import BabysitError


def check_classes(classes: int | None) -> None:
    """A BabysitError unless --classes is unset or a sensible class count."""
    if classes is not None and not 2 <= classes <= MAX_CLASSES:
        raise BabysitError(f"--classes must be between 2 and {MAX_CLASSES:,}, got {short_int(classes)}")


def thresholds_from_options(rules_config: Path | None, set_: list[str] | None) -> Overrides:
    """Threshold overrides from --rules-config, then --set (which wins); checked at once."""
    overrides = merge(load_toml(rules_config) if rules_config else {}, parse_set(set_ or []))
    build_rules(overrides)  # unknown rules and bad values fail before any reading
    return overrides


def diagnose_runs(log: Path, classes: int | None, overrides: Overrides, map_: list[str] | None,
                  run: str | None) -> list[tuple[Run, Report, list[str]]]:
    """Read each run of `log` and diagnose it: (run, report, notes about the input)."""
    check_classes(classes)
    runs = find_runs(log, FieldMap(parse_maps(map_)), run)
    results = []
    for found in runs:
        engine = Engine(build_rules(overrides), classes=classes)  # fresh rules for each run
        stats = ReadStats()
        report = engine.push_all(found.read(stats, engine.wants_layers))
        if not report.measured:  # a CI gate must not pass a log that holds nothing to judge
            where = log if len(runs) == 1 else f"run {found.name} of {log}"
            raise BabysitError(f"nothing to diagnose in {where}: no record has a loss, an epoch "
                               "metric (train_acc, val_acc, val_loss) or layer statistics "
                               "(docs/log-format.md)")
        results.append((found, report, read_notes(stats)))
    return results


@reports_errors
def diagnose(
    log: Annotated[Path, typer.Argument(
        help="Run log: JSONL (or .gz; - for stdin), a Keras/Lightning CSV log, a "
             "trainer_state.json, a TensorBoard event file or log directory, or an MLflow store "
             "(mlflow.db or mlruns/)")],
    classes: Annotated[int | None, typer.Option(
        help="Number of classes, for the initial-loss check (overrides the header)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a threshold: RULE.NAME=VALUE (repeatable)")] = None,
    rules_config: Annotated[Path | None, typer.Option(
        help="TOML file of thresholds: [rule-id] name = value")] = None,
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="Read a metric of another name as a field: FIELD=NAME, e.g. "
                      "loss=my/train_loss (repeatable)")] = None,
    run: Annotated[str | None, typer.Option(
        help="Only this run of a TensorBoard directory or MLflow store (id or name)")] = None,
) -> None:
    """Diagnose a training run from its log: findings, evidence and advice.

    A TensorBoard directory or MLflow store with several runs gets one diagnosis per run.
    Exit status: 0 no warning or error, 1 at least one, 2 unreadable input or bad options.
    """
    overrides = thresholds_from_options(rules_config, set_)
    results = diagnose_runs(log, classes, overrides, map_, run)
    if json_out:
        outs = [{**report.to_dict(), "notes": notes, "run": found.name, "run_id": found.id,
                 "format": found.format} for found, report, notes in results]
        typer.echo(json.dumps(outs[0] if len(outs) == 1 else {"runs": outs}, default=str))
    else:
        console = Console(highlight=False)
        for found, report, notes in results:
            if len(results) > 1:
                console.rule(f"run {found.name}" + (f" ({found.id})" if found.id != found.name else ""))
            console.print(report_view(report, notes))
    serious = any(f.severity in ("warning", "error") for _, report, _ in results for f in report.findings)
    raise typer.Exit(1 if serious else 0)
