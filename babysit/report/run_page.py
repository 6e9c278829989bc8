"""One run's section of the report: its header, findings (root cause first, numbered as on the
curves), the lecture's plots, and what the log lacks."""

from __future__ import annotations

from html import escape
from typing import Any

from babysit.diagnostics.engine import Report
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.rules import RULES_BY_ID
from babysit.diagnostics.unchecked import unchecked_line
from babysit.report import layer_figures, run_figures
from babysit.report.findings import findings_html
from babysit.report.page import bullet_list, figure_html, kv_grid
from babysit.report.plots import Marker
from babysit.report.run_figures import Missing
from babysit.report.series import RunSeries
from babysit.text import mask_secrets, mask_value, visible_all

_HEADER_KEYS = ("run_id", "started_at", "num_classes", "activation", "loss_fn", "optimizer", "lr",
                "num_params", "steps_per_epoch", "seed")
_FINAL_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc")


def markers(findings: list[Finding]) -> list[Marker]:
    """A marker per finding, numbered in list order, with its hover text."""
    return [Marker(i, f.step, f.severity, f"{i}. {f.severity} {f.rule} ({f.steps}): {f.message}")
            for i, f in enumerate(findings, start=1)]


def header_html(series: RunSeries, report: Report, fmt: str) -> str:
    """The run's header, config and outcome as tables."""
    h, s = series.header, series.summary
    status = s.get("status")
    out = []
    if status:
        out.append(f'<p>status <b class="status-{escape(str(status))}">{escape(str(status))}</b>'
                   + (f" ({escape(str(s['reason']))})" if s.get("reason") else "") + "</p>")
    items: list[tuple[str, Any]] = [("format", fmt), ("records", report.records), ("steps", report.steps)]
    items += [(k, h.get(k)) for k in _HEADER_KEYS if not isinstance(h.get(k), (dict, list))]
    items += [("epochs", s.get("epochs")), ("wall time (s)", s.get("wall_time"))]
    items += [(f"final {k}", s.get(k)) for k in _FINAL_KEYS]
    if not s:
        items += [(f"last {k}", ys[-1]) for k, (_, ys) in series.epochs.items()]
    out.append(kv_grid([(k, mask_value(v)) for k, v in items]))
    for key in ("config", "dataset", "model"):
        if isinstance(h.get(key), dict) and h[key]:
            shown, hidden = mask_secrets(visible_all(h[key]))
            note = (f"<p class='note'>values of {len(hidden)} key(s) that look secret are not "
                    f"shown: {escape(', '.join(hidden))}</p>") if hidden else ""
            out.append(f"<details><summary>{key}</summary>"
                       f"{kv_grid(list(shown.items()))}{note}</details>")
    return "".join(out)


def run_section(name: str, fmt: str, series: RunSeries, report: Report, notes: list[str],
                classes: int | None) -> str:
    """The whole section for one run."""
    marks = markers(report.findings)
    classes = classes or series.num_classes
    low = RULES_BY_ID["update-ratio-low"].thresholds["low"]
    high = RULES_BY_ID["update-ratio-high"].thresholds["high"]
    panels = [run_figures.loss_panel(series, marks, classes),
              run_figures.accuracy_panel(series, marks, classes),
              run_figures.val_loss_panel(series, marks),
              run_figures.lr_panel(series, marks),
              layer_figures.update_ratio_panel(series, marks, low, high),
              layer_figures.grad_norm_panel(series, marks),
              layer_figures.activation_panel(series, marks),
              layer_figures.dead_saturated_panel(series, marks),
              layer_figures.first_layer_panel(series),
              run_figures.histogram_panel(series)]
    missing = [p for p in panels if isinstance(p, Missing)]
    drawn = [p for p in panels if not isinstance(p, Missing)]
    out = [f'<section class="run" data-run="{escape(name)}"><h2>Run {escape(name)}</h2>',
           header_html(series, report, fmt), "<h3>Findings</h3>", findings_html(report)]
    unchecked = unchecked_line(report.not_checked)
    if unchecked is not None:
        out.append(f'<p class="notes">{escape(unchecked)}.</p>')
    if notes:
        out.append(bullet_list("notes", [f"note: {n}" for n in notes]))
    out += [figure_html(p.id, p.title, p.svg, p.caption) for p in drawn]  # type: ignore[union-attr]
    if missing:
        by_reason: dict[str, list[str]] = {}  # panels missing for one reason share a line
        for m in missing:
            by_reason.setdefault(m.reason, []).append(m.title)
        out.append("<h3>Not drawn</h3>")
        out.append(bullet_list("missing", [f"{', '.join(titles)}: {reason}"
                                           for reason, titles in by_reason.items()]))
    out.append("</section>")
    return "\n".join(out)
