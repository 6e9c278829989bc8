"""Reports opened in a real browser: headless Chromium (Debian's package) driven by Playwright.

Each kind of input must render with no console error and no request beyond the file itself,
with its plots laid out (non-zero size) and its findings listed and marked (hover titles).
Without Chromium these tests skip, unless BABYSIT_REQUIRE_BROWSER is set (.ci/run sets it, so CI
cannot pass them by skipping).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import babysit.report as report

ZOO = Path(__file__).parent / "fixtures" / "zoo"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

def _browser_missing() -> str | None:
    if CHROMIUM is None:
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


_MISSING = _browser_missing()
if _MISSING and os.environ.get("BABYSIT_REQUIRE_BROWSER"):
    raise RuntimeError(f"BABYSIT_REQUIRE_BROWSER is set but {_MISSING}")
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


def open_report(browser: Any, html: Path) -> tuple[Any, list[str], list[str]]:
    """The loaded page, its console errors and page errors, and every URL it requested."""
    page = browser.new_page(viewport={"width": 1150, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.resolve().as_uri(), wait_until="load")
    return page, errors, requests


def check_page(browser: Any, source: Path, out: Path, expect_panels: set[str],
               expect_findings: bool) -> None:
    html = report.write(source, out)
    page, errors, requests = open_report(browser, html)
    assert errors == []
    assert requests == [html.resolve().as_uri()]  # nothing but the page itself: offline, no CDN
    shown = set(page.eval_on_selector_all("figure.panel", "els => els.map(e => e.dataset.panel)"))
    assert shown == expect_panels
    for panel in expect_panels:  # each plot laid out at a readable size
        box = page.locator(f'figure[data-panel="{panel}"] svg').first.bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 100
    if expect_findings:
        assert page.locator("ol.findings > li").count() >= 1
        # the first finding is marked on the curves, and hovering it names the rule
        rule = page.locator("ol.findings > li").first.get_attribute("data-rule")
        title = page.locator('g.finding[data-finding="1"] > title').first.text_content()
        assert re.match(rf"1\. \w+ {rule} ", title or "")
    png = page.screenshot(full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # something was painted
    page.close()


def test_babysit_run_with_a_fault(browser: Any, faulty_run: Path, tmp_path: Path) -> None:
    # spiral's 2 features are not an image: no first-layer picture (issue 36)
    check_page(browser, faulty_run, tmp_path / "run.html",
               {"loss", "accuracy", "val-loss", "update-ratio", "grad-norm", "activations",
                "dead-saturated", "histograms"}, expect_findings=True)


MINUS = "\u2212"  # matplotlib writes negative ticks with the minus sign
NUMBER = r"[-\u2212]?[\d.]+(e[-\u2212+]?\d+)?"


def svg_texts(page: Any, panel: str) -> list[str]:
    """Every text a reader sees in one panel's plot, as the browser lays it out."""
    return page.eval_on_selector_all(f'figure[data-panel="{panel}"] svg text',
                                     "els => els.map(e => e.textContent.trim()).filter(t => t)")


def test_the_deep_tanh_report_reads_as_numbers(browser: Any, faulty_run: Path, tmp_path: Path) -> None:
    """Issue 36's report defects: raw TeX on log axes, a y axis without numbers, histograms on a
    fixed [-1, 1] that hid a deep tanh net's vanishing activations, a 2-pixel 'first layer'."""
    page, errors, _ = open_report(browser, report.write(faulty_run, tmp_path / "deep.html"))
    assert errors == []
    for panel in ("loss", "val-loss", "update-ratio", "grad-norm"):
        texts = svg_texts(page, panel)
        assert not [t for t in texts if "$" in t or "mathdefault" in t], panel
        numbers = [t for t in texts if re.fullmatch(NUMBER, t)]
        assert len(numbers) >= 4, (panel, texts)  # both axes carry numbers
    # each layer's histogram says its own range; the deepest layer's is tiny, the first's not
    hist = svg_texts(page, "histograms")
    ends = [float(t.replace(MINUS, "-")) for t in hist if re.fullmatch(NUMBER, t)]
    assert ends and min(abs(v) for v in ends if v) < 1e-4 and max(abs(v) for v in ends) > 1e-2
    assert "not an image" in page.locator("body").inner_text()
    page.close()


def test_keras_csv(browser: Any, tmp_path: Path) -> None:
    check_page(browser, ZOO / "keras" / "keras-lr-far-too-high-s0.csv", tmp_path / "k.html",
               {"loss", "accuracy", "val-loss"}, expect_findings=True)


def test_tensorboard_run(browser: Any, tmp_path: Path) -> None:
    check_page(browser, ZOO / "tensorboard" / "lr-far-too-high-s0", tmp_path / "tb.html",
               {"loss", "accuracy", "val-loss"}, expect_findings=True)


def test_search_results(browser: Any, search_results: Path, tmp_path: Path) -> None:
    check_page(browser, search_results, tmp_path / "s.html", {"search-scatter", "search-best"},
               expect_findings=False)
