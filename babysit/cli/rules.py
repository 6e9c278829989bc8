"""`babysit rules`: the rule catalogue, with the thresholds `--set` and `--rules-config` change."""

from __future__ import annotations

import inspect
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from babysit.diagnostics.rules import ALL_RULES


def rules(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """List the diagnostic rules: id, severity, what each needs, its thresholds and advice."""
    if json_out:
        typer.echo(json.dumps({"rules": [
            {"id": r.id, "severity": r.severity, "needs": list(r.needs),
             "thresholds": r.thresholds, "advice": r.advice,
             "remedies": [m.text for m in r.remedies], "provisional": r.provisional,
             "activations": list(r.activations), "lr_symptom": r.lr_symptom}
            for r in ALL_RULES]}))
        return
    table = Table(expand=True, show_lines=True, header_style="bold")
    for col in ("rule", "severity", "detects", "thresholds (--set RULE.NAME=VALUE)"):
        table.add_column(col, overflow="fold")
    for r in ALL_RULES:
        detects = " ".join(inspect.cleandoc(r.__doc__ or "").split("\n\n")[0].split())
        limits = ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items()) or "-"
        table.add_row(r.id, r.severity, detects, limits)
    Console(highlight=False).print(table)
    Console(highlight=False).print("Reasoning, advice and sources: docs/rules.md", style="dim")
