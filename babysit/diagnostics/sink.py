"""The engine as a sink: diagnose a run while it trains."""

from __future__ import annotations

from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.rule import Finding, Record


class DiagnosticsSink:
    """Pushes each record into an Engine; `new` collects findings as they first appear."""

    def __init__(self, engine: Engine | None = None) -> None:
        """Use `engine`, or one with every rule at its defaults."""
        self.engine = engine if engine is not None else Engine()
        self.new: list[Finding] = []
        self.report: Report | None = None

    def emit(self, record: Record) -> None:
        """Diagnose one more record."""
        self.new.extend(self.engine.push(dict(record)))

    def close(self) -> None:
        """Conclude the diagnosis."""
        self.report = self.engine.finish()
