"""The options of every command that reads and diagnoses a log (diagnose, fix, report),
declared once so that they mean the same and read the same in each command's --help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from babysit.diagnostics.engine import build_rules
from babysit.diagnostics.thresholds import Overrides, load_toml, merge, parse_set

Classes = Annotated[int | None, typer.Option(
    help="Number of classes, for the initial-loss check (overrides the header)")]
Task = Annotated[Literal["classification", "sequence", "regression"] | None, typer.Option(
    metavar="TASK", help="What the run trains, when its metric names do not say: classification, sequence (a "
         "language, translation or speech model: its loss gives no class count) or regression")]
SetThresholds = Annotated[list[str] | None, typer.Option(
    "--set", help="Override a threshold: RULE.NAME=VALUE (repeatable)")]
RulesConfig = Annotated[Path | None, typer.Option(
    help="TOML file of thresholds: [rule-id] name = value")]
MapFields = Annotated[list[str] | None, typer.Option(
    "--map", help="Read a metric of another name as a field: FIELD=NAME, e.g. "
                  "loss=my/train_loss (repeatable)")]
OneRun = Annotated[str | None, typer.Option(
    help="Only this run of a TensorBoard directory or MLflow store (id or name)")]
Verbose = Annotated[bool, typer.Option(
    "--verbose", help="Also list the findings shown during the run and withdrawn since "
                      "(docs/findings.md)")]
Ignore = Annotated[list[str] | None, typer.Option(
    help="Leave this rule out, e.g. --ignore val-plateau (repeatable)")]


def thresholds_from_options(rules_config: Path | None, set_: list[str] | None) -> Overrides:
    """Threshold overrides from --rules-config, then --set (which wins); checked at once."""
    overrides = merge(load_toml(rules_config) if rules_config else {}, parse_set(set_ or []))
    build_rules(overrides)  # unknown rules and bad values fail before any reading
    return overrides
