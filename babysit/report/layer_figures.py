"""Per-layer statistics over time: update/weight ratio against the lecture's 1e-3, gradient
norms, activation mean and std, dead and saturated fractions (one line per layer)."""

from __future__ import annotations

import math
from typing import Any

from babysit.report.plots import (
    Marker,
    figure,
    log_scale_if_positive,
    mark_findings,
    style,
    time_axes_svg,
    titles,
    to_svg,
)
from babysit.report.run_figures import CURVE_POINTS, TARGET_RATIO, Missing, Panel
from babysit.report.series import RunSeries, thin

LAYER_POINTS = CURVE_POINTS // 2  # several lines share a plot
NO_LAYERS = ("the log has no per-layer statistics (babysit train and babysit.torch.Monitor "
             "write them; see docs/log-format.md)")


def _lines(ax: Any, s: RunSeries, key: str, floor: float | None = None) -> list[float]:
    """One line per layer that has `key`, values of 0 drawn at `floor` (a log axis has no 0);
    returns every drawn value (for the scale)."""
    import numpy as np

    drawn: list[float] = []
    names = s.layer_names(key)
    cmap = _colors(len(names))
    for name, color in zip(names, cmap, strict=True):
        x, y = thin(*s.layers[name][key], LAYER_POINTS)
        if floor is not None:
            y = np.where(y == 0, floor, y)
        ax.plot(x, y, color=color, label=legend_label(name), linewidth=1)
        drawn.extend(y.tolist())
    if names:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), ncols=1 if len(names) <= 12 else 2)
    return drawn


def zero_floor(s: RunSeries, key: str) -> float | None:
    """Where a 0 of `key` is drawn on its log axis: a decade under the smallest positive value
    (a layer that did not move at all is the news, and matplotlib drops it); None without 0s."""
    values = [v for name in s.layer_names(key) for v in s.layers[name][key][1]]
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive or 0 not in values:
        return None
    return min(positive) / 10


ZERO_NOTE = " Values of 0 (no change at all) are drawn on the dotted bottom line."


def legend_label(name: str) -> str:
    """A layer name as a legend shows it: at most 40 characters, never hidden (matplotlib drops
    labels that start with an underscore)."""
    name = name if len(name) <= 40 else name[:39] + "…"
    return " " + name if name.startswith("_") else name


def _colors(n: int) -> list[Any]:
    """Distinct colours, input side dark to output side light (depth reads as a gradient)."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * i / max(1, n - 1)) for i in range(n)]


def update_ratio_panel(s: RunSeries, markers: list[Marker], low: float, high: float) -> Panel | Missing:
    """Update/weight ratio per layer, log scale, with the 1e-3 target and the rules' limits."""
    if not s.layer_names("update_ratio"):
        return Missing("Update / weight ratio", NO_LAYERS if not s.layers else
                       "the per-layer statistics have no update_ratio")
    with style():
        fig, ax = figure(height=2.6)
        floor = zero_floor(s, "update_ratio")
        drawn = _lines(ax, s, "update_ratio", floor)
        if floor is not None:
            ax.axhline(floor, color="#777777", linestyle=":", linewidth=1)
        ax.axhspan(TARGET_RATIO / 10, TARGET_RATIO * 10, color="#2ca02c", alpha=0.08)
        ax.axhline(TARGET_RATIO, color="#2ca02c", linestyle="--", linewidth=1)
        values = [v for v in drawn if v > 0] + [TARGET_RATIO / 10, TARGET_RATIO * 10]
        for limit in (low, high):
            if min(values) / 3 <= limit <= max(values) * 3:
                ax.axhline(limit, color="#d62728", linestyle=":", linewidth=1)
        log_scale_if_positive(ax, values)
        svg = time_axes_svg(fig, ax, "||update|| / ||W||", markers)
    return Panel("update-ratio", "Update / weight ratio per layer", svg,
                 f"The lecture's target is about {TARGET_RATIO:g} (dashed; shaded a decade either "
                 f"side). Red dotted lines are where babysit's rules warn ({low:g} and {high:g})."
                 + (ZERO_NOTE if floor is not None else ""))


def grad_norm_panel(s: RunSeries, markers: list[Marker]) -> Panel | Missing:
    """Gradient norm per layer, log scale."""
    if not s.layer_names("grad_norm"):
        return Missing("Gradient norms", NO_LAYERS if not s.layers else
                       "the per-layer statistics have no grad_norm")
    with style():
        fig, ax = figure()
        floor = zero_floor(s, "grad_norm")
        drawn = _lines(ax, s, "grad_norm", floor)
        if floor is not None:
            ax.axhline(floor, color="#777777", linestyle=":", linewidth=1)
        log_scale_if_positive(ax, drawn)
        svg = time_axes_svg(fig, ax, "||dW||", markers)
    return Panel("grad-norm", "Gradient norm per layer", svg, "Norms shrinking toward the input "
                 "side are vanishing gradients; sudden growth comes before an explosion."
                 + (ZERO_NOTE if floor is not None else ""))


def activation_panel(s: RunSeries, markers: list[Marker]) -> Panel | Missing:
    """Activation mean and std per layer over time (two plots)."""
    if not s.layer_names("act_mean") and not s.layer_names("act_std"):
        return Missing("Activation mean and std", NO_LAYERS if not s.layers else
                       "the per-layer statistics have no act_mean / act_std")
    with style():
        fig, axes = figure(1, 2, height=2.4)
        for ax, key, label in ((axes[0], "act_mean", "mean"), (axes[1], "act_std", "std")):
            _lines(ax, s, key)
            ax.set_xlabel("step")
            ax.set_ylabel(f"activation {label}")
            mark_findings(ax, markers, label=False)
        if axes[0].get_legend() is not None and axes[1].get_legend() is not None:
            axes[0].get_legend().remove()
        svg = to_svg(fig, titles(markers))
    return Panel("activations", "Activation mean and std per layer", svg, "A std falling to 0 "
                 "layer after layer is the lecture's vanishing activations (init too small).")


def dead_saturated_panel(s: RunSeries, markers: list[Marker]) -> Panel | Missing:
    """Dead (ReLU) and saturated (tanh/sigmoid) unit fractions per layer."""
    keys = [k for k in ("dead_frac", "sat_frac") if s.layer_names(k)]
    if not keys:
        return Missing("Dead and saturated units", NO_LAYERS if not s.layers else
                       "the per-layer statistics have no dead_frac / sat_frac (ReLU and "
                       "tanh/sigmoid layers have them)")
    with style():
        fig, axes = figure(1, len(keys), height=2.2)
        axes = list(axes) if len(keys) > 1 else [axes]
        for ax, key in zip(axes, keys, strict=True):
            _lines(ax, s, key)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("step")
            ax.set_ylabel("dead fraction" if key == "dead_frac" else "saturated fraction")
            mark_findings(ax, markers, label=False)
        svg = to_svg(fig, titles(markers))
    return Panel("dead-saturated", "Dead and saturated units per layer", svg,
                 "Dead: ReLU units that output 0 for a whole batch. Saturated: tanh/sigmoid "
                 "outputs pinned near their limits, where gradients vanish.")


FILTER_COLUMNS = 8
MIN_IMAGE_SIDE = 4  # 2 or 9 features are coordinates or a table, not a picture


def first_layer_panel(s: RunSeries) -> Panel | Missing:
    """The first layer's weights at the end, one small image per unit (the lecture's picture)."""
    first = s.summary.get("first_layer")
    weights = first.get("weights") if isinstance(first, dict) else None
    if not isinstance(weights, list) or not weights:
        return Missing("First-layer weights", "the run's summary has no first_layer (babysit "
                       "train and babysit.torch.Monitor write it at the end)")
    import numpy as np

    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        return Missing("First-layer weights", "the summary's first_layer is not a table of numbers")
    if w.ndim != 2 or not np.isfinite(w).all():
        return Missing("First-layer weights", "the summary's first_layer is not finite numbers")
    shape = _image_shape(first.get("image_shape"), w.shape[1])
    if shape is None:  # two spiral coordinates drawn as two grey pixels say nothing
        return Missing("First-layer weights", f"the inputs are {w.shape[1]} features, not an image "
                       "(the lecture's picture of first-layer filters is of image inputs)")
    rows = -(-len(w) // FILTER_COLUMNS)
    with style():
        fig, axes = figure(rows, FILTER_COLUMNS, height=0.9)
        for k, ax in enumerate(np.asarray(axes).reshape(-1)):
            ax.set_axis_off()
            if k < len(w):
                unit = w[k] - w[k].min()
                unit = unit / unit.max() if unit.max() > 0 else unit  # each unit on its own scale
                ax.imshow(unit.reshape(shape), cmap="gray", aspect="equal", interpolation="nearest")
        svg = to_svg(fig)
    units = first.get("units")
    return Panel("first-layer", "First-layer weights", svg,
                 f"{len(w)} of {units} units, each scaled to its own range. Smooth, structured "
                 "patterns are a net that trained; noise is one that did not (too high a "
                 "learning rate, too little regularization, or too little training).")


def _image_shape(shape: Any, inputs: int) -> tuple[int, ...] | None:
    """How to draw one unit's weights: the inputs' image shape, a square, or None (not an image)."""
    if isinstance(shape, list) and len(shape) == 3 and all(isinstance(d, int) and d > 0 for d in shape):
        h, w, c = shape
        if h * w * c == inputs:
            return (h, w) if c == 1 else (h, w, c) if c == 3 else None
    side = math.isqrt(inputs)  # a square of at least 4 x 4 (digits are 8 x 8) is read as one
    return (side, side) if side * side == inputs and side >= MIN_IMAGE_SIDE else None
