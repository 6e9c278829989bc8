"""The engine as a sink: diagnose a run while it trains."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.rule import Finding, Record


class DiagnosticsSink:
    """Pushes each record into an Engine and tells listeners about each finding as it appears."""

    def __init__(self, engine: Engine | None = None,
                 listeners: Iterable[Callable[[Finding], None]] = ()) -> None:
        """Use `engine` (default: every rule at its defaults); call each listener per new finding."""
        self.engine = engine if engine is not None else Engine()
        self.listeners = list(listeners)
        self.report: Report | None = None

    def emit(self, record: Record) -> None:
        """Diagnose one more record; listeners get each new finding as the engine now sees it
        (marked `caused_by` when a finding already made explains it)."""
        new = self.engine.push(dict(record))
        if new:
            current = {f.rule: f for f in self.engine.findings}
            for finding in new:
                for listener in self.listeners:
                    listener(current.get(finding.rule, finding))

    def close(self) -> None:
        """Conclude the diagnosis."""
        self.report = self.engine.finish()
