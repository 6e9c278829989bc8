"""The fix chain's outputs: one-line descriptions and the --fix-report JSON (a contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from babysit.atomic import write_text_atomic
from babysit.diagnostics.remedy import describe
from babysit.fix.chain import Attempt, fixed, root_causes

VERDICTS = {
    "healthy": "no warning or error: nothing to fix",
    "fixed": "no warning or error: fixed",
    "kept": "helped (a different problem now): kept",
    "undone": "did not help: undone",
    "interrupted": "interrupted",
    "failed": "",
}


def attempt_line(attempt: Attempt, index: int, total: int) -> str:
    """'attempt 2/5: lr=3 (lr x0.1 for loss-explosion) -> completed, val acc 98.3%: fixed'."""
    change = (f"{describe(attempt.plan.changes)} ({attempt.plan.remedy} for {attempt.plan.rule})"
              if attempt.plan else "as configured")
    out = attempt.outcome
    result = out.status
    if out.val_acc is not None:
        result += f", val acc {100 * out.val_acc:.1f}%"
    roots = root_causes(out, "warning")
    if roots:
        result += f", {roots[0].rule} at step {roots[0].step}"
    verdict = VERDICTS[attempt.verdict]
    return f"attempt {index + 1}/{total}: {change} -> {result}" + (f": {verdict}" if verdict else "")


def summary_line(attempts: list[Attempt]) -> str:
    """The chain's conclusion: first vs last attempt."""
    first, last = attempts[0], attempts[-1]
    if first.verdict == "healthy":
        return "fix: the first run has no warning or error; nothing changed"

    def acc(a: Attempt) -> str:
        return "-" if a.outcome.val_acc is None else f"{100 * a.outcome.val_acc:.1f}%"

    kept = [a for a in attempts if a.verdict in ("kept", "fixed")]
    changes = describe(kept[-1].changes) if kept else "none kept"
    head = (f"fixed in {len(attempts)} attempts" if fixed(attempts)
            else f"interrupted at attempt {len(attempts)}" if last.verdict == "interrupted"
            else f"not fixed after {len(attempts)} attempts")
    return f"{head}: val acc {acc(first)} -> {acc(last)}; changes: {changes}"


def report_dict(attempts: list[Attempt]) -> dict[str, Any]:
    """The --fix-report JSON: {"fixed", "attempts": [{log, changes, status, findings, val_acc}]}."""
    rows = []
    for a in attempts:
        report = a.outcome.report.to_dict()
        rows.append({"log": a.outcome.log, "changes": a.changes, "status": a.outcome.status,
                     "findings": report["findings"], "val_acc": a.outcome.val_acc,
                     "verdict": a.verdict,
                     "tried": {"rule": a.plan.rule, "remedy": a.plan.remedy,
                               "changes": a.plan.changes} if a.plan else None})
    return {"fixed": fixed(attempts), "attempts": rows}


def write_report(path: Path, attempts: list[Attempt]) -> None:
    """Write the report atomically: a reader sees the old file or the whole new one."""
    write_text_atomic(path, json.dumps(report_dict(attempts), indent=2, default=str) + "\n", "fix report")
