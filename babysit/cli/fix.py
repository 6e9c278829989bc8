"""`babysit train --fix` (train, remedy the root cause, train again) and `babysit fix LOG`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from babysit.atomic import refuse_overwriting_input, refuse_replacing, same_file
from babysit.cli.errors import reports_errors
from babysit.cli.reading import (
    Classes,
    Ignore,
    MapFields,
    OneRun,
    RulesConfig,
    SetThresholds,
    Task,
    thresholds_from_options,
)
from babysit.cli.run import open_log, train_once
from babysit.config import Config
from babysit.diagnostics.remedy import describe
from babysit.errors import BabysitError
from babysit.fix.chain import Attempt, Outcome, Plan, attempt_log, fixed, run_chain
from babysit.fix.report import attempt_line, write_report
from babysit.fix.report import summary_line as chain_summary

MAX_ATTEMPTS = 20


def train_with_fixes(config: Config, log: Path | None, overwrite: bool, console: Console,
                     use_live: bool, level: str, max_attempts: int,
                     report_path: Path | None, html: bool = False) -> int:
    """Run the fix chain; print each attempt and the conclusion; return the exit status."""
    from babysit.training import JsonlSink
    from babysit.training.trainer import new_run_id

    if not 1 <= max_attempts <= MAX_ATTEMPTS:
        raise BabysitError(f"--max-attempts must be between 1 and {MAX_ATTEMPTS}, got {max_attempts}")
    if report_path is not None and report_path.is_dir():
        raise BabysitError(f"--fix-report {report_path} is a directory; give a file name")
    if report_path is not None:
        refuse_replacing(report_path, "fix report", "--fix-report", overwrite)
    run_id = new_run_id()
    first_sink = open_log(log, run_id, overwrite)  # nothing replaced before its first record
    for k in range(max_attempts if report_path is not None else 0):
        if same_file(report_path, attempt_log(first_sink.path, k)):  # type: ignore[arg-type]
            first_sink.close()  # removes a log it created and never wrote
            refuse_overwriting_input(report_path, attempt_log(first_sink.path, k), "--fix-report")  # type: ignore[arg-type]
    taken = [p for p in (attempt_log(first_sink.path, k) for k in range(1, max_attempts))
             if p.exists() and not overwrite]
    if taken:  # refuse before training, not after the first attempt
        first_sink.close()
        raise BabysitError(f"log {taken[0]} already exists (pass --overwrite to replace it)")
    attempts: list[Attempt] = []

    def run(candidate: Config, k: int, plan: Plan | None) -> Outcome:
        sink = first_sink if k == 0 else JsonlSink(attempt_log(first_sink.path, k), overwrite)
        label = f"attempt {k + 1}/{max_attempts}" + (
            f": {describe(plan.changes)} ({plan.remedy} for {plan.rule})" if plan else "")
        if not use_live:
            console.print(label, style="bold", soft_wrap=True)
        result = train_once(candidate, sink, f"{run_id}-fix{k}" if k else run_id, console,
                            use_live, level, label)
        return Outcome(str(result.log), result.summary["status"], result.report,
                       result.summary.get("val_acc"), result.n_val)

    def shown(attempt: Attempt) -> None:
        attempts.append(attempt)
        console.print(attempt_line(attempt, len(attempts) - 1, max_attempts), soft_wrap=True)
        if report_path is not None:  # after every attempt: Ctrl-C or a crash keeps the chain so far
            write_report(report_path, attempts)

    run_chain(config, run, max_attempts, level, shown)
    console.print(chain_summary(attempts), soft_wrap=True)
    last = attempts[-1].outcome
    console.print("logs: " + ", ".join(a.outcome.log for a in attempts), soft_wrap=True)
    if report_path is not None:
        console.print(f"fix report: {report_path}", soft_wrap=True)
    if html:
        from babysit.cli.report import print_report

        for a in attempts:
            print_report(console, Path(a.outcome.log))
    if last.status == "interrupted":
        return 130
    return 0 if fixed(attempts) else 1


@reports_errors
def fix(
    log: Annotated[Path, typer.Argument(
        help="Run log, in any format `babysit diagnose` reads")],
    classes: Classes = None,
    task: Task = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    set_: SetThresholds = None,
    rules_config: RulesConfig = None,
    map_: MapFields = None,
    run: OneRun = None,
    ignore: Ignore = None,
) -> None:
    """Print the config changes to make, root cause first, in the order to try them.

    Exit status: 0 nothing to change, 1 changes suggested, 2 unreadable input.
    """
    from babysit.diagnostics.runs import diagnose_runs

    overrides = thresholds_from_options(rules_config, set_)
    results, _ = diagnose_runs(log, classes, overrides, map_, run, ignore or (), task)
    outs = []
    for found, report, _notes in results:
        roots = [f for f in report.findings if f.caused_by is None and f.severity != "info"]
        outs.append({"run": found.name, "changes": [
            {"rule": f.rule, "severity": f.severity, "step": f.step, "message": f.message,
             "remedies": report.remedies(f)} for f in roots]})
    if json_out:
        typer.echo(json.dumps({"runs": outs}, default=str))
    else:
        console = Console(highlight=False)
        for out in outs:
            if len(outs) > 1:
                console.rule(f"run {out['run']}")
            if not out["changes"]:
                console.print("No warning or error: nothing to change.", style="green")
            for n, item in enumerate(out["changes"], 1):
                console.print(f"{n}. {item['rule']} ({item['severity']}, step {item['step']}): "
                              f"{item['message']}", soft_wrap=True)
                if not item["remedies"]:
                    console.print("   no config change known; see `babysit diagnose` for advice")
                for r in item["remedies"]:
                    console.print(f"   try {r['say']}  ({r['change']})", soft_wrap=True)
    raise typer.Exit(1 if any(o["changes"] for o in outs) else 0)
