"""`babysit report`: one self-contained HTML page with the lecture's plots for a run or a search.

Data flows one way: a reader's records go through the diagnostics engine (which finds the
problems) and into a RunSeries (which keeps what is drawn); the page only shows both.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from babysit.atomic import refuse_overwriting_input, refuse_replacing, write_text_atomic
from babysit.diagnostics.runs import check_classes, diagnose_run, where
from babysit.diagnostics.thresholds import Overrides
from babysit.errors import BabysitError
from babysit.readers import FieldMap, find_runs, parse_maps
from babysit.readers.inputs import is_stream
from babysit.report.page import document
from babysit.report.run_page import run_section
from babysit.report.search_page import is_search_results, search_page
from babysit.report.series import RunSeries
from babysit.text import visible

__all__ = ["check_available", "default_output", "render", "write"]


def check_available() -> None:
    """A BabysitError naming the extra to install when the plotting library is missing."""
    from babysit.report.plots import require_matplotlib

    require_matplotlib()


def default_output(input_: Path) -> Path:
    """INPUT's name with .html, beside it; a directory's (lightning_logs/, mlruns/) in the
    current folder, not among the user's logs."""
    if input_.is_dir():
        return Path(f"{input_.resolve().name or 'report'}.html")
    name = input_.name
    for suffix in (".gz", ".jsonl", ".json", ".csv", ".db"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return input_.with_name((name or "report") + ".html")


def render(input_: str | os.PathLike[str], classes: int | None = None, run: str | None = None,
           map_: list[str] | None = None, overrides: Overrides | None = None,
           task: str | None = None) -> str:
    """The report page for a run log (any format diagnose reads) or a search results file."""
    input_ = Path(input_)
    check_classes(classes)
    if is_search_results(input_):
        return search_page(input_)
    runs = find_runs(input_, FieldMap(parse_maps(map_)), run)
    sections = []
    diagnosed = 0
    for found in runs:
        series = RunSeries()
        try:
            report, notes = diagnose_run(found, where(input_, found, runs), classes, overrides,
                                         series.add, task=task)
        except BabysitError as exc:  # one unusable run among several: a line, not the page
            if len(runs) == 1:
                raise
            sections.append(f'<section class="run"><h2>Run {escape(visible(found.name))}</h2>'
                            f"<p>not diagnosed: {escape(str(exc))}</p></section>")
            continue
        sections.append(run_section(found.name, found.format, series, report, notes, classes))
        diagnosed += 1
    if not diagnosed:
        raise BabysitError(f"no run of {visible(input_)} could be diagnosed")
    title = f"babysit report: {input_.name}"
    lead = f'<h1>{escape(title)}</h1><p class="sub">{len(runs)} run(s) in {escape(str(input_))}</p>'
    return document(title, lead + "\n".join(sections))


def write(input_: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
          classes: int | None = None, run: str | None = None, map_: list[str] | None = None,
          overrides: Overrides | None = None, task: str | None = None, overwrite: bool = False) -> Path:
    """Write the report of `input_` to `out` (default: default_output) atomically; return its
    path. An existing file there is replaced only if it is a babysit report, or `overwrite`."""
    source = Path(input_)
    if out is None and is_stream(source):
        raise BabysitError(f"{source} has no name to give its report: pass -o OUT.html")
    target = Path(out) if out is not None else default_output(source)
    if target.is_dir():
        raise BabysitError(f"{target} is a directory; give the report a file name, "
                           f"e.g. {target / 'report.html'}")
    refuse_overwriting_input(target, source, "-o")
    refuse_replacing(target, "report", "-o" if out is not None else "report", overwrite)
    html = render(source, classes, run, map_, overrides, task)
    write_text_atomic(target, html, "report")
    return target
