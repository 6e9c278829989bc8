"""The search leaderboard: pure functions from the search's progress to Rich renderables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from babysit.dashboard.plot import plot_points

STATUS_STYLE = {"completed": "green", "diverged": "bold red", "hopeless": "yellow", "failed": "red"}


@dataclass
class Progress:
    """What the search has reported so far (fed by run_search's events)."""

    stage: int = 0
    stages: int = 1
    stage_trials: int = 0
    epochs: int = 0
    space: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    running: int = 0
    warnings: list[str] = field(default_factory=list)

    def event(self, kind: str, payload: Any) -> None:
        """Fold one search event in."""
        if kind == "stage":
            self.stage, self.stage_trials = payload["stage"], payload["trials"]
            self.epochs, self.space = payload["epochs"], payload["space"]
            self.running = 0
        elif kind == "running":
            self.running = payload
        elif kind == "result":
            self.rows.append(payload)
            self.running = max(0, self.running - 1)
        elif kind == "warning":
            self.warnings.append(payload)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def params_text(params: dict[str, Any]) -> str:
    """'lr=0.0364 reg=0.00061 hidden=100,100': 3 significant digits, no dict repr."""
    return " ".join(f"{k}={_fmt(v)}" for k, v in params.items() if k != "epochs")


def space_text(space: dict[str, Any]) -> str:
    """'lr 1e-05:0.1, reg 1e-06:0.1': a stage's ranges as typed."""
    return ", ".join(f"{k} {v}" for k, v in space.items())


def train_command(config: dict[str, Any]) -> str:
    """The `babysit train` line that trains this config again (options left at their
    defaults are not written; floats to 4 significant digits)."""
    from babysit.config import Config

    defaults = Config().to_dict()
    parts = ["babysit train"]
    for key, value in config.items():
        if key not in defaults or value == defaults[key] or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else f"--no-{key.replace('_', '-')}")
        elif isinstance(value, float):
            parts.append(f"{flag} {value:.4g}")
        else:
            parts.append(f"{flag} {_fmt(value)}")
    return " ".join(parts)


def leaderboard(progress: Progress, width: int = 100, top: int = 8) -> RenderableType:
    """Progress line, the best trials, scatters of validation accuracy against lr and reg."""
    done = [r for r in progress.rows if r["status"] == "completed" and r.get("val_acc") is not None]
    ranked = sorted(done, key=lambda r: -r["val_acc"])
    best = ranked[0]["val_acc"] if ranked else None
    stage_rows = [r for r in progress.rows if r["stage"] == progress.stage]
    head = Text(f"stage {progress.stage}/{progress.stages}: {len(stage_rows)}/"
                f"{progress.stage_trials} trials of {progress.epochs} epochs done, "
                f"{progress.running} running · {len(progress.rows)} trials in all · best val "
                f"acc {'-' if best is None else f'{100 * best:.1f}%'}", style="bold")
    ranges = Text("  ".join(f"{k} {v}" for k, v in progress.space.items()), style="dim")
    names = sorted({k for r in progress.rows for k in r["params"] if k != "epochs"})
    table = Table(expand=True, box=None, header_style="bold", padding=(0, 1))
    for col in ("trial", *names, "val acc", "status"):
        table.add_column(col, no_wrap=True)
    shown = ranked[:top] + [r for r in progress.rows if r["status"] != "completed"][-2:]
    for r in shown:
        table.add_row(r["trial"], *(_fmt(r["params"].get(n)) for n in names),
                      "-" if r.get("val_acc") is None else f"{100 * r['val_acc']:.1f}%",
                      Text(r["status"] if r["status"] == "completed" else stop_reason(r),
                           style=STATUS_STYLE.get(r["status"], "")))
    parts: list[RenderableType] = [head, ranges, table]
    plots = Table.grid(expand=True, padding=(0, 2))
    cells = []
    for name in ("lr", "reg"):
        pts = [(r["params"][name], r["val_acc"]) for r in done if name in r["params"]]
        if pts:
            rows, lo, hi = plot_points(pts, max(10, width // 2 - 12), 6, log_x=True,
                                       y_range=(0.0, 1.0), style="bright_cyan")
            label = Text(f"val acc vs {name} (log) {lo:.0e} .. {hi:.0e}", style="dim")
            cells.append(Group(label, *rows))
    if cells:
        for _ in cells:
            plots.add_column()
        plots.add_row(*cells)
        parts.append(plots)
    parts.extend(Text("warning: " + w, style="yellow") for w in progress.warnings)
    return Group(*parts)


def stop_reason(row: dict[str, Any]) -> str:
    """Why a trial did not complete, in a few words: the finding's rule that pruned it, 'at
    chance', or the objective's error (its type and the start of its message)."""
    status, reason = row.get("status"), str(row.get("reason") or "")
    if status == "failed":
        return reason if len(reason) <= 40 else reason[:39] + "…"
    rule, sep, _ = reason.partition(":")
    if sep and rule and rule.replace("-", "").isalpha() and rule.islower():  # "loss-nan: ..."
        return f"{rule}: stopped"
    return {"hopeless": "at chance: stopped", "diverged": "diverged: stopped"}.get(str(status), str(status))
