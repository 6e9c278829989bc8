"""`babysit search`: coarse-to-fine random search over the shared model options."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.live import Live

from babysit.cli.errors import reports_errors
from babysit.cli.options import run_options
from babysit.cli.report import REPORT_HELP, print_report
from babysit.cli.signals import graceful_stop
from babysit.config import Config, parse_hidden
from babysit.errors import BabysitError
from babysit.names import ACTIVATIONS, INITS, OPTIMIZERS, SCHEDULES

if TYPE_CHECKING:  # numpy and the search machinery load when the command runs
    from babysit.search.search import Outcome
    from babysit.search.space import Choice, Space
    from babysit.search.view import Progress

SEARCH = "Search"


def _choices(text: str | None, name: str, allowed: Any) -> Choice | None:
    from babysit.search.space import Choice

    if not text:
        return None
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise BabysitError(f"--{name} {text!r}: choose from {', '.join(allowed)}")
    return Choice(values)


def build_space(lr_range: str, reg_range: str, dropout_range: str | None, hidden: str | None,
                activations: str | None, inits: str | None, optimizers: str | None,
                schedules: str | None) -> Space:
    """The search space from the command's range and choice options."""
    from babysit.search.space import Choice, parse_range

    space: Space = {"lr": parse_range(lr_range, "lr-range", log=True),
                    "reg": parse_range(reg_range, "reg-range", log=True)}
    if dropout_range:
        rng = parse_range(dropout_range, "dropout-range", log=False)
        if not 0 <= rng.lo <= rng.hi < 1:
            raise BabysitError(f"--dropout-range {dropout_range}: dropout lies in [0, 1)")
        space["dropout"] = rng
    if hidden:
        architectures = tuple(parse_hidden(h) for h in hidden.split(";") if h.strip())
        if not architectures:
            raise BabysitError(f"--hidden-choices {hidden!r}: give architectures separated by ';', "
                               "e.g. '100;100,100'")
        space["hidden"] = Choice(architectures)
    for key, text, allowed in (("activation", activations, ACTIVATIONS), ("init", inits, INITS),
                               ("optimizer", optimizers, OPTIMIZERS),
                               ("lr_schedule", schedules, SCHEDULES)):
        choice = _choices(text, f"{key.replace('_', '-')}-choices", allowed)
        if choice is not None:
            space[key] = choice
    return space


def _print_event(console: Console, kind: str, payload: Any) -> None:
    """One plain line per result, stage and warning."""
    from babysit.search.view import params_text, space_text, stop_reason

    if kind == "result":
        acc = payload.get("val_acc")
        line = (f"{payload['trial']} {payload['status']:9} val acc "
                f"{'-' if acc is None else f'{100 * acc:.1f}%':>6} {params_text(payload['params'])}")
        if payload["status"] != "completed":
            line += f" ({stop_reason(payload)})"  # why babysit stopped it, or how it failed
        console.print(line)
    elif kind == "stage":
        console.print(f"stage {payload['stage']}: {payload['trials']} trials x "
                      f"{payload['epochs']} epochs over {space_text(payload['space'])}")
    elif kind == "warning":
        console.print(f"warning: {payload}", soft_wrap=True)


def _interrupted(console: Console, progress: Progress, path: Path, report: bool) -> NoReturn:
    console.print(f"interrupted: {len(progress.rows)} finished trials kept in {path}; "
                  f"rerun with --resume --results {path}", soft_wrap=True)
    if report and progress.rows:
        print_report(console, path)
    raise typer.Exit(130)


def _opt(help_text: str) -> Any:
    return typer.Option(help=help_text, rich_help_panel=SEARCH)


@reports_errors
@run_options(defaults={"epochs": 5})
def search(
    config: Config,
    trials: Annotated[int, _opt("Trials in the coarse stage")] = 20,
    fine_epochs: Annotated[int, _opt("Epochs per trial in the fine stages")] = 20,
    fine_trials: Annotated[int | None, _opt(
        "Trials per fine stage [default: a third of the stage before, at least 3]")] = None,
    stages: Annotated[int, _opt("Stages: 1 coarse, then fine ones around the best")] = 2,
    lr_range: Annotated[str, _opt("Learning-rate range, sampled log-uniformly")] = "1e-5:1e-1",
    reg_range: Annotated[str, _opt("L2 range, sampled log-uniformly")] = "1e-6:1e-1",
    dropout_range: Annotated[str | None, _opt("Dropout range, e.g. 0:0.5 (uniform)")] = None,
    hidden_choices: Annotated[str | None, _opt("Architectures, e.g. '100;100,100;200'")] = None,
    activation_choices: Annotated[str | None, _opt("e.g. relu,tanh,elu")] = None,
    init_choices: Annotated[str | None, _opt("e.g. he,xavier")] = None,
    optimizer_choices: Annotated[str | None, _opt("e.g. adam,momentum")] = None,
    schedule_choices: Annotated[str | None, _opt("e.g. constant,step")] = None,
    results: Annotated[Path | None, _opt("Results JSONL [default: runs/search-<time>.jsonl]")] = None,
    resume: Annotated[bool, _opt("Continue the search in --results, skipping finished trials")] = False,
    workers: Annotated[int | None, _opt("Worker processes [default: number of cores]")] = None,
    scheduler: Annotated[str | None, _opt("Run trials on this dask.distributed scheduler")] = None,
    ensemble: Annotated[int, _opt("Average the top K models' predictions on validation")] = 0,
    live: Annotated[bool | None, typer.Option(
        "--live/--no-live", help="Live leaderboard [default: on a terminal]",
        show_default=False)] = None,
    report: Annotated[bool, typer.Option("--report", help=REPORT_HELP)] = False,
    fix: Annotated[bool, typer.Option("--fix", hidden=True)] = False,
    objective: Annotated[str | None, _opt(
        "Search your own training function instead: FILE.py:FUNCTION or MODULE:FUNCTION, "
        "train(config, trial) -> validation metric (docs/search.md)")] = None,
    range_: Annotated[list[str] | None, typer.Option(
        "--range", help="--objective: another range, NAME=LOW:HIGH or NAME=LOW:HIGH:log "
                        "(repeatable)", rich_help_panel=SEARCH)] = None,
    choices: Annotated[list[str] | None, _opt(
        "--objective: a choice, NAME=A,B,... (repeatable)")] = None,
    prune: Annotated[bool, typer.Option(
        "--prune/--no-prune", help="--objective: stop hopeless trials early (their findings "
                                   "say why)", rich_help_panel=SEARCH)] = True,
) -> None:
    """Coarse-to-fine random search over learning rate, L2 and more, with ensembles.

    A short coarse stage, then finer, longer stages around the best trials; all trials share
    the data split of --seed.

    With --objective, over your own training function: each trial babysat, and stopped early
    (pruned) when its findings say it is hopeless.
    """
    from babysit.api import prepare_data
    from babysit.search.runner import DaskRunner, LocalRunner
    from babysit.search.search import run_search, stage_plan
    from babysit.search.view import Progress, leaderboard

    if report:
        from babysit.report import check_available

        check_available()  # before the search, not after it
    if fix:  # asked for often enough to answer rather than "no such option"
        raise BabysitError("--fix is for babysit train: a search already tries many configurations "
                           "and stops diverging trials; run `babysit train --fix` on its best")
    if trials < 1 or stages < 1 or fine_epochs < 1 or ensemble < 0 or (
            fine_trials is not None and fine_trials < 1):
        raise BabysitError("--trials, --fine-trials, --stages and --fine-epochs must be "
                           "positive, --ensemble >= 0")
    if workers is not None and workers < 1:
        raise BabysitError(f"--workers must be at least 1, got {workers}")
    if resume and results is None:
        raise BabysitError("--resume needs --results PATH (the search to continue)")
    if objective is not None:
        from babysit.search.objective import load_objective
        from babysit.search.objective_search import objective_space, search_objective

        if ensemble:
            raise BabysitError("--ensemble averages babysit's own models' predictions; with "
                               "--objective the models are yours")
        load_objective(objective)  # a wrong path or name fails here, not in every worker
        space = objective_space(lr_range, range_ or [], choices or [])
    else:
        space = build_space(lr_range, reg_range, dropout_range, hidden_choices, activation_choices,
                            init_choices, optimizer_choices, schedule_choices)
        data = prepare_data(config)
    path = results or Path("runs") / f"search-{datetime.now().strftime('%Y%m%d-%H%M%S')}.jsonl"
    plan = stage_plan(trials, config.epochs, fine_epochs, stages, fine_trials)
    runner = DaskRunner(scheduler) if scheduler else LocalRunner(workers or os.cpu_count() or 1)

    def searched(on_event: Any) -> Outcome:
        if objective is not None:
            return search_objective(objective, space, plan, path, runner, config.seed, resume,
                                    on_event=on_event, prune=prune)
        return run_search(config, space, plan, data, path, runner, resume, ensemble, on_event)

    console = Console(highlight=False)
    progress = Progress(stages=len(plan))
    use_live = console.is_terminal if live is None else live
    outcome: Outcome | None = None
    # Ctrl-C / SIGTERM: running trials stop at their next step and finished ones are kept;
    # a second Ctrl-C kills the workers at once. The handler stays until the last line: a
    # signal after the last trial (the workers closing, the ensemble) lets the verdict and
    # the report be written instead of exiting 143 without them.
    with graceful_stop(lambda reason: runner.request_stop()):
        try:
            if use_live:
                with Live(leaderboard(progress, console.width), console=console,
                          refresh_per_second=4) as view:
                    def on_event(kind: str, payload: Any) -> None:
                        progress.event(kind, payload)
                        view.update(leaderboard(progress, console.width))

                    outcome = searched(on_event)
            else:
                def on_line(kind: str, payload: Any) -> None:
                    progress.event(kind, payload)
                    _print_event(console, kind, payload)

                outcome = searched(on_line)
        except KeyboardInterrupt:
            runner.close(cancel=True)
            _interrupted(console, progress, path, report)
        finally:
            runner.close()  # waits for the workers to exit: none is left behind, orphaned
        assert outcome is not None
        if outcome.interrupted:
            _interrupted(console, progress, path, report)
        _conclude(console, outcome, path, report, objective is None)


def _conclude(console: Console, outcome: Outcome, path: Path, report: bool, own: bool) -> None:
    """The search's last lines: the best trial, the ensemble, the results, the report."""
    from babysit.search.view import params_text, train_command

    best = outcome.best
    if best is None:
        console.print(f"no trial completed (see {path}); lower the learning-rate range", soft_wrap=True)
        if report:
            print_report(console, path)
        raise typer.Exit(1)
    console.print(f"best: {best['trial']} val acc {100 * best['val_acc']:.1f}% with "
                  f"{params_text(best['params'])}")
    if outcome.ensemble:
        e = outcome.ensemble
        if e.get("members"):
            console.print(f"ensemble of the top {len(e['members'])}: val acc {100 * e['val_acc']:.1f}% "
                          f"(best single model {100 * e['best_single_val_acc']:.1f}%)")
        if e.get("missing"):
            console.print(f"ensemble: left out {len(e['missing'])} trial(s) whose model file is missing "
                          f"or unreadable: {', '.join(e['missing'])}", soft_wrap=True)
    console.print(f"results: {path}", soft_wrap=True)
    if own and isinstance(best.get("config"), dict):  # babysit's own net: the command line
        console.print("train it again:", style="dim")
        console.print(train_command(best["config"]), soft_wrap=True)
    if report:
        print_report(console, path)
