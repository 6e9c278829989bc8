"""Fuzzing every input path babysit reads: each either reads or says why not (BabysitError)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.dashboard.follow import follow_records
from babysit.data import load_data
from babysit.diagnostics.thresholds import load_toml
from babysit.errors import BabysitError
from babysit.readers.common import ReadStats
from babysit.search.results import load_results

runner = CliRunner()
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
keys = st.sampled_from(["loss", "step", "type", "val_acc", "train_acc", "val_loss", "layers",
                        "trial", "status", "params", "config", "log_history", "epoch", "run_id"])
records = st.dictionaries(keys | st.text(max_size=4), values, max_size=6)
jsonl = st.lists(records, max_size=12).map(lambda rs: "\n".join(json.dumps(r) for r in rs).encode())
payloads = st.binary(max_size=300) | jsonl


def _cli_survives(args: list[str], stdin: bytes | None = None) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code in (0, 1, 2), (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@FUZZ
@given(payloads, st.sampled_from(["run.json", "run.jsonl.gz", "cut.gz", "metrics.csv"]))
def test_diagnose_any_file_by_any_name(tmp_path: Path, payload: bytes, name: str) -> None:
    if name.endswith(".gz"):
        payload = gzip.compress(payload)
        if name == "cut.gz":
            payload = payload[: len(payload) // 2]
    path = tmp_path / name
    path.write_bytes(payload)
    _cli_survives(["diagnose", str(path), "--json"])


@FUZZ
@given(payloads)
def test_diagnose_stdin(payload: bytes) -> None:
    _cli_survives(["diagnose", "-", "--json"], stdin=payload)


@FUZZ
@given(payloads)
def test_watch_reads_any_growing_file_to_its_summary(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "grow.jsonl"
    path.write_bytes(payload + b'\n{"type": "summary", "status": "completed"}\n')
    stats = ReadStats()
    out = list(follow_records(path, stats, poll=0.001))
    assert out and out[-1]["type"] == "summary"


@FUZZ
@given(payloads)
def test_search_results_files(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(payload)
    try:
        rows = load_results(path)
    except BabysitError:
        return
    assert all(isinstance(r["params"], dict) and r["trial"] == t for t, r in rows.items())


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_rules_config_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    try:
        overrides = load_toml(path)
    except BabysitError:
        return
    assert all(isinstance(v, float) for table in overrides.values() for v in table.values())


@FUZZ
@given(st.binary(max_size=300) | st.text(alphabet="0123456789.,-e\nlabx ", max_size=200).map(str.encode),
       st.sampled_from(["d.csv", "d.npz"]))
def test_data_files(tmp_path: Path, payload: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    try:
        data = load_data(str(path))
    except BabysitError:
        return
    assert len(data.X_train) == len(data.y_train) and data.num_classes >= 2


@pytest.mark.parametrize("name", ["trainer_state.json", "compact.json"])
def test_trainer_state_vs_jsonl_named_json(tmp_path: Path, name: str) -> None:
    history = [{"loss": 2.3 - i / 10, "step": i} for i in range(12)]
    path = tmp_path / name
    if name == "compact.json":  # one line: still a trainer_state, not a one-record JSONL
        path.write_text(json.dumps({"log_history": history}))
    else:
        path.write_text(json.dumps({"log_history": history}, indent=2))
    result = runner.invoke(app, ["diagnose", str(path), "--json"])
    assert json.loads(result.stdout)["runs"][0]["steps"] == 12
    jsonl = tmp_path / "log.json"  # JSONL named .json, its first line blank
    jsonl.write_text("\n" + "\n".join(json.dumps(h) for h in history) + "\n")
    assert json.loads(runner.invoke(app, ["diagnose", str(jsonl), "--json"]).stdout)["runs"][0]["steps"] == 12


REPORT_FUZZ = settings(max_examples=30, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
numbers = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.sampled_from(["NaN", "1e-3", "x"])
layer_entry = st.fixed_dictionaries({}, optional={
    k: numbers for k in ("update_ratio", "grad_norm", "weight_norm", "act_mean", "act_std", "dead_frac",
                         "sat_frac")} | {"hist": values | st.fixed_dictionaries(
                             {"lo": numbers, "hi": numbers, "counts": st.lists(numbers, max_size=20)})})
step_records = st.fixed_dictionaries({"step": st.integers(0, 50) | numbers, "loss": numbers}, optional={
    "lr": numbers, "train_acc": numbers, "val_acc": numbers, "val_loss": numbers,
    "layers": st.dictionaries(st.text(max_size=4), layer_entry | values, max_size=3)})


@REPORT_FUZZ
@given(st.lists(step_records, max_size=25), st.booleans())
def test_report_of_any_step_records(tmp_path: Path, recs: list[dict], header: bool) -> None:
    path = tmp_path / "run.jsonl"
    lines = ([json.dumps({"type": "header", "num_classes": 3})] if header else []) + [json.dumps(r) for r in recs]
    path.write_text("\n".join(lines))
    _cli_survives(["report", str(path), "-o", str(tmp_path / "r.html")])


@REPORT_FUZZ
@given(payloads)
def test_report_of_any_file(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "any.jsonl"
    path.write_bytes(payload)
    _cli_survives(["report", str(path), "-o", str(tmp_path / "r.html")])


trial_rows = st.fixed_dictionaries(
    {"trial": st.text(min_size=1, max_size=5), "status": st.sampled_from(["completed", "diverged", "hopeless"]),
     "params": st.dictionaries(st.sampled_from(["lr", "reg", "hidden", "epochs"]), values, max_size=4)},
    optional={"stage": values, "val_acc": st.none() | st.floats(0, 1), "train_acc": st.none() | st.floats(0, 1),
              "config": values, "log": values})
extra_records = st.fixed_dictionaries({"type": st.sampled_from(["stage", "ensemble", "search"])},
                                      optional={"stage": values, "space": values, "warnings": values,
                                                "epochs": values, "members": values, "val_acc": values,
                                                "best_single_val_acc": values, "config": values})


@REPORT_FUZZ
@given(st.lists(trial_rows | extra_records, max_size=10))
def test_report_of_any_search_results(tmp_path: Path, rows: list[dict]) -> None:
    path = tmp_path / "search.jsonl"
    path.write_text("\n".join([json.dumps({"type": "search"})] + [json.dumps(r) for r in rows]))
    _cli_survives(["report", str(path), "-o", str(tmp_path / "r.html")])
