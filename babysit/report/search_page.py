"""The report of a `babysit search` results file: what was searched, the lr-vs-reg scatter, each
stage's ranges and warnings, the best trials (their curves from their own logs) and the ensemble."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from babysit.errors import BabysitError
from babysit.readers import ReadStats, find_runs
from babysit.report.page import bullet_list, document, figure_html, grid_table, kv_grid, kv_table
from babysit.report.run_figures import Missing
from babysit.report.search_figures import best_curves_panel, parse_range, scatter_panel, stage_of
from babysit.report.series import RunSeries
from babysit.search.results import HEADER_TYPE, read_results

BEST_CURVES = 5
TOP_ROWS = 10
_SNIFF_BYTES = 1 << 20


def is_search_results(path: Path) -> bool:
    """True for a search results file: its first line is a search header or a trial row."""
    if str(path) == "-" or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            first = b""
            for _ in range(100):  # skip blank lines, but only a few: this is a sniff
                line = fh.readline(_SNIFF_BYTES)
                first = line.strip()
                if first or not line:
                    break
        row = json.loads(first)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(row, dict) and (row.get("type") == HEADER_TYPE or
                                      ("trial" in row and "params" in row and "status" in row))


def trial_log(results: Path, row: dict[str, Any]) -> Path | None:
    """A trial's log: where the row says, else where the search puts it beside the results file."""
    beside = results.with_suffix("") / "trials" / f"{row['trial']}.jsonl"
    for candidate in (Path(str(row.get("log", ""))), beside):
        try:
            if candidate.is_file():
                return candidate
        except (OSError, ValueError):  # a name no file system allows (a NUL byte, too long)
            continue
    return None


def _curves(results: Path, rows: list[dict[str, Any]]) -> tuple[list[tuple[str, RunSeries]], list[str]]:
    curves, lost = [], []
    for row in rows:
        log = trial_log(results, row)
        if log is None:
            lost.append(row["trial"])
            continue
        series = RunSeries()
        try:
            for run in find_runs(log):
                for record in run.read(ReadStats(), None):
                    series.add(record)
        except BabysitError:
            lost.append(row["trial"])
            continue
        params = ", ".join(f"{k}={v:.2g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in row["params"].items() if k != "epochs")
        curves.append((f"{row['trial']} ({params}) {row['val_acc']:.3f}", series))
    return curves, lost


def _params_columns(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({k for r in rows for k in r["params"] if k != "epochs"})


def search_page(path: Path) -> str:
    """The whole page for one results file."""
    found = read_results(path)
    rows = sorted(found.rows.values(), key=lambda r: r["trial"])
    if not rows:
        raise BabysitError(f"{path} is a search results file with no finished trial: nothing to report")
    ranked = sorted((r for r in rows if r["status"] == "completed" and r.get("val_acc") is not None),
                    key=lambda r: -r["val_acc"])
    title = f"babysit report: search {path.name}"
    out = [f"<h1>{escape(title)}</h1>",
           f'<p class="sub">{len(rows)} finished trials in {escape(str(path))}</p>']
    header = found.header or {}
    statuses = {s: sum(r["status"] == s for r in rows) for s in ("completed", "diverged", "hopeless",
                                                                  "failed")}
    out.append(kv_table([("trials", len(rows)), *statuses.items(),
                         ("ranges", header.get("space")), ("stages (trials, epochs)", header.get("stages"))]))
    if isinstance(header.get("config"), dict):
        fixed = kv_grid(list(header["config"].items()))
        out.append(f"<details><summary>fixed options</summary>{fixed}</details>")
    ranges = {n: (parse_range(rec.get("space", {}).get("lr")), parse_range(rec.get("space", {}).get("reg")))
              for n, rec in found.stages.items() if isinstance(rec.get("space"), dict)}
    panels = [scatter_panel(rows, {n: r for n, r in ranges.items() if None not in r})]  # type: ignore[misc]
    out.append("<h2>Stages</h2>")
    if found.stages:
        stage_rows = [[n, rec.get("epochs"), rec.get("space"), sum(stage_of(r) == n for r in rows)]
                      for n, rec in sorted(found.stages.items())]
        out.append(grid_table(["stage", "epochs", "ranges sampled", "trials"], stage_rows))
        warnings = [w for _, rec in sorted(found.stages.items()) for w in rec.get("warnings") or []]
        out.append(bullet_list("warn", warnings) if warnings else
                   '<p class="ok">No edge-of-range warnings: the best values lie inside the ranges.</p>')
    else:
        out.append('<p class="sub">This results file has no stage records (a search that was '
                   "interrupted, or written by an older babysit): ranges per stage and "
                   "edge-of-range warnings are not shown.</p>")
    curves, lost = _curves(path, ranked[:BEST_CURVES])
    panels.append(best_curves_panel(curves))
    out += [figure_html(p.id, p.title, p.svg, p.caption) for p in panels if not isinstance(p, Missing)]
    missing = [f"{p.title}: {p.reason}" for p in panels if isinstance(p, Missing)]
    if lost:
        missing.append(f"logs not found for: {', '.join(lost)}")
    out.append("<h2>Best trials</h2>")
    columns = _params_columns(rows)
    out.append(grid_table(["trial", "stage", *columns, "val acc", "train acc", "status"],
                          [[r["trial"], stage_of(r), *[r["params"].get(c) for c in columns],
                            r.get("val_acc"), r.get("train_acc"), r["status"]] for r in ranked[:TOP_ROWS]]))
    stopped = [r for r in rows if r["status"] != "completed"]
    if stopped:  # why each one did not finish: the finding that stopped it, or its error
        out.append("<h2>Stopped and failed trials</h2>")
        out.append(grid_table(["trial", "stage", *columns, "status", "why"],
                              [[r["trial"], stage_of(r), *[r["params"].get(c) for c in columns],
                                r["status"], r.get("reason") or "-"] for r in stopped]))
    out.append("<h2>Ensemble</h2>")
    if header.get("objective"):
        out.append('<p class="sub">A search over your own training function: no ensemble (the '
                   "models are yours).</p>")
    elif found.ensemble:
        e = found.ensemble
        out.append(kv_table([("members", e.get("members")), ("ensemble val acc", e.get("val_acc")),
                             ("best single val acc", e.get("best_single_val_acc"))]))
    else:
        out.append('<p class="sub">No ensemble in this file (run the search with --ensemble K).</p>')
    if missing:
        out += ["<h3>Not in this file</h3>", bullet_list("missing", missing)]
    return document(title, "\n".join(out))
