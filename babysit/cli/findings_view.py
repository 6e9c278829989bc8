"""Rich views of a diagnosis: pure functions from a Report to renderables."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from babysit.diagnostics.engine import Report
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.unchecked import unchecked_line

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def findings_table(findings: list[Finding],
                   tries: Callable[[Finding], str | None] | None = None) -> RenderableType:
    """One row per finding: severity, rule, steps, evidence, advice and (given `tries`, as
    Report.tries) the config changes to try, in order."""
    if not findings:
        return Text("No problems found.", style="green")
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("steps", no_wrap=True, justify="right")
    table.add_column("what and what to do", ratio=1)
    for f in findings:
        body = Text(f.message)
        body.append("\n-> " + f.advice, style="italic")
        said = tries(f) if tries is not None else None
        if said:
            body.append("\n" + said, style="bold")
        rule = Text(f"  <- {f.rule}" if f.caused_by else f.rule, style="dim" if f.caused_by else "")
        table.add_row(Text(f.severity, style=STYLE[f.severity]), rule,
                      f.steps.partition(" ")[2], body)
    return table


def findings_view(report: Report, verbose: bool = False) -> RenderableType:
    """The findings of a finished diagnosis as every command ends with them: the table, with the
    remedies to try; with `verbose`, also the findings shown during the run and withdrawn since
    (docs/findings.md: only what holds at the end is the verdict)."""
    if not (verbose and report.withdrawn):
        return findings_table(report.findings, report.tries)
    if report.findings:
        parts = [findings_table(report.findings, report.tries),
                 Text("Shown during the run and withdrawn since:", style="dim")]
    else:  # never "No problems found." with findings under it
        parts = [Text("No problems hold at the end; shown during the run and withdrawn since:",
                      style="green")]
    parts += [Text(line, style="dim") for line in report.withdrawn_lines()]
    return Group(*parts)


def not_checked_text(report: Report) -> RenderableType | None:
    """'Not checked: ...' grouped by what would enable the rules, or None when all were checked."""
    line = unchecked_line(report.not_checked)
    return None if line is None else Text(line, style="dim")


def report_view(report: Report, notes: list[str], verbose: bool = False) -> RenderableType:
    """Findings, what was not checked, and notes about the input."""
    parts: list[RenderableType] = [
        Text(f"{report.records} records, {report.steps} steps", style="bold"),
        findings_view(report, verbose),
    ]
    unchecked = not_checked_text(report)
    if unchecked is not None:
        parts.append(unchecked)
    parts.extend(Text(f"Note: {n}", style="dim") for n in notes)
    return Group(*parts)


def runs_table(rows: list[tuple[str, Report]]) -> RenderableType:
    """Several runs, one line each: the worst severity, the name, the steps, and the first root
    cause (or "no problems found"), cropped to the screen; `babysit diagnose LOG --run NAME`
    or `--details` show the rest."""
    table = Table(show_header=True, header_style="bold", expand=True, box=None, pad_edge=False)
    table.add_column("verdict", no_wrap=True)
    table.add_column("run", no_wrap=True, max_width=40, overflow="ellipsis")
    table.add_column("steps", no_wrap=True, justify="right")
    table.add_column("first cause", ratio=1, no_wrap=True, overflow="ellipsis")
    for name, report in rows:
        worst = report.worst
        first = next((f for f in report.findings if f.caused_by is None), None)
        more = len(report.findings) - 1
        what = Text("no problems found", style="green") if first is None else Text.assemble(
            (first.rule, "bold"), (f" (+{more} more)" if more else "", "dim"), f": {first.message}")
        table.add_row(Text(worst or "ok", style=STYLE.get(worst or "", "green")),
                      name, f"{report.steps:,}", what)
    return table
