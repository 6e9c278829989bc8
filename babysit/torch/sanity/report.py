"""What `babysit.torch.sanity_check` returns: one Check per step of the lecture's recipe."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

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

    def __str__(self) -> str:
        failed = sum(c.status == FAIL for c in self.checks)
        warned = sum(c.status == WARN for c in self.checks)
        verdict = "passed" if self.passed else f"{failed} failed"
        tail = f", {warned} warning(s)" if warned else ""
        return "\n".join([*map(str, self.checks),
                          f"sanity check {verdict}{tail} ({self.seconds:.1f} s)"])

    def _repr_html_(self) -> str:
        """A table for notebooks."""
        colour = {PASS: "#2e7d32", WARN: "#ef6c00", FAIL: "#c62828", SKIP: "#757575"}
        rows = "".join(
            f"<tr><td style='color:{colour.get(c.status, '#000')}'><b>{c.status}</b></td>"
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.message)}</td>"
            f"<td>{html.escape(c.advice if c.status in (WARN, FAIL) else '')}</td></tr>"
            for c in self.checks)
        return f"<table><tr><th></th><th>check</th><th>evidence</th><th>advice</th></tr>{rows}</table>"
