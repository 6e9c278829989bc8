"""The HTML around the plots: one self-contained document, inline CSS, no script, no network."""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

from babysit.report.findings import findings_css

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
  max-width:1100px;margin:0 auto;padding:16px 24px 48px;background:#fff}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;
  padding-bottom:4px}h3{font-size:14.5px;margin:18px 0 4px}
.sub{color:#666;margin:0 0 12px}.panel svg{width:100%;height:auto}
.panel figcaption{color:#555;font-size:12.5px;margin:2px 0 0}.panel{margin:10px 0 18px}
table.kv{border-collapse:collapse;font-size:12.5px}table.kv td{padding:1px 12px 1px 0;
  vertical-align:top}table.kv td:first-child{color:#666;white-space:nowrap}
table.grid{border-collapse:collapse;font-size:12.5px;margin:6px 0}table.grid th,table.grid td{
  border-bottom:1px solid #eee;padding:3px 10px 3px 0;text-align:left}
.missing li,.notes li{color:#555}
.status-completed{color:#2a7d2a}.status-diverged,.status-crashed{color:#d62728}
.warn{color:#b35c00}code{font-size:12.5px}
dl.cfg{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:0 16px;
  font-size:12.5px;margin:4px 0}dl.cfg div{display:flex;gap:6px}dl.cfg dt{color:#666}dl.cfg dd{margin:0}
"""


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def unique_ids(html: str) -> str:
    """Prefix every id inside each inline SVG (and the references to it) with the SVG's number:
    matplotlib numbers its elements per figure (figure_1, line2d_1, ...), and ids must be unique
    in a page."""
    def prefix(k: int, svg: str) -> str:
        svg = _ID.sub(lambda m: f'id="s{k}-{m.group(1)}"', svg)
        return _REF.sub(lambda m: f"{m.group(1)}s{k}-{m.group(2)}", svg)

    count = iter(range(1, 1 << 30))
    return _SVG.sub(lambda m: prefix(next(count), m.group(0)), html)


def document(title: str, body: str) -> str:
    """A complete HTML page."""
    body = unique_ids(body)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="generator" content="babysit report">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'

            f"<title>{escape(title)}</title><style>{CSS}{findings_css()}</style></head>\n<body>\n{body}\n"
            f'<p class="sub">Made by babysit report. Rules and advice: CS231n lecture 6, '
            f"Training Neural Networks.</p>\n</body></html>\n")


def value(v: Any) -> str:
    """A value for a table cell, short and escaped."""
    if isinstance(v, float):
        return escape(f"{v:.4g}" if math.isfinite(v) else str(v))
    if isinstance(v, (list, tuple)):
        return escape(", ".join(str(x) for x in v)) or "[]"
    if isinstance(v, dict):
        return escape(", ".join(f"{k}={x}" for k, x in v.items()))
    return escape(str(v))


def kv_table(items: list[tuple[str, Any]]) -> str:
    """A two-column table of names and values (None values left out)."""
    rows = "".join(f"<tr><td>{escape(k)}</td><td>{value(v)}</td></tr>" for k, v in items if v is not None)
    return f'<table class="kv">{rows}</table>' if rows else ""


def kv_grid(items: list[tuple[str, Any]]) -> str:
    """Many short name=value pairs in columns (a run's config)."""
    cells = "".join(f"<div><dt>{escape(k)}</dt><dd>{value(v)}</dd></div>" for k, v in items if v is not None)
    return f'<dl class="cfg">{cells}</dl>'


def grid_table(header: list[str], rows: list[list[Any]]) -> str:
    """A table with a header row."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{value(c) if c is not None else ''}</td>" for c in row)
                   + "</tr>" for row in rows)
    return f'<table class="grid"><tr>{head}</tr>{body}</table>'


def figure_html(panel_id: str, title: str, svg: str, caption: str = "") -> str:
    """A drawn panel with its heading and caption."""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="panel" data-panel="{escape(panel_id)}">'
            f"<h3>{escape(title)}</h3>{svg}{cap}</figure>")


def bullet_list(css_class: str, items: list[str]) -> str:
    """An unordered list of escaped lines."""
    return f'<ul class="{css_class}">' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
