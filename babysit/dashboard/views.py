"""The dashboard's panels: pure functions from a Snapshot (and the engine's findings) to Rich
renderables. Nothing here computes a diagnosis; findings arrive ready-made."""

from __future__ import annotations

import math
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from babysit.dashboard.plot import plot_lines, sparkline
from babysit.dashboard.state import Snapshot
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.rules import provisional
from babysit.diagnostics.targets import TARGET_UPDATE_RATIO

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
TARGET_RATIO = TARGET_UPDATE_RATIO


def _fmt(value: object, spec: str = ".3g") -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec) if math.isfinite(value) else str(value)
    return "-"


def _pct(value: object) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) else "-"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}" if m else f"{seconds:.1f}s"


def header_panel(snap: Snapshot, width: int) -> RenderableType:
    """What is training, where it logs, and how far it is."""
    h = snap.header or {}
    cfg = h.get("config") or {}
    ds = h.get("dataset") or {}
    if cfg:
        hidden = "-".join(str(x) for x in cfg.get("hidden", []))
        what = (f"{ds.get('name', '?')} {tuple(ds.get('X_train', []))} · {hidden} "
                f"{cfg.get('activation')} · {cfg.get('init')} init"
                f"{' · batchnorm' if cfg.get('batchnorm') else ''}"
                f"{' · dropout ' + _fmt(cfg.get('dropout')) if cfg.get('dropout') else ''} · "
                f"{cfg.get('optimizer')} lr {_fmt(cfg.get('lr'), 'g')} · reg {_fmt(cfg.get('reg'), 'g')}")
    elif h.get("optimizer") or h.get("model"):  # the PyTorch Monitor's header
        model = str(h.get("model") or "a model").split("(")[0].strip()
        parts = [model]
        if isinstance(h.get("num_params"), int):
            parts.append(f"{h['num_params']:,} parameters")
        if h.get("activation"):
            parts.append(str(h["activation"]))
        if h.get("optimizer"):
            parts.append(f"{h['optimizer']} lr {_fmt(h.get('lr'), 'g')}"
                         + (f" · weight decay {_fmt(h['weight_decay'], 'g')}"
                            if h.get("weight_decay") else ""))
        what = " · ".join(parts)
    else:
        what = "a run" + (f" ({h['activation']})" if h.get("activation") else "")
    line1 = Text(what, style="bold", no_wrap=True, overflow="ellipsis")
    rate = f"{snap.rate:,.0f} it/s" if snap.rate else "- it/s"
    progress: RenderableType
    if snap.total_steps:
        done = min(snap.step + 1, snap.total_steps)
        eta = (snap.total_steps - done) / snap.rate if snap.rate else math.nan
        epoch = (snap.last or {}).get("epoch")
        of = f"/{cfg['epochs']}" if isinstance(cfg.get("epochs"), int) else ""
        epoch_text = f"  epoch {epoch + 1}{of}" if isinstance(epoch, int) else ""
        info = (f" step {done}/{snap.total_steps}{epoch_text}  {_duration(snap.elapsed)}  "
                f"{rate}  ETA {_duration(eta)}")
        bar_width = max(10, width - len(info) - 6)
        progress = Table.grid()
        progress.add_row(ProgressBar(total=snap.total_steps, completed=done, width=bar_width),
                         Text(info))
    else:
        progress = Text(f"step {snap.step}  {_duration(snap.elapsed)}  {rate}")
    status = Text(f"log: {snap.log_path or '-'}", style="dim")
    if snap.summary:
        status.append(f"   {snap.status}", style="bold green" if snap.status == "completed"
                      else "bold red")
    return Group(line1, progress, status)


class LossPlot:
    """The loss over steps, braille-drawn to fit its region, with the log(C) line."""

    def __init__(self, snap: Snapshot, log_y: bool) -> None:
        """Plot `snap`'s loss series, on a log scale if `log_y`."""
        self.snap, self.log_y = snap, log_y

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Draw to the width and height Rich gives this region."""
        width = max(10, options.max_width - 10)
        height = max(2, (options.height or 10) - 1)
        hlines = []
        c = (self.snap.header or {}).get("num_classes")
        loss_fn = (self.snap.header or {}).get("loss_fn", "softmax")
        if isinstance(c, int) and c >= 2:
            hlines.append((math.log(c) if loss_fn != "svm" else c - 1.0, "dim"))
        rows, lo, hi = plot_lines([(self.snap.loss, "bright_cyan")], width, height, self.log_y,
                                  hlines)
        for i, row in enumerate(rows):
            label = _fmt(hi) if i == 0 else _fmt(lo) if i == len(rows) - 1 else ""
            yield Text(f"{label:>9} ").append_text(row)
        legend = Text(" " * 10 + ("log scale" if self.log_y else "linear"), style="dim",
                      no_wrap=True, overflow="ellipsis")
        if hlines:
            legend.append(f" · dotted: expected initial loss {hlines[0][0]:.3f}", style="dim")
        yield legend


class AccuracyView:
    """Train and validation accuracy per epoch, the latest values and the gap."""

    def __init__(self, snap: Snapshot) -> None:
        """Show `snap`'s epoch records."""
        self.snap = snap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The latest numbers, then a plot filling the rest of the region."""
        train, val = latest_accuracies(self.snap)
        line = Text(no_wrap=True, overflow="crop")
        line.append(f"train {_pct(train)}", style="green")
        line.append(f"  val {_pct(val)}", style="magenta")
        yield line
        height = max(1, (options.height or 6) - 1)
        width = max(6, options.max_width - 1)
        series = []
        for key, style in (("train_acc", "green"), ("val_acc", "magenta")):
            pts = [(float(e["step"] or 0), float(e[key])) for e in self.snap.epochs
                   if isinstance(e.get(key), (int, float))]
            if pts:
                series.append((pts, style))
        rows, _, _ = plot_lines(series, width, height)
        yield from rows


def latest_accuracies(snap: Snapshot) -> tuple[object, object]:
    """(train_acc, val_acc) of the latest epoch record."""
    last = snap.epochs[-1] if snap.epochs else {}
    return last.get("train_acc"), last.get("val_acc")


def accuracy_title(snap: Snapshot) -> str:
    """'accuracy · gap +1.2 pts' (train minus validation, in percentage points)."""
    train, val = latest_accuracies(snap)
    if isinstance(train, (int, float)) and isinstance(val, (int, float)):
        return f"accuracy · gap {100 * (train - val):+.1f} pts"
    return "accuracy"


def _ratio_style(ratio: object) -> str:
    if not isinstance(ratio, (int, float)) or not math.isfinite(ratio) or ratio <= 0:
        return "dim"
    distance = abs(math.log10(ratio / TARGET_RATIO))
    return "green" if distance <= 1 else "yellow" if distance <= 2 else "bold red"


_COLUMNS = (("layer", 8, "<"), ("act mean", 9, ">"), ("act std", 9, ">"), ("dead", 7, ">"),
            ("sat", 7, ">"), ("grad norm", 10, ">"), ("upd/w", 9, ">"))


def layers_table(snap: Snapshot) -> RenderableType:
    """Per-layer statistics of the latest sample, update ratio coloured against ~1e-3.

    Formatted by hand into fixed-width columns: a rich Table measures every cell on every
    frame, which costs more than the whole rest of the dashboard.
    """
    # Rows are cropped, never wrapped: on a narrow terminal the histogram is what goes.
    head = Text(" ".join(f"{name:{align}{width}}" for name, width, align in _COLUMNS) +
                "  activations", style="bold", no_wrap=True, overflow="crop")
    lines = [head]
    for name, st in snap.layers.items():
        ratio = st.get("update_ratio")
        cells = [str(name)[:8], _fmt(st.get("act_mean")), _fmt(st.get("act_std")),
                 _pct(st.get("dead_frac")) if "dead_frac" in st else "-",
                 _pct(st.get("sat_frac")) if "sat_frac" in st else "-", _fmt(st.get("grad_norm"))]
        line = Text(" ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, _COLUMNS, strict=False)),
                    no_wrap=True, overflow="crop")
        line.append(" ")
        line.append(f"{_fmt(ratio, '.1e'):>9}", style=_ratio_style(ratio))
        hist = st.get("hist") if isinstance(st.get("hist"), dict) else None
        if hist and isinstance(hist.get("counts"), list):
            line.append("  ")
            line.append(sparkline([c for c in hist["counts"] if isinstance(c, (int, float))]),
                        style="bright_cyan")
            line.append(f" {_fmt(hist.get('lo'), '.2g')}..{_fmt(hist.get('hi'), '.2g')}",
                        style="dim")
        lines.append(line)
    return Group(*lines)


def advice_panel(findings: list[Finding], new: Iterable[str], max_lines: int) -> RenderableType:
    """The findings, most severe first; new ones marked."""
    fresh = set(new)
    if not findings:
        return Text("No problems found so far.", style="green")
    lines: list[Text] = []
    for f in findings:
        head = Text("  <- " if f.caused_by else "", style="dim")
        if f.rule in fresh:
            head.append(" NEW ", style="reverse bold")
            head.append(" ")
        head.append(f"{f.severity.upper()} ", style=SEVERITY_STYLE[f.severity])
        head.append(f"{f.rule} ", style="bold")
        head.append(f"{f.steps}: ", style="dim")
        if provisional(f.rule):  # docs/findings.md: may still be withdrawn
            head.append("(provisional) ", style="dim")
        head.append(f.message)
        lines.append(head)
        lines.append(Text("   -> " + f.advice, style="italic"))
    if len(lines) > max_lines:
        hidden = (len(lines) - max_lines + 1 + 1) // 2
        lines = lines[: max(0, max_lines - 1)]
        lines.append(Text(f"... and {hidden} more", style="dim"))
    return Group(*lines)


class Dashboard:
    """The whole screen, laid out for the console's current size (so resizing just works)."""

    def __init__(self, snap: Snapshot, findings: list[Finding], new: Iterable[str] = (),
                 log_y: bool = True) -> None:
        """Draw `snap` with the engine's `findings` (`new` = rule ids to highlight)."""
        self.snap, self.findings, self.new, self.log_y = snap, findings, list(new), log_y

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Stack the panels to fill the screen: header, plots, layers, advice.

        Panels without data are left out. Heights are computed here and given to each panel,
        which is much cheaper to render than a rich.layout.Layout.
        """
        width, height = options.max_width, options.height or console.height
        snap = self.snap
        header_size = 5
        advice_lines = 2 * len(self.findings) or 1
        advice_size = min(max(3, advice_lines + 2), max(3, height // 3))
        layer_size = len(snap.layers) + 3 if snap.layers else 0  # borders + column names
        plots_size = height - header_size - advice_size - layer_size
        if plots_size < 6 and layer_size:
            layer_size, plots_size = 0, plots_size + layer_size  # small terminal: plots first
        plots_size = max(4, plots_size)
        yield Panel(header_panel(snap, width - 4), title="babysit", title_align="left",
                    border_style="blue", height=header_size)
        scale = "log" if self.log_y else "linear"
        loss_panel = Panel(LossPlot(snap, self.log_y), title=f"loss ({scale})", title_align="left",
                           border_style="cyan", height=plots_size)
        if snap.epochs:
            row = Table.grid(expand=True)
            row.add_column(ratio=2)
            row.add_column(ratio=1)
            row.add_row(loss_panel, Panel(AccuracyView(snap), title=accuracy_title(snap),
                                          title_align="left", border_style="magenta",
                                          height=plots_size))
            yield row
        else:
            yield loss_panel
        if layer_size:
            step = f" (step {snap.layers_step})" if snap.layers_step is not None else ""
            yield Panel(layers_table(snap), title=f"layers{step}", title_align="left",
                        border_style="green", height=layer_size)
        border = ("red" if any(f.severity == "error" for f in self.findings)
                  else "yellow" if self.findings else "green")
        yield Panel(advice_panel(self.findings, self.new, advice_size - 2), title="advice",
                    title_align="left", border_style=border, height=advice_size)
