"""The engine as a sink: diagnose a run while it trains."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.rule import SEVERITY_RANK, Finding, Record
from babysit.diagnostics.rules import provisional


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

    def so_far(self) -> Report:
        """The diagnosis as it stands: the final report once closed, else the findings so far
        (with what is known of the run, so that their remedies can be said)."""
        if self.report is not None:
            return self.report
        engine = self.engine
        return Report(list(engine.findings), [], engine.records, engine.steps,
                      context=dict(engine.context))


def stops(finding: Finding, level: str) -> bool:
    """Whether a new finding should stop a run that stops at `level`.

    Findings of provisional rules (which later evidence may withdraw: a slow start is not a
    flat loss) do not stop a run; they count at its end.
    """
    return SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[level] and not provisional(finding.rule)


def stopper(level: str, request_stop: Callable[[str], None]) -> Callable[[Finding], None]:
    """A findings listener that calls request_stop(reason) at each finding that `stops`."""
    def listener(finding: Finding) -> None:
        if stops(finding, level):
            request_stop(f"{finding.rule} at step {finding.step}: {finding.message}")

    return listener
