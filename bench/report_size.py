"""Report page size and time: babysit report on long logs, and the plotting libraries side by side.

Part 1 writes synthetic babysit logs (per-step loss and lr, three layers' statistics and
histograms every 10 steps, a NaN at the last step) and times `babysit.report.write` on them.
Part 2 draws the same curves (2000 points each, as the report thins them) as a self-contained
page with one plot and with nine, in matplotlib SVG (what babysit uses), Bokeh with inline
resources and plotly with plotly.js inlined: the fixed cost (script) and the cost per plot.

    pip install -e '.[dev]' bokeh plotly && python bench/report_size.py
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import babysit.report as report
from babysit.report.plots import figure, style, to_svg

POINTS = 2000


def synthetic_log(path: Path, steps: int, seed: int = 0) -> None:
    """A babysit-format log: a decaying noisy loss, lr steps, 3 layers every 10 steps."""
    rng = np.random.default_rng(seed)
    loss = 2.3 * np.exp(-np.arange(steps) / (steps / 5)) + 0.05 * rng.random(steps)
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps({"type": "header", "num_classes": 10, "activation": "relu"}) + "\n")
        for i in range(steps):
            rec: dict = {"step": i, "loss": "NaN" if i == steps - 1 else float(loss[i]),
                         "lr": 1e-3 * 0.5 ** (i * 4 // steps)}
            if i % 10 == 0:
                rec["layers"] = {f"fc{k}": {"weight_norm": 5.0, "grad_norm": float(rng.random()),
                                            "update_ratio": float(1e-3 * (1 + rng.random())),
                                            "act_mean": 0.3, "act_std": 0.5, "dead_frac": 0.05,
                                            "hist": {"lo": 0.0, "hi": 3.0,
                                                     "counts": rng.integers(0, 99, 16).tolist()}}
                                 for k in (1, 2, 3)}
            if i % 1000 == 999:
                rec.update(train_acc=0.5, val_acc=0.45, val_loss=float(loss[i]) + 0.1)
            fh.write(json.dumps(rec) + "\n")


def matplotlib_page(curves: int, x: np.ndarray, y: np.ndarray) -> int:
    svgs = []
    for _ in range(curves):
        with style():
            fig, ax = figure()
            ax.plot(x, y)
            ax.set_yscale("log")
            svgs.append(to_svg(fig))
    return len(("<!DOCTYPE html><html><body>" + "".join(svgs) + "</body></html>").encode())


def bokeh_page(curves: int, x: np.ndarray, y: np.ndarray) -> int:
    from bokeh.embed import file_html
    from bokeh.layouts import column
    from bokeh.plotting import figure as bfigure
    from bokeh.resources import INLINE

    plots = []
    for _ in range(curves):
        p = bfigure(width=700, height=240, y_axis_type="log")
        p.line(x, y)
        plots.append(p)
    return len(file_html(column(*plots), INLINE, "bench").encode())


def plotly_page(curves: int, x: np.ndarray, y: np.ndarray) -> int:
    import plotly.graph_objects as go

    out = io.StringIO()
    parts = []
    for i in range(curves):
        fig = go.Figure(go.Scatter(x=x, y=y))
        fig.update_yaxes(type="log")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    out.write("<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>")
    return len(out.getvalue().encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    import matplotlib

    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, matplotlib {matplotlib.__version__}")
    print("\n| steps | log (gzip) | report page | seconds |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for steps in args.steps:
            log = Path(tmp) / f"run{steps}.jsonl.gz"
            synthetic_log(log, steps)
            start = time.perf_counter()
            out = report.write(log, Path(tmp) / f"run{steps}.html")
            seconds = time.perf_counter() - start
            print(f"| {steps:,} | {log.stat().st_size / 2**20:.1f} MB | "
                  f"{out.stat().st_size / 2**20:.2f} MB | {seconds:.1f} |")
    x = np.arange(POINTS, dtype=float)
    y = 2.3 * np.exp(-x / 500) + 0.05 * np.random.default_rng(0).random(POINTS)
    print("\n| library | 1 plot | 9 plots | per plot |\n|---|---|---|---|")
    for name, page in (("matplotlib SVG (babysit)", matplotlib_page), ("Bokeh, inline", bokeh_page),
                       ("plotly, plotly.js inline", plotly_page)):
        try:
            one, nine = page(1, x, y), page(9, x, y)
        except ImportError as exc:
            print(f"| {name} | not installed ({exc.name}) | | |")
            continue
        print(f"| {name} | {one / 2**20:.2f} MB | {nine / 2**20:.2f} MB | "
              f"{(nine - one) / 8 / 2**10:.0f} KB |")


if __name__ == "__main__":
    main()
