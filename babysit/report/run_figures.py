"""The lecture's plots of one run: loss, accuracy, validation loss, learning rate, per-layer
statistics and activation histograms. Each function returns a Panel, or a Missing that says what
the log lacks (a page never draws an empty plot)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from babysit.diagnostics.targets import TARGET_UPDATE_RATIO
from babysit.report.plots import Marker, figure, log_scale_if_positive, style, time_axes_svg, to_svg
from babysit.report.series import RunSeries, smooth, thin

CURVE_POINTS = 2000  # points drawn per curve: the page stays small for any length of run
HIST_STEPS = 4  # rows of the histogram figure: the first sampled step and three later ones
MAX_HIST_LAYERS = 8
TARGET_RATIO = TARGET_UPDATE_RATIO


@dataclass(frozen=True)
class Panel:
    """One drawn figure of the page."""

    id: str
    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class Missing:
    """A panel the input cannot support, and why."""

    title: str
    reason: str


def loss_panel(s: RunSeries, markers: list[Marker], classes: int | None) -> Panel | Missing:
    """Loss per step, raw and smoothed, log scale, with log(C) and the findings marked."""
    loss = np.asarray(s.loss)
    finite = loss[np.isfinite(loss)]
    if len(finite) < 2:
        return Missing("Loss", "the log has fewer than two finite loss values")
    with style():
        fig, ax = figure(height=2.8)
        x, raw = thin(s.steps, s.loss, CURVE_POINTS)
        window = max(1, len(s.loss) // 100)  # ~100 windows across the run, whatever its length
        ax.plot(x, raw, color="#9ecae1" if window > 1 else "#08519c",
                linewidth=0.6 if window > 1 else 1.2, label="loss (raw)" if window > 1 else "loss")
        if window > 1:
            xs, ys = thin(s.steps, smooth(s.loss, window), CURVE_POINTS)
            ax.plot(xs, ys, color="#08519c", linewidth=1.6, label=f"mean of last {window}")
        log_scale_if_positive(ax, finite)
        if classes:
            # named in the legend beside the plot: written on the line, the curve crossed it
            ax.axhline(math.log(classes), color="#555555", linestyle=":", linewidth=1,
                       label=f"log(C) = {math.log(classes):.2f}")
        if s.first_nonfinite is not None:
            ax.axvline(s.first_nonfinite, color="#d62728", linewidth=2, alpha=0.5)
            ax.annotate("loss not finite", (s.first_nonfinite, 0.5), xycoords=("data", "axes fraction"),
                        color="#d62728", rotation=90, ha="right", fontsize=7.5)
        svg = time_axes_svg(fig, ax, "loss", markers, legend=True)
    return Panel("loss", "Loss", svg, "Training loss per logged step; numbered lines mark where "
                 "each finding starts (hover for it). The dotted line is the expected initial "
                 "softmax loss log(C)." if classes else "Training loss per logged step; numbered "
                 "lines mark where each finding starts (hover for it).")


DOT_POINTS = 200  # epoch curves get a dot per epoch up to this many


def _thinned(series: tuple[list[int], list[float]] | None) -> tuple[Any, Any] | None:
    """An epoch series thinned for drawing like the step curves (12,500 epochs drew 5 MB)."""
    return thin(*series, CURVE_POINTS) if series and len(series[0]) else None


def accuracy_panel(s: RunSeries, markers: list[Marker], classes: int | None) -> Panel | Missing:
    """Train and validation accuracy at each epoch end, the gap shaded."""
    train, val = _thinned(s.epochs.get("train_acc")), _thinned(s.epochs.get("val_acc"))
    if not train and not val:
        return Missing("Accuracy", "the log has no train_acc or val_acc")
    with style():
        fig, ax = figure()
        for key, series, color in (("train", train, "#1f77b4"), ("validation", val, "#ff7f0e")):
            if series:
                dots = {"marker": "o", "markersize": 2.5} if len(series[0]) <= DOT_POINTS else {}
                ax.plot(*series, color=color, label=f"{key} accuracy", **dots)
        if train and val:
            common = sorted(set(train[0]) & set(val[0]))
            t, v = dict(zip(*train, strict=True)), dict(zip(*val, strict=True))
            if common:
                ax.fill_between(common, [t[c] for c in common], [v[c] for c in common],
                                color="#ff7f0e", alpha=0.15, label="gap")
                gap = t[common[-1]] - v[common[-1]]
                ax.set_title(f"final gap (train - val): {gap:+.3f}", loc="right", fontsize=8)
        if classes:
            ax.axhline(1 / classes, color="#555555", linestyle=":", linewidth=1, label="chance 1/C")
        # The whole range: zoomed to the data, a run stuck between 9.3% and 10% looked like one
        # with a wide gap. Percent logs (values above 1) get 0-100.
        values = [y for series in (train, val) if series for y in series[1] if np.isfinite(y)]
        ax.set_ylim(0, 100 if values and max(values) > 1 else 1)
        svg = time_axes_svg(fig, ax, "accuracy", markers, legend=True)
    return Panel("accuracy", "Accuracy", svg, "At each epoch end. A big gap is overfitting; "
                 "no gap and low accuracy, too little capacity.")


def val_loss_panel(s: RunSeries, markers: list[Marker]) -> Panel | Missing:
    """Validation loss per epoch, beside the training loss's smoothed curve."""
    val = _thinned(s.epochs.get("val_loss"))
    if not val:
        return Missing("Validation loss", "the log has no val_loss")
    with style():
        fig, ax = figure()
        dots = {"marker": "o", "markersize": 2.5} if len(val[0]) <= DOT_POINTS else {}
        ax.plot(*val, color="#ff7f0e", label="validation loss", **dots)
        if len(s.loss) >= 2:
            window = max(1, len(s.loss) // 50)
            x, y = thin(s.steps, smooth(s.loss, window), CURVE_POINTS)
            ax.plot(x, y, color="#1f77b4", alpha=0.7, label="training loss (smoothed)")
        log_scale_if_positive(ax, np.concatenate((val[1], np.asarray(s.loss))))  # NaNs are skipped
        svg = time_axes_svg(fig, ax, "loss", markers, legend=True)
    return Panel("val-loss", "Validation loss", svg, "Validation loss rising while training loss "
                 "falls is overfitting.")


def lr_panel(s: RunSeries, markers: list[Marker]) -> Panel | Missing:
    """The learning rate per step."""
    if not s.lr:
        return Missing("Learning rate", "the log has no lr")
    if min(s.lr) == max(s.lr):
        return Missing("Learning rate", f"constant at {s.lr[0]:g} over the run (nothing to draw)")
    with style():
        fig, ax = figure(height=1.8)
        x, y = thin(s.lr_steps, s.lr, CURVE_POINTS)
        ax.plot(x, y, color="#2ca02c", drawstyle="steps-post")
        log_scale_if_positive(ax, y)
        svg = time_axes_svg(fig, ax, "learning rate", markers, label_markers=False)
    return Panel("lr", "Learning rate", svg)


def histogram_panel(s: RunSeries) -> Panel | Missing:
    """The lecture's depth figure: each hidden layer's activation histogram, side by side, at
    the first sampled step and at later ones."""
    every = [n for n, h in s.hists.items() if h]
    # Too many to read side by side: evenly spaced layers, the first and the last among them.
    names = every if len(every) <= MAX_HIST_LAYERS else \
        [every[round(i * (len(every) - 1) / (MAX_HIST_LAYERS - 1))] for i in range(MAX_HIST_LAYERS)]
    if not names:
        return Missing("Activation histograms", "the log has no per-layer histograms (`hist`)")
    steps = sorted({h.step for n in names for h in s.hists[n]})
    picks = sorted({steps[round(i * (len(steps) - 1) / (HIST_STEPS - 1))] for i in range(HIST_STEPS)})
    by_step = {n: {h.step: h for h in s.hists[n]} for n in names}
    with style():
        fig, axes = figure(len(picks), len(names), height=1.25, sharey="row")
        axes = np.asarray(axes).reshape(len(picks), len(names))
        for r, step in enumerate(picks):
            for c, name in enumerate(names):
                ax = axes[r, c]
                ax.grid(False)
                h = by_step[name].get(step)
                if h is None:
                    ax.set_axis_off()
                    continue
                total = sum(h.counts) or 1.0
                edges = np.linspace(h.lo, h.hi if h.hi > h.lo else h.lo + 1e-12, len(h.counts) + 1)
                ax.stairs(np.asarray(h.counts) / total, edges, fill=True, color="#4c72b0")
                ax.tick_params(labelsize=6.5)
                ax.set_yticks([])
                # Each its own range (the outputs' own, as logged): its ends, said as numbers
                ax.set_xticks([edges[0], edges[-1]], [f"{edges[0]:.2g}", f"{edges[-1]:.2g}"])
                if r == 0:
                    ax.set_title(name if len(name) <= 20 else name[:19] + "…", fontsize=8.5)
                if c == 0:
                    ax.set_ylabel(f"step {step}", fontsize=7.5)
        svg = to_svg(fig)
    more = f" ({len(names)} of {len(every)} layers, evenly spaced)" if len(every) > len(names) else ""
    return Panel("histograms", "Activation histograms by layer", svg,
                 "Outputs of each layer (columns, input side first) at the first sampled step "
                 f"and later ones (rows){more}. The lecture's picture: with a good init every "
                 "layer keeps a spread; too small and deeper layers collapse to 0 (their range "
                 "shrinks: read the numbers under each); too large and tanh/sigmoid units pile "
                 "up at the ends of their range.")
