"""Plain output for pipes, CI and --no-live: periodic progress lines and one line per finding."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from babysit.diagnostics.rule import Finding
from babysit.diagnostics.rules import provisional

# docs/findings.md: a provisional finding is shown when it appears, marked so; later records may
# withdraw it, and only the findings that hold at the end make the verdict.
PROVISIONAL = "(provisional: later records may withdraw it) "


def live_line(finding: Finding) -> str:
    """A finding as shown the moment it appears: one line, provisional ones marked."""
    if not provisional(finding.rule):
        return str(finding)
    head, sep, rest = str(finding).partition(": ")
    return f"{head}{sep}{PROVISIONAL}{rest}"


class FindingPrinter:
    """A findings listener that prints each new finding as one line, when it first appears."""

    def __init__(self, out: TextIO, prefix: str = "") -> None:
        """Write to `out`, each line starting with `prefix` (e.g. 'babysit: ')."""
        self.out, self.prefix = out, prefix

    def __call__(self, finding: Finding) -> None:
        """Print `finding`: severity, rule, step, evidence and advice."""
        print(f"{self.prefix}{live_line(finding)}", file=self.out, flush=True)


def closing_line(findings: list[Finding], steps: int, log: Path | None) -> str:
    """What a finished run comes to, in one line: the count, the first thing to fix, the log."""
    where = f"babysit diagnose {log}" if log is not None else "monitor.findings"
    if not findings:
        return f"no problems found in {steps:,} steps" + (f" (log: {log})" if log else "")
    counts = {sev: sum(f.severity == sev for f in findings) for sev in ("error", "warning", "info")}
    tally = ", ".join(f"{n} {sev}{'s' if n > 1 else ''}" for sev, n in counts.items() if n)
    first = next((f for f in findings if f.caused_by is None), findings[0])
    return (f"{len(findings)} finding{'s' if len(findings) > 1 else ''} in {steps:,} steps "
            f"({tally}). First fix: {first.rule} at step {first.step} -> {first.advice.rstrip('.')}. "
            f"Details: {where}")
