"""Reading logs robustly and `babysit diagnose` end to end, including fuzzed input."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.diagnostics.engine import Engine
from babysit.errors import BabysitError
from babysit.readers.common import ReadStats, number
from babysit.readers.jsonl import read_records

runner = CliRunner()


def write(tmp_path: Path, text: str | bytes, name: str = "run.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def diagnose_json(path: Path, *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["diagnose", str(path), "--json", *args])
    return result.exit_code, json.loads(result.stdout)["runs"][0] if result.exit_code in (0, 1) else {}


@pytest.mark.parametrize("text", ["NaN", '"NaN"', '"nan"', "Infinity", '"-Infinity"', '"inf"'])
def test_every_spelling_of_nonfinite_is_nonfinite(text: str) -> None:
    value = number(json.loads(text))
    assert value is not None and not math.isfinite(value)


def test_null_with_a_nonfinite_flag_is_nan(tmp_path: Path) -> None:
    path = write(tmp_path, '{"loss": 1.0}\n{"step": 1, "loss": null, "nonfinite": ["loss"]}\n')
    code, out = diagnose_json(path)
    assert code == 1 and out["findings"][0]["rule"] == "loss-nan"


def test_minimal_log_from_another_framework(tmp_path: Path) -> None:
    # What json.dumps({"loss": loss.item()}) writes, NaN token included.
    lines = [json.dumps({"loss": 2.3 - 0.001 * i}) for i in range(30)] + ['{"loss": NaN}']
    path = write(tmp_path, "\n".join(lines) + "\n")
    code, out = diagnose_json(path)
    assert code == 1 and [f["rule"] for f in out["findings"]] == ["loss-nan"]
    assert out["findings"][0]["step"] == 30  # line order stands in for the step
    assert {"rule": "dead-relu", "needs": ["layers.dead_frac"]} in out["not_checked"]


def test_malformed_lines_are_skipped_counted_and_named(tmp_path: Path) -> None:
    body = '{"loss": 1.0}\nnot json\n[1, 2]\n{"loss": "abc"}\n{"loss": 0.9}\n{"loss": 0.8'
    stats = ReadStats()
    records = list(read_records(write(tmp_path, body), stats))
    assert len(records) == 3 and stats.malformed == 2 and stats.malformed_lines == [2, 3]
    assert stats.truncated_last_line
    result = runner.invoke(app, ["diagnose", str(tmp_path / "run.jsonl")])
    assert result.exit_code == 0, result.output
    assert "skipped 2 malformed line(s): 2, 3" in result.output
    assert "incomplete" in result.output


def test_non_monotonic_steps_are_noted(tmp_path: Path) -> None:
    body = "\n".join(json.dumps({"step": s, "loss": 1.0}) for s in [0, 1, 2, 1, 2, 3]) + "\n"
    stats = ReadStats()
    list(read_records(write(tmp_path, body), stats))
    assert stats.non_monotonic_steps == 1


def test_gzip_logs_are_read(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"loss": 1.0}) + "\n" for _ in range(5))
    path = tmp_path / "run.jsonl.gz"
    path.write_bytes(gzip.compress(lines.encode()))
    assert len(list(read_records(path))) == 5


@pytest.mark.parametrize("make,message", [
    (lambda p: p / "missing.jsonl", "not found"),
    (lambda p: p, "directory"),
    (lambda p: write(p, ""), "empty"),
    (lambda p: write(p, bytes(range(256)) * 10), "no readable JSON record"),
    (lambda p: write(p, "hello\nworld\n"), "no readable JSON record"),
    (lambda p: write(p, b"\x1f\x8b\x08garbage", "x.gz"), "cannot read"),
])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(BabysitError, match=message):
        list(read_records(path))
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1


def test_bad_options_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, '{"loss": 1.0}\n')
    assert runner.invoke(app, ["diagnose", str(path), "--set", "nope"]).exit_code == 2
    assert runner.invoke(app, ["diagnose", str(path), "--classes", "1"]).exit_code == 2
    toml = write(tmp_path, "[loss-flat]\nmin_drop = 'x'\n", "rules.toml")
    assert runner.invoke(app, ["diagnose", str(path), "--rules-config", str(toml)]).exit_code == 2


def test_rules_config_toml_changes_a_threshold(tmp_path: Path) -> None:
    lines = [json.dumps({"loss": 1.1 * (1 - 0.0005 * i)}) for i in range(300)]  # 15% in 300 steps
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert diagnose_json(path)[0] == 0
    toml = write(tmp_path, "[loss-flat]\nmin_drop = 0.5\n", "rules.toml")
    code, out = diagnose_json(path, "--rules-config", str(toml))
    assert code == 1 and out["findings"][0]["rule"] == "loss-flat"
    code, out = diagnose_json(path, "--rules-config", str(toml), "--set", "loss-flat.min_drop=0.01")
    assert code == 0  # --set wins over the file


def test_diagnose_a_babysit_log(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    assert runner.invoke(app, ["train", "--log", str(log), "--init", "zeros", "--epochs", "30",
                                 "--keep-going"]).exit_code == 0
    code, out = diagnose_json(log)
    assert code == 1
    assert out["findings"][0]["rule"] == "symmetric-init" and out["findings"][0]["severity"] == "error"
    assert set(out) >= {"findings", "not_checked", "records"}
    assert set(out["findings"][0]) >= {"rule", "severity", "step", "message", "advice", "evidence"}
    shown = runner.invoke(app, ["diagnose", str(log)])
    assert "symmetric-init" in shown.output and "Xavier" in shown.output


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
record_like = st.dictionaries(
    st.sampled_from(["type", "step", "epoch", "loss", "data_loss", "val_loss", "train_acc",
                     "val_acc", "lr", "layers", "num_classes", "activation", "input_stats",
                     "nonfinite", "dataset"]),
    json_scalars | st.lists(json_scalars, max_size=3) | st.dictionaries(
        st.sampled_from(["fc1", "fc2", "act_std", "grad_norm", "weight_norm", "update_ratio",
                         "dead_frac", "sat_frac", "mean_abs_mean", "std_mean", "X_val"]),
        json_scalars | st.dictionaries(st.sampled_from(["act_std", "grad_norm", "weight_norm",
                                                        "update_ratio", "dead_frac", "sat_frac"]),
                                       json_scalars, max_size=6), max_size=4),
    max_size=8)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record_like, max_size=60))
def test_engine_never_crashes_on_odd_records(records: list[dict]) -> None:
    engine = Engine(classes=None)
    for rec in records:
        engine.push(rec)
    report = engine.finish()
    assert all(f.severity in ("info", "warning", "error") for f in report.findings)
    json.dumps(report.to_dict(), default=str)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.lists(record_like, max_size=20).map(
    lambda rs: "\n".join(json.dumps(r) for r in rs).encode()))
def test_reader_and_cli_never_crash(tmp_path: Path, payload: bytes) -> None:
    path = write(tmp_path, payload, "fuzz.jsonl")
    result = runner.invoke(app, ["diagnose", str(path), "--json"])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unwanted_layer_statistics_are_skipped_without_changing_the_diagnosis(tmp_path: Path) -> None:
    from babysit.api import train
    from babysit.config import Config
    from babysit.training import JsonlSink

    log = tmp_path / "dense.jsonl"
    train(Config(epochs=40, stats_every=1, bias_init=-5.0), [JsonlSink(log)])
    assert json.loads(log.read_text().splitlines()[1])["layers"]  # stats on every step
    full = Engine().push_all(read_records(log))
    engine = Engine()
    has_layers: list[bool] = []

    def tap(records):  # type: ignore[no-untyped-def]
        for r in records:  # read lazily, as diagnose does: the engine decides as it goes
            if r.get("type") == "step":
                has_layers.append("layers" in r)
            yield r

    fast = engine.push_all(tap(read_records(log, layers_wanted=engine.wants_layers)))
    assert has_layers.count(False) > len(has_layers) // 2  # most layers were never parsed
    assert [(f.rule, f.step) for f in fast.findings] == [(f.rule, f.step) for f in full.findings]
    assert "dead-relu" in {f.rule for f in fast.findings}


def test_keras_csv_log(tmp_path: Path) -> None:
    rows = ["epoch,accuracy,loss,val_accuracy,val_loss"]
    rows += [f"{e},{0.5 + 0.05 * e},{1.0 - 0.05 * e},{0.5 + 0.05 * e},{1.0 - 0.04 * e}" for e in range(5)]
    rows += ["5,NA,nan,NA,NA"]
    path = write(tmp_path, "\n".join(rows) + "\n", "training.log.csv")
    code, out = diagnose_json(path)
    assert code == 1 and out["findings"][0]["rule"] == "loss-nan"
    assert out["findings"][0]["step"] == 5 and out["records"] == 7  # 6 rows and the columns


def test_lightning_csv_log_overfits(tmp_path: Path) -> None:
    header = "epoch,step,train_acc_epoch,train_loss_step,val_acc,val_loss"
    rows = [header]
    for e in range(8):
        for s in range(3):
            rows.append(f"{e},{e * 4 + s},,{max(0.05, 1.0 - 0.15 * e):.3f},,")
        rows.append(f"{e},{e * 4 + 3},{min(1.0, 0.6 + 0.1 * e):.2f},,{0.62:.2f},{0.9 + 0.1 * e:.2f}")
    path = write(tmp_path, "\n".join(rows) + "\n", "metrics.csv")
    code, out = diagnose_json(path)
    assert code == 1 and "overfitting" in [f["rule"] for f in out["findings"]]


def test_hugging_face_trainer_state(tmp_path: Path) -> None:
    history = [{"loss": 2.3, "learning_rate": 5e-5, "epoch": 0.1 * i, "step": 10 * i} for i in range(10)]
    history += [{"loss": 2.3 * 3 ** i, "learning_rate": 5e-5, "epoch": 1 + 0.1 * i, "step": 100 + 10 * i}
                for i in range(1, 12)]
    history.append({"eval_loss": 9.9, "eval_accuracy": 0.1, "epoch": 2.0, "step": 220})
    path = write(tmp_path, json.dumps({"log_history": history, "global_step": 220}, indent=2),
                 "trainer_state.json")
    code, out = diagnose_json(path, "--classes", "10")
    assert code == 1 and out["findings"][0]["rule"] == "loss-explosion"


def test_other_formats_bad_input(tmp_path: Path) -> None:
    no_metrics = write(tmp_path, "a,b\n1,2\n", "x.csv")
    assert runner.invoke(app, ["diagnose", str(no_metrics)]).exit_code == 2
    not_hf = write(tmp_path, '{\n "something": 1\n}\n', "y.json")
    result = runner.invoke(app, ["diagnose", str(not_hf)])
    assert result.exit_code == 2 and "log_history" in result.output
    jsonl_named_json = write(tmp_path, '{"loss": 1.0}\n{"loss": 0.9}\n', "z.json")
    assert runner.invoke(app, ["diagnose", str(jsonl_named_json)]).exit_code == 0


def test_live_and_offline_diagnosis_agree(tmp_path: Path) -> None:
    from babysit.api import train
    from babysit.config import Config
    from babysit.diagnostics.sink import DiagnosticsSink
    from babysit.training import JsonlSink

    log = tmp_path / "run.jsonl"
    live = DiagnosticsSink()
    train(Config(epochs=40, bias_init=-5.0, hidden=(50, 50)), [JsonlSink(log), live])
    offline = Engine().push_all(read_records(log))
    assert live.report is not None and live.report.findings
    assert [f.to_dict() for f in live.report.findings] == [f.to_dict() for f in offline.findings]


def test_engine_memory_stays_flat_on_long_streams() -> None:
    import tracemalloc

    def peak(n: int) -> int:
        engine = Engine()
        layers = {"fc1": {"grad_norm": 1.0, "weight_norm": 2.0, "update_ratio": 1e-3,
                          "act_std": 0.5, "dead_frac": 0.1}}
        tracemalloc.start()
        for step in range(n):
            engine.push({"step": step, "loss": 1.0 / (1 + step), "layers": layers,
                         **({"train_acc": 0.9, "val_acc": 0.9} if step % 100 == 99 else {})})
        engine.finish()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(20_000), peak(200_000)
    assert large < 2 * small + 200_000  # ten times the records, not ten times the memory


def _notes(path: Path) -> list[str]:
    result = runner.invoke(app, ["diagnose", str(path), "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["runs"][0]["notes"]


def test_a_damaged_gzip_is_not_called_a_run_still_writing(tmp_path: Path) -> None:
    data = "".join(json.dumps({"step": i, "loss": 1.0}) + "\n" for i in range(300)).encode()
    packed = gzip.compress(data)
    crc = bytearray(packed)
    crc[-8] ^= 0xFF  # the CRC-32 in the trailer
    damaged = _notes(write(tmp_path, bytes(crc), "crc.jsonl.gz"))
    assert any("damaged gzip data after line 300" in n and "CRC" in n for n in damaged), damaged
    assert not any("still writing" in n for n in damaged)
    cut = _notes(write(tmp_path, packed[: len(packed) - 40], "cut.jsonl.gz"))
    assert any("still writing" in n for n in cut) and not any("damaged" in n for n in cut), cut


def test_a_babysit_log_without_a_summary_is_noted_as_cut(tmp_path: Path) -> None:
    header = json.dumps({"type": "header", "run_id": "x", "num_classes": 3}) + "\n"
    steps = "".join(json.dumps({"step": i, "loss": 1.0}) + "\n" for i in range(20))
    summary = json.dumps({"type": "summary", "status": "completed"}) + "\n"
    assert any("ends without a summary" in n for n in _notes(write(tmp_path, header + steps)))
    assert not any("summary" in n for n in _notes(write(tmp_path, header + steps + summary)))
    assert not any("summary" in n for n in _notes(write(tmp_path, steps)))  # not babysit's format


def test_metric_values_that_are_not_numbers_are_counted(tmp_path: Path) -> None:
    body = '{"loss": true}\n{"loss": {}}\n{"loss": []}\n{"loss": "abc"}\n' + '{"loss": 1.0}\n' * 20
    notes = _notes(write(tmp_path, body))
    assert any("ignored 4 metric value(s) that are not numbers: line 1 loss=true, line 2 loss={}, "
               'line 3 loss=[], line 4 loss="abc"' in n for n in notes), notes


def test_an_overlong_line_is_skipped_unread(tmp_path: Path) -> None:
    good = '{"loss": 1.0}\n' * 20
    path = write(tmp_path, good + '{"loss": "' + "x" * (17 << 20) + '"}\n' + good)
    stats = ReadStats()
    assert len(list(read_records(path, stats))) == 40
    assert stats.long_lines == 1 and stats.malformed_lines == [21]
    assert any("exceeded 16 MiB" in n for n in _notes(path))


def test_the_trainers_end_of_training_summary_is_not_a_step(tmp_path: Path) -> None:
    # Its train_loss is the mean over the whole run, not the loss at the last step.
    history = [{"loss": 2.3 * 0.9**i, "epoch": i / 10, "step": 5 * i} for i in range(1, 60)]
    history.append({"train_runtime": 3.2, "train_loss": 1.9, "epoch": 6.0, "step": 295})
    path = write(tmp_path, json.dumps({"log_history": history}, indent=2), "trainer_state.json")
    stats = ReadStats()
    from babysit.readers import find_runs

    header, *records = list(find_runs(path)[0].read(stats, None))
    assert header["type"] == "header" and "train_runtime" in header["metrics"]
    assert len(records) == 59 and records[-1]["loss"] == pytest.approx(2.3 * 0.9**59)


def test_a_one_line_trainer_state_over_a_mebibyte_is_read_as_one(tmp_path: Path) -> None:
    """Issue 22: a compact trainer_state.json over 1 MiB was read as JSONL ("nothing to diagnose")."""
    history = [{"loss": 2.3 * 0.999 ** i, "learning_rate": 5e-5, "epoch": i / 1000, "step": i,
                "grad_norm": 1.0, "note": "x" * 20} for i in range(20000)]
    text = json.dumps({"best_metric": None, "log_history": history, "global_step": 20000})
    assert len(text) > 1 << 20 and "\n" not in text
    code, out = diagnose_json(write(tmp_path, text, "trainer_state.json"))
    assert code in (0, 1) and out["steps"] == 20000


def test_a_folder_babysit_may_not_enter_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: a lost+found (unreadable) beside a checkpoint raised PermissionError from the
    MLflow probe. Tests run as root, who may read anything, so the refusal is simulated."""
    history = [{"loss": 2.3 - 0.01 * i, "learning_rate": 5e-5, "epoch": i / 10, "step": i}
               for i in range(60)]
    write(tmp_path, json.dumps({"log_history": history}, indent=2), "trainer_state.json")
    (tmp_path / "lost+found").mkdir()
    real_is_dir = Path.is_dir

    def is_dir(self: Path) -> bool:
        if "lost+found" in self.parts and self.name != "lost+found":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    code, out = diagnose_json(tmp_path)
    assert code in (0, 1) and out["steps"] == 60


def test_a_multi_run_store_gets_one_line_per_run_and_details_on_request() -> None:
    """Issue 36: a 16-run MLflow store printed 232 lines."""
    store = Path(__file__).parent / "fixtures" / "zoo" / "mlflow.db"
    runs = json.loads(runner.invoke(app, ["diagnose", str(store), "--json"]).stdout)["runs"]
    result = runner.invoke(app, ["diagnose", str(store)], env={"COLUMNS": "100"})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == len(runs) + 3  # a header, a line per run, where the details are, a tally
    assert all(len(line) <= 100 for line in lines[:-2])  # cropped, never wrapped
    for run, line in zip(runs, lines[1:-2], strict=True):
        assert run["run"] in line
        roots = [f for f in run["findings"] if not f["caused_by"]]
        assert (roots[0]["rule"] in line) if roots else ("no problems found" in line)
    assert "--run NAME" in lines[-2] and "--details" in lines[-2]
    one = runner.invoke(app, ["diagnose", str(store), "--run", runs[6]["run"]], env={"COLUMNS": "400"})
    assert "Not checked" in one.output and runs[6]["findings"][0]["advice"][:40] in one.output
    near = runner.invoke(app, ["diagnose", str(store), "--run", runs[6]["run"], "--details"])
    assert near.output == one.output or "Not checked" in near.output  # one run: always whole


def test_a_multi_run_store_gets_one_not_checked_line_per_run_and_a_closing_tally() -> None:
    store = Path(__file__).parent / "fixtures" / "zoo" / "mlflow.db"
    result = runner.invoke(app, ["diagnose", str(store), "--details"], env={"COLUMNS": "400"})
    lines = result.output.splitlines()
    runs = json.loads(runner.invoke(app, ["diagnose", str(store), "--json"]).stdout)["runs"]
    unchecked = [line for line in lines if "Not checked" in line]
    assert len(unchecked) == len(runs) > 1  # one line per run, not one per rule
    assert unchecked[0].startswith("Not checked (") and "need per-layer statistics" in unchecked[0]
    assert "rank-desync" not in result.output  # nothing to check in a single-process run
    worst = [max((f["severity"] for f in r["findings"]), key=["info", "warning", "error"].index,
                 default=None) for r in runs]
    expected = (f"{len(runs)} runs: {worst.count('error')} with errors, "
                f"{worst.count('warning')} with warnings, "
                f"{len(runs) - worst.count('error') - worst.count('warning')} without")
    assert expected in lines[-1]


def test_ignore_leaves_a_rule_out_and_a_mistyped_one_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join(json.dumps({"step": i, "loss": "NaN" if i > 5 else 2.3})
                                     for i in range(20)), "nan.jsonl")
    code, out = diagnose_json(path)
    assert code == 1 and "loss-nan" in [f["rule"] for f in out["findings"]]
    code, out = diagnose_json(path, "--ignore", "loss-nan")
    assert "loss-nan" not in [f["rule"] for f in out["findings"]]
    result = runner.invoke(app, ["diagnose", str(path), "--ignore", "loss-nna"])
    assert result.exit_code == 2 and "did you mean loss-nan?" in result.output


def test_a_speech_models_log_says_what_it_was_read_as(tmp_path: Path) -> None:
    history = [{"loss": 0.83 * 0.9 ** i, "epoch": i / 20, "step": 25 * (i + 1)} for i in range(40)]
    history += [{"eval_loss": 0.4, "eval_wer": 41.0, "epoch": 1.0, "step": 500}]
    path = write(tmp_path, json.dumps({"log_history": history}), "trainer_state.json")
    code, out = diagnose_json(path)
    assert code in (0, 1)
    assert "read as a sequence model (eval_wer is logged): rules that judge against a class " \
        "count do not apply" in out["notes"]
    assert not [item for item in out["not_checked"] if "classes" in item["needs"][0]]


def test_task_says_what_the_metric_names_do_not(tmp_path: Path) -> None:
    # a language model's CSV log of losses from step 0: its first loss, 3.3, reads as 27 classes
    rows = ["step,train_loss,val_loss"] + [f"{10 * i},{3.3 * 0.97 ** i + 1.0},"
                                            for i in range(60)]
    rows += [f"{600 + 60 * e},,{1.9 - 0.01 * e}" for e in range(8)]
    path = write(tmp_path, "\n".join(rows) + "\n", "metrics.csv")
    _, guessed = diagnose_json(path)
    assert not [n for n in guessed["notes"] if n.startswith("read as")]
    code, told = diagnose_json(path, "--task", "sequence")
    assert code in (0, 1) and "read as a sequence model (as stated): rules that judge against " \
        "a class count do not apply" in told["notes"]
    assert not [f for f in told["findings"] if f["evidence"].get("classes")]
    result = runner.invoke(app, ["diagnose", str(path), "--task", "speech"])
    assert result.exit_code == 2 and "is not one of" in result.output
