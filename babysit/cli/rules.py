"""`babysit rules`: the rule catalogue, with the thresholds `--set` and `--rules-config` change."""

from __future__ import annotations

import inspect
import json
from typing import Annotated

import typer
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from babysit.cli.errors import reports_errors
from babysit.diagnostics.engine import did_you_mean
from babysit.diagnostics.rule import Rule
from babysit.diagnostics.rules import ALL_RULES, RULES_BY_ID
from babysit.errors import BabysitError


@reports_errors
def rules(
    rule_id: Annotated[str | None, typer.Argument(
        metavar="RULE", help="Show this rule in full (e.g. dead-relu)")] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", help="The full table: every rule with its thresholds")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """List the diagnostic rules: id, severity and what each detects (one rule in full with RULE)."""
    chosen = list(ALL_RULES)
    if rule_id is not None:
        if rule_id not in RULES_BY_ID:
            raise BabysitError(f"no rule {rule_id!r}{did_you_mean(rule_id)} (babysit rules "
                               "lists them)")
        chosen = [RULES_BY_ID[rule_id]]
    console = Console(highlight=False)
    if json_out:
        typer.echo(json.dumps({"rules": [
            {"id": r.id, "severity": r.severity, "needs": list(r.needs),
             "thresholds": r.thresholds, "advice": r.advice,
             "remedies": [m.text for m in r.remedies], "provisional": r.provisional,
             "activations": list(r.activations), "lr_symptom": r.lr_symptom}
            for r in chosen]}))
    elif rule_id is not None:
        console.print(rule_page(chosen[0]))
    else:
        console.print(rule_table(chosen, show_all))
        if not show_all:
            console.print("babysit rules RULE: one rule in full; --all: every threshold "
                          "(--set RULE.NAME=VALUE changes one)", style="dim")
        console.print("Reasoning, advice and sources: docs/rules.md", style="dim")


def _detects(r: type[Rule]) -> str:
    return " ".join(inspect.cleandoc(r.__doc__ or "").split("\n\n")[0].split())


def rule_table(chosen: list[type[Rule]], show_all: bool) -> Table:
    """One row per rule: the short form fits a screen, `show_all` adds the thresholds."""
    table = Table(expand=True, show_lines=show_all, header_style="bold", box=None if not show_all
                  else box.HEAVY_HEAD)
    table.add_column("rule", no_wrap=True, min_width=max(len(r.id) for r in chosen))
    table.add_column("severity", no_wrap=True, min_width=len("severity"))
    table.add_column("detects", overflow="fold" if show_all else "ellipsis", no_wrap=not show_all,
                     ratio=1)
    if show_all:
        table.add_column("thresholds (--set RULE.NAME=VALUE)", overflow="fold")
    for r in chosen:
        limits = ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items()) or "-"
        table.add_row(r.id, r.severity, _detects(r), *([limits] if show_all else []))
    return table


def rule_page(r: type[Rule]) -> Group:
    """One rule in full: what it detects and why, what it needs, thresholds, advice, remedies."""
    lines = [Text(f"{r.id} ({r.severity}{', provisional' if r.provisional else ''})",
                  style="bold"),
             Text(inspect.cleandoc(r.__doc__ or "")), Text("")]
    if r.needs:
        lines.append(Text(f"needs: {', '.join(r.needs)}"))
    for name, value in r.thresholds.items():
        lines.append(Text(f"threshold {name} = {value:g}   (--set {r.id}.{name}=VALUE)"))
    lines.append(Text(f"advice: {r.advice}"))
    for n, remedy in enumerate(r.remedies, start=1):
        lines.append(Text(f"remedy {n}: {remedy.text}"))
    return Group(*lines)
