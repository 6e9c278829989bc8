"""A search's plots: the lecture's lr-vs-reg scatter coloured by validation accuracy, and the
best trials' curves overlaid."""

from __future__ import annotations

import math
from typing import Any

from babysit.report.plots import figure, log_axis, style, to_svg
from babysit.report.run_figures import CURVE_POINTS, Missing, Panel
from babysit.report.series import RunSeries, smooth, thin

STAGE_MARKERS = ("o", "s", "^", "D", "v", "P")
FAILED_STYLE = {"diverged": ("x", "#d62728"), "hopeless": ("x", "#999999"), "failed": ("+", "#555555")}


def stage_of(row: dict[str, Any]) -> int:
    """The row's stage number (1 when the row does not say)."""
    stage = row.get("stage")
    return stage if isinstance(stage, int) and not isinstance(stage, bool) and stage >= 1 else 1


def _positive(row: dict[str, Any], key: str) -> float | None:
    config = row.get("config") if isinstance(row.get("config"), dict) else {}
    value = row["params"].get(key, config.get(key))  # type: ignore[union-attr]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0 else None


def scatter_panel(rows: list[dict[str, Any]],
                  stage_ranges: dict[int, tuple[tuple[float, float], tuple[float, float]]] | None = None
                  ) -> Panel | Missing:
    """Each trial at (lr, reg) on log axes, coloured by validation accuracy, a marker per stage;
    diverged and hopeless trials as crosses; the best one ringed; later stages' ranges boxed."""
    from matplotlib.patches import Rectangle

    points = [(r, _positive(r, "lr"), _positive(r, "reg")) for r in rows]
    points = [(r, lr, reg) for r, lr, reg in points if lr is not None and reg is not None]
    if not points:  # a search over the user's model: its own knobs, maybe no L2 among them
        return accuracy_by_lr_panel(rows)
    done = [(r, lr, reg) for r, lr, reg in points
            if r.get("val_acc") is not None and r["status"] == "completed"]
    with style():
        fig, ax = figure(height=4.2)
        accs = [r["val_acc"] for r, _, _ in done]
        vmin, vmax = (min(accs), max(accs)) if accs else (0.0, 1.0)
        mappable = None
        for stage in sorted({stage_of(r) for r, _, _ in done}):
            chosen = [(r, lr, reg) for r, lr, reg in done if stage_of(r) == stage]
            mappable = ax.scatter([lr for _, lr, _ in chosen], [reg for _, _, reg in chosen],
                                  c=[r["val_acc"] for r, _, _ in chosen], cmap="viridis",
                                  vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1e-9,
                                  marker=STAGE_MARKERS[(stage - 1) % len(STAGE_MARKERS)], s=34,
                                  edgecolors="#333333", linewidths=0.4, label=f"stage {stage}")
        for status, (marker, color) in FAILED_STYLE.items():
            failed = [(lr, reg) for r, lr, reg in points if r["status"] == status]
            if failed:
                ax.scatter(*zip(*failed, strict=True), marker=marker, color=color, s=30, label=status)
        if done:
            best, lr, reg = max(done, key=lambda p: p[0]["val_acc"])
            ax.scatter([lr], [reg], s=220, facecolors="none", edgecolors="#d62728", linewidths=1.5)
            ax.annotate(f"best {best['val_acc']:.3f}", (lr, reg), xytext=(8, 8),
                        textcoords="offset points", color="#d62728", fontsize=8)
        for n, (lr_range, reg_range) in sorted((stage_ranges or {}).items()):
            if n > 1:  # stage 1 is the whole plot; later ones show where the search narrowed
                ax.add_patch(Rectangle((lr_range[0], reg_range[0]), lr_range[1] - lr_range[0],
                                       reg_range[1] - reg_range[0], fill=False, linestyle="--",
                                       edgecolor="#777777", linewidth=0.8))
                ax.annotate(f"stage {n} ranges", (lr_range[0], reg_range[1]), fontsize=7,
                            color="#777777", xytext=(2, -9), textcoords="offset points")
        log_axis(ax, "x")
        log_axis(ax, "y")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("regularization strength")
        ax.legend(loc="center left", bbox_to_anchor=(1.18, 0.5))
        if mappable is not None:
            fig.colorbar(mappable, ax=ax, label="validation accuracy")
        svg = to_svg(fig)
    return Panel("search-scatter", "Learning rate vs regularization", svg,
                 "Each trial, coloured by validation accuracy (the lecture's figure); marker shape "
                 "is the stage: later stages search the narrowed ranges around the best ones.")


def accuracy_by_lr_panel(rows: list[dict[str, Any]]) -> Panel | Missing:
    """Each trial's validation accuracy against its learning rate (log axis), a marker per
    stage; stopped trials as crosses along the bottom, where they scored nothing."""
    points = [(r, lr) for r in rows if (lr := _positive(r, "lr")) is not None]
    if not points:
        return Missing("Learning rate vs validation accuracy", "no trial has a positive lr")
    done = [(r, lr) for r, lr in points if r.get("val_acc") is not None and r["status"] == "completed"]
    with style():
        fig, ax = figure(height=3.2)
        for stage in sorted({stage_of(r) for r, _ in done}):
            chosen = [(r, lr) for r, lr in done if stage_of(r) == stage]
            ax.scatter([lr for _, lr in chosen], [r["val_acc"] for r, _ in chosen], s=30,
                       marker=STAGE_MARKERS[(stage - 1) % len(STAGE_MARKERS)],
                       edgecolors="#333333", linewidths=0.4, label=f"stage {stage}")
        for status, (marker, color) in FAILED_STYLE.items():
            stopped = [lr for r, lr in points if r["status"] == status]
            if stopped:
                ax.scatter(stopped, [0.0] * len(stopped), marker=marker, color=color, s=30,
                           label=f"{status} (stopped)" if status != "failed" else status)
        ax.set_ylim(-0.04, 1.02)
        log_axis(ax, "x")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("validation accuracy")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        svg = to_svg(fig)
    return Panel("search-lr", "Learning rate vs validation accuracy", svg,
                 "Each trial at its learning rate (log scale); crosses on the bottom line are "
                 "trials babysit stopped (diverged, at chance) or that failed: the table below "
                 "says why.")


def parse_range(text: Any) -> tuple[float, float] | None:
    """'1e-5:0.1' (as a stage record writes a range) -> (1e-5, 0.1); None for anything else."""
    try:
        lo, hi = (float(part) for part in str(text).split(":"))
    except ValueError:
        return None
    return (lo, hi) if 0 < lo <= hi and math.isfinite(hi) else None


def best_curves_panel(curves: list[tuple[str, RunSeries]]) -> Panel | Missing:
    """Validation accuracy and training loss of the best trials, overlaid."""
    curves = [(label, s) for label, s in curves if s.epochs.get("val_acc") or len(s.loss) >= 2]
    if not curves:
        return Missing("Best trials' curves", "the best trials' logs were not found or hold no curves")
    with style():
        fig, axes = figure(1, 2, height=3.4)
        for label, s in curves:
            line = None
            if len(s.loss) >= 2:
                x, y = thin(s.steps, smooth(s.loss, max(1, len(s.loss) // 50)), CURVE_POINTS // 4)
                (line,) = axes[0].plot(x, y, linewidth=1, label=label)
            val = s.epochs.get("val_acc")
            if val:
                axes[1].plot(*val, marker="o", markersize=2, linewidth=1, label=label,
                             color=line.get_color() if line is not None else None)
        log_axis(axes[0], "y")
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("training loss (smoothed)")
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("validation accuracy")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
        svg = to_svg(fig)
    return Panel("search-best", "Best trials", svg, "The best trials' training loss and "
                 "validation accuracy, overlaid.")
