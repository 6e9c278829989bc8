"""What `babysit.torch.sanity_check` returns: one Check per step of the lecture's recipe."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from babysit.sanity.checks import follow

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"


@dataclass
class Check:
    """One check's outcome: PASS / WARN / FAIL (or SKIP when it does not apply), the evidence
    in numbers and words, and what to change."""

    name: str
    status: str
    message: str
    advice: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    # A cause the later checks can fail of (a bad init, inputs with no variance): when they
    # do, they say they follow from it instead of guessing a cause of their own.
    root: bool = False
    explains: tuple[str, ...] = ()  # checks it explains beyond the training ones
    follows: str | None = None  # the earlier check this one's failure follows from

    def __str__(self) -> str:
        advice = f" -> {self.advice}" if self.advice and self.status in (WARN, FAIL) else ""
        return f"{self.status:4}  {self.name}: {self.message}{advice}"


@dataclass
class SanityReport:
    """The checks in the recipe's order; `passed` is False when any check FAILs."""

    checks: list[Check]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No check failed (warnings and skips pass)."""
        return all(c.status != FAIL for c in self.checks)

    def __getitem__(self, name: str) -> Check:
        """The check called `name`."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    @property
    def first_cause(self) -> Check | None:
        """The earliest check that failed or warned of its own accord (not as a consequence)."""
        return next((c for c in self.checks if c.status in (FAIL, WARN) and c.follows is None), None)

    def __str__(self) -> str:
        failed = sum(c.status == FAIL for c in self.checks)
        warned = sum(c.status == WARN for c in self.checks)
        verdict = "passed" if self.passed else f"{failed} failed"
        tail = f", {warned} warning(s)" if warned else ""
        first = self.first_cause
        start = f"; start with {first.name}" if first is not None and (failed + warned) > 1 else ""
        return "\n".join([*self._lines(), f"sanity check {verdict}{tail}{start} ({self.seconds:.1f} s)"])

    def _lines(self) -> list[str]:
        """A line per check; checks skipped in a row for one reason share a line."""
        lines: list[str] = []
        run: list[Check] = []
        for check in [*self.checks, None]:
            if run and (check is None or check.status != SKIP or check.message != run[0].message):
                names = ", ".join(c.name for c in run)
                lines.append(str(run[0]) if len(run) == 1 else f"{SKIP:4}  {names}: {run[0].message}")
                run = []
            if check is not None and check.status == SKIP:
                run.append(check)
            elif check is not None:
                lines.append(str(check))
        return lines

    def link_causes(self, consequences: tuple[str, ...]) -> None:
        """Mark each check named in `consequences` that failed or warned after a root cause
        as following from it (babysit.sanity.checks.follow): its own guess at a cause (the
        learning rate, a bug) would send the user after a symptom."""
        for i, check in enumerate(self.checks):
            self.checks[i] = follow(check, self.checks[:i], consequences)

    def _repr_html_(self) -> str:
        """A table for notebooks."""
        colour = {PASS: "#2e7d32", WARN: "#ef6c00", FAIL: "#c62828", SKIP: "#757575"}
        rows = "".join(
            f"<tr><td style='color:{colour.get(c.status, '#000')}'><b>{c.status}</b></td>"
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.message)}</td>"
            f"<td>{html.escape(c.advice if c.status in (WARN, FAIL) else '')}</td></tr>"
            for c in self.checks)
        return f"<table><tr><th></th><th>check</th><th>evidence</th><th>advice</th></tr>{rows}</table>"
