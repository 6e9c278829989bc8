"""Plain output for pipes, CI and --no-live: periodic progress lines and one line per finding."""

from __future__ import annotations

from typing import TextIO

from babysit.diagnostics.rule import Finding


class FindingPrinter:
    """A findings listener that prints each new finding as one line, when it first appears."""

    def __init__(self, out: TextIO) -> None:
        """Write to `out`."""
        self.out = out

    def __call__(self, finding: Finding) -> None:
        """Print `finding`: severity, rule, step, evidence and advice."""
        cause = f" (caused by {finding.caused_by})" if finding.caused_by else ""
        print(f"{finding.severity.upper()} {finding.rule} at step {finding.step}{cause}: "
              f"{finding.message} -> {finding.advice}", file=self.out, flush=True)
