"""babysit report: the page for each kind of input, its panels and findings, its size, its errors.

The same pages are opened in a real browser in test_report_browser.py.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import babysit.report as report
from babysit.cli.app import app
from babysit.errors import BabysitError
from babysit.report.series import RunSeries, smooth, thin

ZOO = Path(__file__).parent / "fixtures" / "zoo"
runner = CliRunner()
RUN_PANELS = ("loss", "accuracy", "val-loss", "update-ratio", "grad-norm", "activations",
              "dead-saturated", "histograms")  # spiral's 2 inputs: no first-layer picture


def panels(html: str) -> set[str]:
    return set(re.findall(r'data-panel="([a-z-]+)"', html))


def assert_self_contained(html: str) -> None:
    """No script, no external resource: the page opens offline, from disk, anywhere."""
    assert "<script" not in html.lower()
    # SVG namespaces are identifiers, not requests; data: URIs are inline (a colour bar's image).
    outside = [u for u in re.findall(r'(?:src|href)\s*=\s*"([^"#][^"]*)"', html) if not u.startswith("data:")]
    assert outside == [] and "url(http" not in html and "@import" not in html


def test_faulty_babysit_run_has_every_panel_and_its_findings_marked(faulty_run: Path) -> None:
    html = report.render(faulty_run)
    assert panels(html) >= set(RUN_PANELS)
    assert_self_contained(html)
    assert 'data-rule="vanishing-activations"' in html
    # the finding is numbered in the list and marked on the curves, with hover text naming it
    first = re.search(r'<li data-finding="1" data-rule="([a-z-]+)"', html)
    assert first is not None
    assert re.search(rf'<g class="finding" data-finding="1"><title>1\. \w+ {first.group(1)} ', html)
    assert "log(C) = 1.10" in html  # spiral: 3 classes
    assert "Not drawn" in html and "constant at 0.1" in html  # the lr is said, not drawn flat
    assert "fc6" in html  # every hidden layer has its histogram column
    assert "First-layer weights: the inputs are 2 features, not an image" in html


def test_histograms_span_the_outputs_own_range(faulty_run: Path) -> None:
    """A deep tanh net at init std 0.01: each layer's outputs shrink ~10x; on a fixed [-1, 1]
    every layer filled the middle bin alike (issue 36)."""
    records = [json.loads(line) for line in faulty_run.read_text().splitlines()]
    first = next(r for r in records if r.get("type") == "step" and r.get("layers"))
    ranges = {name: entry["hist"]["hi"] - entry["hist"]["lo"] for name, entry in first["layers"].items()
              if "hist" in entry}
    assert ranges["fc1"] > 10 * ranges["fc3"] > 100 * ranges["fc6"] > 0
    assert all(entry["hist"]["lo"] >= -1 and entry["hist"]["hi"] <= 1 for entry in first["layers"].values()
               if "hist" in entry)


def test_zero_updates_stay_on_the_log_axis() -> None:
    from babysit.report.layer_figures import ZERO_NOTE, update_ratio_panel, zero_floor

    series = RunSeries()
    for step, (frozen, moving) in enumerate([(0.0, 1e-3), (0.0, 2e-3), (0.0, 1e-3)]):
        series.add({"type": "step", "step": step, "loss": 1.0,
                    "layers": {"fc1": {"update_ratio": frozen}, "fc2": {"update_ratio": moving}}})
    assert zero_floor(series, "update_ratio") == pytest.approx(1e-4)
    panel = update_ratio_panel(series, [], 1e-5, 0.1)
    assert panel.caption.endswith(ZERO_NOTE)
    series.layers["fc1"]["update_ratio"] = series.layers["fc2"]["update_ratio"]
    assert zero_floor(series, "update_ratio") is None  # near miss: nothing at 0


def test_every_log_axis_carries_two_numbers() -> None:
    """A validation loss from 0.13 to 5.7 showed one label ('1') on its axis: unreadable."""
    from babysit.report.plots import minor_labels

    series = RunSeries()
    for i, value in enumerate(np.geomspace(5.66, 0.131, 12)):
        series.add({"type": "epoch", "step": 1000 + 100 * i, "val_loss": float(value)})
    svg = report.run_figures.val_loss_panel(series, []).svg
    numbers = {float(n) for n in re.findall(r">\s*([\d.]+)\s*<", svg)}
    assert len({n for n in numbers if n < 10 and n != 1}) >= 2  # the steps are 1000 and more
    assert minor_labels(1000) == () and 2 in minor_labels(40) and len(minor_labels(3)) == 8


def test_first_layer_weights_are_drawn_as_images_and_a_bad_table_is_said(tmp_path: Path) -> None:
    from babysit.report.layer_figures import first_layer_panel
    from babysit.report.run_figures import Missing
    from babysit.training.records import first_layer_record

    rng = np.random.default_rng(0)
    record = first_layer_record(rng.normal(size=(64, 100)), (8, 8, 1))
    assert record["units"] == 100 and len(record["weights"]) == 32 and len(record["weights"][0]) == 64
    series = RunSeries()
    series.summary = {"first_layer": record}
    panel = first_layer_panel(series)
    assert not isinstance(panel, Missing) and panel.svg.count("<image") == 32  # one per unit
    for bad in ({"weights": [[1.0, 2.0], [3.0]]}, {"weights": [["x"]]}, {"weights": "nope"},
                {"weights": [[math.nan]]}, {"weights": [[1.0] * 6], "image_shape": [0, -1, "a"]}):
        series.summary = {"first_layer": bad}
        assert isinstance(first_layer_panel(series), (Missing, report.run_figures.Panel))
    wide = first_layer_record(rng.normal(size=(3072, 64)), (32, 32, 3))  # CIFAR-sized inputs
    assert len(wide["weights"]) == 16  # capped at 50,000 numbers


def test_keras_csv_draws_what_it_has_and_says_what_it_lacks() -> None:
    html = report.render(ZOO / "keras" / "keras-lr-far-too-high-s0.csv")
    assert panels(html) == {"loss", "accuracy", "val-loss"}
    assert_self_contained(html)
    assert "Not drawn" in html and "no per-layer histograms" in html
    # the four per-layer panels share one reason, said once
    assert html.count("no per-layer statistics") == 1
    assert "Update / weight ratio, Gradient norms, Activation mean and std, Dead and saturated units:" in html
    assert "Not checked (" in html and "need per-layer statistics (babysit train, the Monitor)" in html
    assert 'class="findings"' in html  # the fault is found and listed


def test_tensorboard_run_and_torch_monitor_log() -> None:
    tb = report.render(ZOO / "tensorboard" / "lr-far-too-high-s0")
    assert "loss" in panels(tb) and 'class="findings"' in tb
    torch_log = report.render(ZOO / "torch" / "torch-relu-dying-high-lr-s0.jsonl.gz")
    assert {"update-ratio", "dead-saturated", "histograms"} <= panels(torch_log)
    assert 'data-rule="dead-relu"' in torch_log


def test_healthy_run_says_no_problems() -> None:
    html = report.render(ZOO / "torch" / "torch-healthy-s0.jsonl.gz")
    assert "No problems found." in html and 'class="findings"' not in html


def test_search_report_has_scatter_stages_best_curves_and_ensemble(search_results: Path) -> None:
    html = report.render(search_results)
    assert panels(html) == {"search-scatter", "search-best"}
    assert_self_contained(html)
    assert "stage 2 ranges" in html  # the narrowed ranges boxed on the scatter
    assert "<h2>Ensemble</h2>" in html and "ensemble val acc" in html
    rows = [json.loads(line) for line in search_results.read_text().splitlines()]
    best = max((r for r in rows if r.get("status") == "completed"), key=lambda r: r["val_acc"])
    assert f"best {best['val_acc']:.3f}" in html and best["trial"] in html
    # issue 36: every log-axis tick read `$\mathdefault{10^{-1}}$` (mathtext, shown raw)
    assert "mathdefault" not in html and "$" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)


def test_search_report_says_what_an_old_results_file_lacks(search_results: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"  # rows only, as a search before stage records wrote them
    old.write_text("".join(line + "\n" for line in search_results.read_text().splitlines()
                           if '"type"' not in line[:12]))
    for row in map(json.loads, old.read_text().splitlines()):  # and trial logs moved away
        row["log"] = "/nonexistent/" + row["trial"]
    html = report.render(old)
    assert "no stage records" in html and "No ensemble in this file" in html
    assert "search-scatter" in panels(html)


def test_a_100k_step_log_stays_under_1mb_and_keeps_a_late_finding(tmp_path: Path) -> None:
    """Curves are thinned for drawing; the findings are not: a NaN at the very end is marked."""
    log = tmp_path / "long.jsonl.gz"
    rng = np.random.default_rng(0)
    steps = 100_000
    loss = 2.3 * np.exp(-np.arange(steps) / 20_000) + 0.05 * rng.random(steps)
    with gzip.open(log, "wt") as fh:
        fh.write(json.dumps({"type": "header", "num_classes": 10, "activation": "relu"}) + "\n")
        for i in range(steps):
            rec: dict = {"step": i, "loss": "NaN" if i == steps - 1 else float(loss[i]), "lr": 1e-3}
            if i % 8 == 7:  # 12,500 epochs (issue 22: their curves were not thinned, 5.4 MB)
                rec.update(train_acc=0.9, val_acc=0.8 + 0.1 * rng.random(), val_loss=0.5)
            if i % 10 == 0:
                rec["layers"] = {f"fc{k}": {"weight_norm": 5.0, "grad_norm": 0.1, "update_ratio": 1e-3,
                                            "act_mean": 0.3, "act_std": 0.5, "dead_frac": 0.05,
                                            "hist": {"lo": 0.0, "hi": 3.0, "counts": [9] * 16}}
                                 for k in (1, 2, 3)}
            fh.write(json.dumps(rec) + "\n")
    out = report.write(log, tmp_path / "long.html")
    html = out.read_text()
    # 0.30 MB measured with the 12,500 epoch curves thinned like the step curves (5.4 MB before)
    assert out.stat().st_size <= 2**20, out.stat().st_size
    assert 'data-rule="loss-nan"' in html and "loss not finite" in html
    number = re.search(r'<li data-finding="(\d+)" data-rule="loss-nan"', html).group(1)
    assert f'<g class="finding" data-finding="{number}"><title>' in html  # marked on the curves at step 99,999


def test_thin_keeps_spikes_and_smooth_skips_nans() -> None:
    x = np.arange(100_000)
    y = np.ones(100_000)
    y[54_321] = 50.0  # one spike; a plain stride would almost surely drop it
    tx, ty = thin(x, y, 1000)
    assert len(tx) <= 1000 and ty.max() == 50.0 and 54_321 in tx
    assert np.all(np.diff(tx) > 0)  # still in step order
    s = smooth([1.0, math.nan, 3.0, 5.0], 2)
    assert s[1] == 1.0 and s[2] == 3.0 and s[3] == 4.0


def test_series_ignores_garbage_but_keeps_good_values() -> None:
    s = RunSeries()
    s.add({"type": "step", "step": 0, "loss": "NaN", "lr": "abc"})
    s.add({"step": 1, "loss": 2.0, "val_acc": True, "layers": {"a": {"hist": {"lo": 1, "hi": 0, "counts": [1]}},
                                                              "b": [], "c": {"update_ratio": "1e-3"}}})
    s.add({"step": 10**30, "loss": 1.0})  # no axis can place it: left out, not a crash
    assert s.first_nonfinite == 0 and s.loss[1] == 2.0 and math.isnan(s.loss[0])
    assert len(s.lr) == 0 and s.epochs == {} and s.hists == {}
    assert [list(v) for v in s.layers["c"]["update_ratio"]] == [[1], [1e-3]]


def test_cli_prints_only_the_path_and_names_the_default(tmp_path: Path) -> None:
    src = tmp_path / "keras.csv"
    src.write_bytes((ZOO / "keras" / "keras-healthy-s0.csv").read_bytes())
    result = runner.invoke(app, ["report", str(src)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{tmp_path / 'keras.html'}\n"
    assert (tmp_path / "keras.html").read_text().startswith("<!DOCTYPE html>")
    result = runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "sub" / "x.html")])
    assert result.exit_code == 0 and (tmp_path / "sub" / "x.html").exists()


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\x00\xff\xfe garbage", "is a binary file"),
    (b'{"type": "search"}\n{"trial": "t", "status": "completed", "params": 3}\n', "not a search result row"),
    (b'{"type": "search"}\n', "no finished trial"),
])
def test_bad_input_is_one_line_and_exit_2_and_leaves_an_old_report(tmp_path: Path, content: bytes,
                                                                     message: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(content)
    old = tmp_path / "in.html"
    old.write_text("old report. Made by babysit report")  # a report babysit wrote: replaceable
    result = runner.invoke(app, ["report", str(src)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert old.read_text() == "old report. Made by babysit report"


def test_stdin_needs_an_output_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    log = (ZOO / "jsonl" / "healthy-adam-s0.jsonl").read_text()
    result = runner.invoke(app, ["report", "-"], input=log)
    assert result.exit_code == 2 and "pass -o OUT.html" in result.output and not list(tmp_path.iterdir())
    result = runner.invoke(app, ["report", "-", "-o", "run.html"], input=log)
    assert result.exit_code == 0 and "loss" in panels((tmp_path / "run.html").read_text())


def test_bad_options_exit_2(tmp_path: Path) -> None:
    src = ZOO / "keras" / "keras-healthy-s0.csv"
    assert runner.invoke(app, ["report", str(src), "-o", str(tmp_path)]).exit_code == 2  # a directory
    assert runner.invoke(app, ["report", str(src), "--classes", "1"]).exit_code == 2
    assert runner.invoke(app, ["report", str(src), "--set", "nope.x=1"]).exit_code == 2
    assert runner.invoke(app, ["report", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(BabysitError, match=r"babysit\[report\]"):
        report.check_available()
    result = runner.invoke(app, ["report", str(ZOO / "keras" / "keras-healthy-s0.csv")])
    assert result.exit_code == 2 and "pip install 'babysit[report]'" in result.output


def test_train_and_search_report_flags(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    result = runner.invoke(app, ["train", "--epochs", "2", "--log", str(log), "--no-live", "--report"])
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'run.html'}" in result.output and (tmp_path / "run.html").exists()
    results = tmp_path / "s.jsonl"
    result = runner.invoke(app, ["search", "--trials", "2", "--epochs", "1", "--stages", "1",
                                 "--workers", "1", "--results", str(results), "--no-live", "--report"])
    assert result.exit_code in (0, 1), result.output
    assert f"report: {tmp_path / 's.html'}" in result.output
    assert "search-scatter" in panels((tmp_path / "s.html").read_text())


def test_same_input_same_page() -> None:
    """Deterministic output: a report can be diffed and committed."""
    src = ZOO / "keras" / "keras-lr-far-too-high-s0.csv"
    assert report.render(src) == report.render(src)


def test_a_directory_of_runs_gets_a_section_each_and_unique_ids(tmp_path: Path) -> None:


    for name in ("lr-far-too-high-s0", "healthy-adam-s0"):
        shutil.copytree(ZOO / "tensorboard" / name, tmp_path / "tb" / name)
    html = report.render(tmp_path / "tb")
    assert sorted(re.findall(r'<section class="run" data-run="([^"]+)"', html)) == \
        ["healthy-adam-s0", "lr-far-too-high-s0"]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids))  # matplotlib's per-figure ids made unique
    refs = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', html))
    assert refs <= set(ids)  # and every reference still points at its own element


def test_the_report_never_replaces_its_input(tmp_path: Path) -> None:
    """Issue 22: `report run.jsonl -o run.jsonl` replaced the log with HTML (exit 0)."""
    src = tmp_path / "run.jsonl"
    src.write_bytes((ZOO / "jsonl" / "healthy-adam-s0.jsonl").read_bytes())
    before = src.read_bytes()
    for out in (src, tmp_path / "." / "run.jsonl"):
        result = runner.invoke(app, ["report", str(src), "-o", str(out)])
        assert result.exit_code == 2 and "would replace the input" in result.output
    assert src.read_bytes() == before


def test_secret_looking_config_values_are_not_shown(tmp_path: Path) -> None:
    """Issue 22: the report printed the header's config verbatim, api_key and password included."""
    lines = (ZOO / "jsonl" / "healthy-adam-s0.jsonl").read_text().splitlines()
    header = {"type": "header", "num_classes": 10,
              "config": {"lr": 0.001, "api_key": "sk-live-123", "password": "hunter2",
                         "wandb": {"HF_TOKEN": "hf_abc", "project": "mnist"}, "keyboard": "qwerty"}}
    src = tmp_path / "run.jsonl"
    src.write_text("\n".join([json.dumps(header), *lines]) + "\n")
    assert runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "r.html")]).exit_code == 0
    page = (tmp_path / "r.html").read_text()
    for secret in ("sk-live-123", "hunter2", "hf_abc"):
        assert secret not in page
    assert "mnist" in page and "qwerty" in page  # other values stay
    assert "3 key(s) that look secret are not shown: api_key, password, HF_TOKEN" in page


def test_a_password_inside_a_value_is_not_shown(tmp_path: Path) -> None:
    """Issue 38: credentials inside a value (a tracking URI) reached the page whatever its key."""
    lines = (ZOO / "jsonl" / "healthy-adam-s0.jsonl").read_text().splitlines()
    header = {"type": "header", "num_classes": 10, "source": "https://bob:SECRET1@host/x",
              "config": {"lr": 0.001, "tracking": "postgresql://bob:SECRET2@db:5432/runs",
                         "contact": "bob@example.com"}}
    src = tmp_path / "run.jsonl"
    src.write_text("\n".join([json.dumps(header), *lines]) + "\n")
    assert runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "r.html")]).exit_code == 0
    page = (tmp_path / "r.html").read_text()
    assert "SECRET1" not in page and "SECRET2" not in page
    assert "postgresql://bob:***@db:5432/runs" in page and "bob@example.com" in page


def test_a_read_only_place_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: on a read-only file system atomic.py's own cleanup raised EROFS (a traceback)."""
    import errno
    import os as os_module

    def refuse(*_: object, **__: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "write_text", refuse)
    monkeypatch.setattr(Path, "unlink", refuse)
    monkeypatch.setattr(os_module, "replace", refuse)
    src = ZOO / "keras" / "keras-healthy-s0.csv"
    result = runner.invoke(app, ["report", str(src), "-o", str(tmp_path / "ro" / "x.html")])
    assert result.exit_code == 2 and "Read-only file system" in result.output
    assert isinstance(result.exception, SystemExit)  # typer's exit, not an escaped OSError


def test_names_and_configs_a_page_cannot_take_as_they_are(tmp_path: Path) -> None:
    """Issue 22: a layer named `enc$x^$` (mathtext), a lone surrogate in config (a .tmp left
    behind) and a config nested 980 deep (RecursionError) each broke the report."""
    deep = '{"x": ' * 980 + "{}" + "}" * 980  # as text: json.dumps itself recurses too deep
    steps = [json.dumps({"type": "step", "step": i, "loss": 1.0 / (i + 1), **(
        {"layers": {"enc$x^$": {"weight_norm": 1.0, "act_std": 0.5, "update_ratio": 1e-3},
                    "$5 and $10": {"weight_norm": 1.0, "update_ratio": 2e-3}}} if i % 10 == 0 else {})})
             for i in range(60)]
    # a bare NaN makes the reader parse the header with the json module, which keeps the surrogate
    odd = json.dumps({"type": "header", "num_classes": 3, "config": {"lr": "NANMARK", "bad": "SURR"}})
    odd = odd.replace('"NANMARK"', "NaN").replace('"SURR"', '"\\ud800bad"')
    cases = {"odd": odd, "deep": '{"type": "header", "config": {"deep": ' + deep + "}}"}
    for name, header in cases.items():
        src = tmp_path / f"{name}.jsonl"
        src.write_text("\n".join([header, *steps]) + "\n")
        result = runner.invoke(app, ["report", str(src), "-o", str(tmp_path / f"{name}.html")])
        assert result.exit_code == 0, result.output
        page = (tmp_path / f"{name}.html").read_text()
        assert "enc$x^$" in page and "$5 and $10" in page, name  # names drawn as text
    assert "\\ud800bad" in (tmp_path / "odd.html").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_consequence_names_its_cause_once_and_withdrawn_findings_are_said() -> None:
    from babysit.diagnostics.engine import Report
    from babysit.diagnostics.rule import Finding
    from babysit.notebook import findings_html as in_a_notebook
    from babysit.report.findings import findings_html

    cause = Finding("loss-explosion", "error", 10, "loss rose 100x", "Lower the learning rate",
                    evidence={"ratio": 100.0, "start": 2.3})
    effect = Finding("dead-relu", "warning", 20, "fc1 dead", "A consequence of loss-explosion: "
                     "follow its advice first.", caused_by="loss-explosion")
    gone = Finding("underfitting", "warning", 5, "low accuracy", "wider")
    report = Report([cause, effect], [], 30, 30, withdrawn=[(gone, "withdrawn: x")],
                    context={"lr": 0.1})
    html = findings_html(report)
    assert html.count("consequence of loss-explosion") == 1 and "fix that first" not in html
    assert "WARNING underfitting at step 5, shown during the run: withdrawn: x" in html
    # folded away under a summary: on request, never a verdict of its own
    assert '<details class="notes"><summary>1 shown during the run and withdrawn since' in html
    healthy = findings_html(Report([], [], 30, 30, withdrawn=[(gone, "withdrawn: x")]))
    assert healthy.startswith('<p class="ok">No problems found.</p><details')
    assert "try: lr=0.01" in html  # the remedies, as the terminal's table says them
    # A notebook shows the same list (one renderer), its styles scoped to its own output.
    notebook = in_a_notebook(report)
    assert html in notebook and ".babysit-findings .sev-error{" in notebook


def test_a_directorys_report_is_written_in_the_current_folder_not_among_the_logs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = tmp_path / "lightning_logs"
    shutil.copytree(ZOO / "tensorboard" / "healthy-adam-s0", logs / "version_0")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["report", str(logs)])
    assert result.exit_code == 0, result.output
    assert result.output == "lightning_logs.html\n" and (work / "lightning_logs.html").exists()
    assert not list(logs.rglob("*.html"))


def test_accuracy_axis_spans_zero_to_one_and_log_ticks_do_not_crowd(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    from babysit.report.plots import log_scale_if_positive
    from babysit.report.run_figures import accuracy_panel
    from babysit.report.series import RunSeries

    series = RunSeries()  # a run stuck at chance: 9.3-10%
    series.epochs["train_acc"] = ([0, 1, 2], [0.093, 0.1, 0.097])
    series.epochs["val_acc"] = ([0, 1, 2], [0.095, 0.098, 0.1])
    limits: list[tuple] = []
    real = Axes.set_ylim
    monkeypatch.setattr(Axes, "set_ylim", lambda ax, *a, **k: limits.append(a) or real(ax, *a, **k))
    accuracy_panel(series, [], 10)
    assert limits[-1] == (0, 1)  # the last word on the axis, after autoscaling
    monkeypatch.undo()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.5, 4.0])
    assert log_scale_if_positive(ax, [0.5, 4.0])
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.yaxis.get_minorticklabels() if t.get_text()]
    # 8x: 2, 3 and 5 of each decade, not all eight (minor_labels)
    assert labels and all(label.lstrip("0.")[0] in "235" for label in labels), labels
    plt.close(fig)
