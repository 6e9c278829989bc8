"""Rich views of a diagnosis: pure functions from a Report to renderables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from babysit.diagnostics.engine import Report
from babysit.diagnostics.readers.common import ReadStats
from babysit.diagnostics.readers.jsonl import MAX_LINE_BYTES
from babysit.diagnostics.remedy import describe
from babysit.diagnostics.rule import Finding

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def steps(finding: Finding) -> str:
    """'120' or '120-480'."""
    if finding.end_step is None or finding.end_step == finding.step:
        return str(finding.step)
    return f"{finding.step}-{finding.end_step}"


def findings_table(findings: list[Finding],
                   remedies: Callable[[Finding], list[dict[str, Any]]] | None = None) -> RenderableType:
    """One row per finding: severity, rule, steps, evidence, advice and (given `remedies`) the
    config changes to try, in order."""
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
        tries = remedies(f) if remedies is not None else []
        if tries:
            body.append("\ntry: " + "; then ".join(describe(r["set"]) for r in tries), style="bold")
        rule = Text(f"  <- {f.rule}" if f.caused_by else f.rule, style="dim" if f.caused_by else "")
        table.add_row(Text(f.severity, style=STYLE[f.severity]), rule, steps(f), body)
    return table


def not_checked_text(report: Report) -> RenderableType | None:
    """'Not checked: rule (needs fields)', or None when every rule was checked."""
    if not report.not_checked:
        return None
    items = ", ".join(f"{n['rule']} (needs {', '.join(n['needs'])})" for n in report.not_checked)
    return Text(f"Not checked: {items}", style="dim")


def read_notes(stats: ReadStats) -> list[str]:
    """What the reader skipped or guessed, one sentence each."""
    notes = []
    if stats.malformed:
        lines = ", ".join(str(n) for n in stats.malformed_lines)
        more = ", ..." if stats.malformed > len(stats.malformed_lines) else ""
        notes.append(f"skipped {stats.malformed} malformed line(s): {lines}{more}")
    if stats.long_lines:
        notes.append(f"{stats.long_lines} of those line(s) exceeded {MAX_LINE_BYTES >> 20} MiB "
                     "and were skipped unread")
    if stats.bad_values:
        more = ", ..." if stats.bad_values > len(stats.bad_value_examples) else ""
        notes.append(f"ignored {stats.bad_values} metric value(s) that are not numbers: "
                     f"{', '.join(stats.bad_value_examples)}{more}")
    if stats.corrupt:
        notes.append(f"stopped reading at {stats.corrupt}: the file is damaged, not just cut short")
    elif stats.truncated_last_line:
        notes.append("the last line is incomplete (a run still writing?) and was not read")
    if stats.run_header and not stats.summary and not stats.corrupt:
        notes.append("the log ends without a summary record: the run was killed, crashed hard, "
                     "or is still running")
    if stats.non_monotonic_steps:
        notes.append(f"{stats.non_monotonic_steps} record(s) with a step not after the previous one")
    return notes


def report_view(report: Report, notes: list[str]) -> RenderableType:
    """Findings, what was not checked, and notes about the input."""
    parts: list[RenderableType] = [
        Text(f"{report.records} records, {report.steps} steps", style="bold"),
        findings_table(report.findings, report.remedies),
    ]
    unchecked = not_checked_text(report)
    if unchecked is not None:
        parts.append(unchecked)
    parts.extend(Text(f"Note: {n}", style="dim") for n in notes)
    return Group(*parts)
