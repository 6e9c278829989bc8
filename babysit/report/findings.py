"""A diagnosis's findings as HTML, the same in the report page and in a notebook: severity,
rule, steps, what was seen, what to do, the changes to try, the evidence, and the findings
withdrawn since they were shown."""

from __future__ import annotations

from html import escape

from babysit.diagnostics.engine import Report
from babysit.diagnostics.rule import Finding

# The styles the list uses, (selector, declarations): the report page includes them, a notebook
# output scopes them to its own element.
_STYLES = (
    ("ol.findings", "padding-left:22px"), ("ol.findings li", "margin:0 0 12px"),
    (".sev", "display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;"
             "font-weight:600"),
    (".sev-error", "background:#d62728"), (".sev-warning", "background:#e8710a"),
    (".sev-info", "background:#1f77b4"),
    (".rule", "font-family:ui-monospace,Menlo,monospace;font-size:13px"), (".steps", "color:#666"),
    (".advice", "font-style:italic"), (".try", "font-weight:600"),
    (".evidence", "color:#555;font-size:12.5px"), (".caused", "color:#777"),
    ("p.notes", "color:#555;font-size:12.5px"), (".ok", "color:#2a7d2a;font-weight:600"),
)


def findings_css(scope: str = "") -> str:
    """The list's styles, each selector prefixed with `scope` (e.g. '.babysit-findings ')."""
    return "".join(f"{scope}{selector}{{{rules}}}" for selector, rules in _STYLES)


def _evidence(f: Finding) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in f.evidence.items())


def finding_item(f: Finding, number: int, tries: str | None) -> str:
    """One finding as a list item, numbered as its marker on the curves."""
    parts = [f'<span class="sev sev-{escape(f.severity)}">{escape(f.severity)}</span> '
             f'<span class="rule">{escape(f.rule)}</span> <span class="steps">{f.steps}</span>',
             f"<div>{escape(f.message)}</div>",
             # A consequence's advice already names its cause ("A consequence of X: follow its
             # advice first"): said once, in the advice's place.
             f'<div class="{"caused" if f.caused_by else "advice"}">{escape(f.advice)}</div>']
    if tries:
        parts.append(f'<div class="try">{escape(tries)}</div>')
    if evidence := _evidence(f):
        parts.append(f'<div class="evidence">evidence: {escape(evidence)}</div>')
    return f'<li data-finding="{number}" data-rule="{escape(f.rule)}">' + "".join(parts) + "</li>"


def findings_html(report: Report, findings: list[Finding] | None = None) -> str:
    """The findings (the report's, or `findings` so far while a run goes on) as a numbered
    list, with the changes to try and the withdrawn ones."""
    shown = report.findings if findings is None else findings
    lines = report.withdrawn_lines()  # on request: folded away, never a verdict of their own
    withdrawn = (f'<details class="notes"><summary>{len(lines)} shown during the run and '
                 'withdrawn since</summary>' + "".join(f"<p>{escape(line)}</p>" for line in lines)
                 + "</details>") if lines else ""
    if not shown:
        return '<p class="ok">No problems found.</p>' + withdrawn
    items = [finding_item(f, i, report.tries(f)) for i, f in enumerate(shown, start=1)]
    return '<ol class="findings">' + "".join(items) + "</ol>" + withdrawn
