"""Inputs that used to cost a whole log or a traceback (issue 38): a huge CSV cell or line, a
Latin-1 byte, an MLflow store whose path holds URI characters, a trainer_state.json too big to
read whole, an overlong MLflow metric line, a field mapped twice."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.errors import BabysitError
from babysit.readers import ReadStats, find_runs, hf_state, parse_maps

runner = CliRunner()


def steps(path: Path, stats: ReadStats | None = None) -> list[dict]:
    [run] = find_runs(path)
    return [r for r in run.read(stats or ReadStats(), None) if r["type"] == "step"]


def test_a_csv_cell_over_the_csv_modules_limit_costs_its_row_only(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss,note\n0,1.0,x\n1,0.9," + "y" * 200_000 + "\n2,0.8,z\n")
    stats = ReadStats()
    assert [r["loss"] for r in steps(path, stats)] == [1.0, 0.8]
    assert stats.malformed == 1 and stats.malformed_lines == [3]


def test_a_csv_line_of_hundreds_of_megabytes_is_skipped_unread(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss,note\n0,1.0,x\n1,0.9," + "y" * (3 << 20) + "\n2,0.8,z\n")
    stats = ReadStats()
    assert [r["loss"] for r in steps(path, stats)] == [1.0, 0.8]
    assert stats.long_lines == 1


def test_a_latin1_byte_in_an_unused_column_is_no_reason_to_refuse_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"epoch,loss,caf\xe9\n0,1.0,1\n1,0.9,2\n")
    assert [r["loss"] for r in steps(path)] == [1.0, 0.9]


def test_a_field_mapped_twice_is_one_clear_error() -> None:
    with pytest.raises(BabysitError, match="--map gives loss twice"):
        parse_maps(["loss=a", "loss=b"])
    result = runner.invoke(app, ["diagnose", "-", "--map", "loss=a", "--map", "loss=b"], input="")
    assert result.exit_code == 2 and "'a' and 'b'" in result.output


def _store(folder: Path, run_name: str) -> None:
    folder.mkdir()
    db = sqlite3.connect(folder / "mlflow.db")
    db.executescript("CREATE TABLE runs (run_uuid TEXT, name TEXT, status TEXT, lifecycle_stage TEXT,"
                     " experiment_id INT, start_time INT); CREATE TABLE metrics (key TEXT, value REAL,"
                     " timestamp INT, step INT, is_nan BOOLEAN, run_uuid TEXT);")
    db.execute("INSERT INTO runs VALUES ('r1', ?, 'FINISHED', 'active', 0, 1)", (run_name,))
    db.executemany("INSERT INTO metrics VALUES ('train_loss', ?, 0, ?, 0, 'r1')",
                   [(1.0 / (1 + i), i) for i in range(5)])
    db.commit()
    db.close()


@pytest.mark.parametrize("name", ["pct%41", "hash#x", "what?mode=rw"])
def test_an_mlflow_store_is_opened_by_its_own_path_read_only(tmp_path: Path, name: str) -> None:
    _store(tmp_path / name, "mine")
    _store(tmp_path / "pctA", "another store")  # what an unquoted `pct%41` would open
    before = sorted(p.name for p in tmp_path.rglob("*"))
    [run] = find_runs(tmp_path / name)
    assert run.name == "mine"
    assert len([r for r in run.read(ReadStats(), None) if r["type"] == "step"]) == 5
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no stray file made


def test_an_mlflow_metric_file_is_read_line_by_line(tmp_path: Path) -> None:
    run_dir = tmp_path / "mlruns" / "0" / "abc"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "meta.yaml").write_text("run_id: abc\nrun_name: big\nstatus: 3\n")
    lines = [f"{1000 + i} {1.0 / (1 + i)} {i}" for i in range(5)]
    (run_dir / "metrics" / "train_loss").write_text("\n".join(lines[:2] + ["9" * (1 << 17)] + lines[2:]) + "\n")
    stats = ReadStats()
    assert len(steps(tmp_path / "mlruns", stats)) == 5 and stats.long_lines == 1


def _state(path: Path, history: list, **after: object) -> Path:
    """A trainer_state.json in the Trainer's key order: the history before logging_steps."""
    path.write_text(json.dumps({"global_step": 9, "log_history": history, **after}, indent=2))
    return path


def test_a_trainer_state_is_streamed_and_keeps_what_follows_its_history(tmp_path: Path) -> None:
    history = [{"loss": 1.0 / (1 + i), "epoch": i / 10, "step": i} for i in range(1, 300)]
    history.append({"train_runtime": 3.0, "train_loss": 0.5, "epoch": 30.0, "step": 299})
    path = _state(tmp_path / "trainer_state.json", history, logging_steps=1, train_batch_size=8)
    [run] = find_runs(path)
    records = list(run.read(ReadStats(), None))
    assert records[0]["batch_size"] == 8 and records[0]["log_every"] == 1
    assert [r["step"] for r in records[1:]] == list(range(1, 300))  # the closing summary left out


def test_a_trainer_state_value_too_large_to_be_a_log_is_refused(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_state, "MAX_VALUE_BYTES", 1000)
    monkeypatch.setattr(hf_state, "_CHUNK", 256)
    path = _state(tmp_path / "trainer_state.json", [{"loss": 1.0, "note": "x" * 5000, "step": 1}])
    with pytest.raises(BabysitError, match=r"cannot read .* as JSON"):
        steps(path)


@pytest.mark.parametrize("text", ['{"log_history": [{"loss": 1.0, "step": 1}, {"loss"',
                                  '{"log_history": [{"loss": 1.0, "step": 1}] "x": 1}', "{\n"])
def test_a_cut_or_broken_trainer_state_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text(text)
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _event_file(path: Path, steps: list[bytes]) -> None:
    """TensorBoard records (TFRecord framing, masked CRCs) of train_loss scalars, one per
    already-encoded step varint."""
    import struct

    from babysit.readers.tfevents import masked_crc
    with path.open("wb") as fh:
        for i, step in enumerate(steps):
            value = b"\x0a\x0atrain_loss\x15" + struct.pack("<f", 1.0 / (i + 1))
            summary = b"\x0a" + _varint(len(value)) + value
            data = b"\x09" + struct.pack("<d", 1.7e9 + i) + b"\x10" + step + b"\x2a" + _varint(len(summary)) + summary
            header = struct.pack("<Q", len(data))
            fh.write(header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data)))


def test_tensorboard_steps_beyond_64_bits_are_read_as_protobuf_reads_them(tmp_path: Path) -> None:
    folder = tmp_path / "tb"
    folder.mkdir()
    _event_file(folder / "events.out.tfevents.1.host", [_varint(0), _varint(1), _varint(2**64 + 2),
                                                          _varint(2**100), _varint(3)])
    stats = ReadStats()
    got = steps(folder, stats)
    assert [r["step"] for r in got] == [0, 1, 2, 3]  # 2**64 + 2 kept to 64 bits, as protobuf does
    assert stats.malformed == 1  # a 15-byte varint is damage: that record, not the run


def test_mlflow_steps_beyond_int64_cost_their_rows_only(tmp_path: Path) -> None:
    _store(tmp_path / "ml", "big")
    db = sqlite3.connect(tmp_path / "ml" / "mlflow.db")
    db.execute("INSERT INTO metrics VALUES ('train_loss', 0.1, 0, ?, 0, 'r1')", (float(2**70),))
    db.commit()
    db.close()
    stats = ReadStats()
    assert len(steps(tmp_path / "ml", stats)) == 5 and stats.malformed == 1
    run_dir = tmp_path / "mlruns" / "0" / "abc"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "meta.yaml").write_text("run_id: abc\nrun_name: big\nstatus: 3\n")
    (run_dir / "metrics" / "train_loss").write_text("1000 1.0 0\n1001 0.9 1\n1002 0.8 99999999999999999999999\n")
    stats = ReadStats()
    assert len(steps(tmp_path / "mlruns", stats)) == 2 and stats.malformed == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**200) | st.binary(min_size=1, max_size=12), min_size=1, max_size=6))
def test_any_step_varint_gives_records_or_notes(tmp_path_factory: pytest.TempPathFactory,
                                                raw: list[int | bytes]) -> None:
    folder = tmp_path_factory.mktemp("tb")
    _event_file(folder / "events.out.tfevents.1.h", [_varint(r) if isinstance(r, int) else r for r in raw])
    try:
        for run in find_runs(folder):
            list(run.read(ReadStats(), None))
    except BabysitError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=40), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_bytes_in_a_csv_column_give_records_or_one_error(tmp_path_factory: pytest.TempPathFactory,
                                                             junk: bytes, encoding: str) -> None:
    path = tmp_path_factory.mktemp("csv") / "metrics.csv"
    body = "epoch,loss,note\n0,1.0,a\n1,0.9,b\n".encode(encoding)
    path.write_bytes(body + junk + b"\n2,0.8,c\n")
    try:
        for run in find_runs(path):
            list(run.read(ReadStats(), None))
    except BabysitError:
        pass


def test_a_cut_tensorboard_record_is_called_a_record_and_damage_does_not_suggest_map(tmp_path: Path) -> None:
    folder = tmp_path / "tb"
    folder.mkdir()
    events = folder / "events.out.tfevents.1.host"
    _event_file(events, [_varint(i) for i in range(4)])
    events.write_bytes(events.read_bytes()[:-7])  # the last record half written
    result = runner.invoke(app, ["diagnose", str(folder)])
    assert "the last record is incomplete" in result.output
    data = bytearray(events.read_bytes())
    data[14] ^= 0xFF  # the first record's data: its CRC no longer matches
    events.write_bytes(bytes(data))
    result = runner.invoke(app, ["diagnose", str(folder)])
    assert result.exit_code == 2 and "damaged" in result.output and "--map" not in result.output


def test_sanity_check_torch_names_a_path_that_is_no_python_file() -> None:
    result = runner.invoke(app, ["sanity-check", "--torch", "/dev/null:make"])
    assert result.exit_code == 2 and "/dev/null is not a regular file" in result.output


def test_a_summary_status_reaches_the_terminal_made_safe(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    records = [{"type": "header"}, *({"type": "step", "step": i, "loss": 1.0 / (i + 1)} for i in range(5)),
               {"type": "summary", "status": "\x1b]0;pwned\x07[bold red]done"}]
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = runner.invoke(app, ["watch", str(log), "--no-live"])
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "run \\x1b]0;pwned\\x07[bold red]done" in result.output  # shown, escaped, not styled


@pytest.mark.parametrize("stated", [1e308, 0, -3, 2.5, "10", float("nan"), True, 10**9])
def test_a_headers_class_count_no_classifier_has_is_not_taken(stated: object) -> None:
    from babysit.diagnostics.records import Header
    assert Header.of({"type": "header", "num_classes": stated}).classes is None
    assert Header.of({"type": "header", "num_classes": 10}).classes == 10


@pytest.mark.parametrize("stated", [1e308, 0, -3, 2.5, "10", float("nan"), True, 10**9])
def test_the_monitor_refuses_a_class_count_no_classifier_has(stated: object) -> None:
    torch = pytest.importorskip("torch")
    from babysit.torch import Monitor
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="num_classes must be"):
        Monitor(model, None, log=False, num_classes=stated)  # type: ignore[arg-type]


def test_an_output_name_never_replaces_a_file_babysit_did_not_write(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    log = tmp_path / "run.jsonl"
    log.write_text("".join(json.dumps({"type": "step", "step": i, "loss": 1.0 / (1 + i)}) + "\n" for i in range(30)))
    other = tmp_path / "other.jsonl"
    other.write_text('{"loss": 1.0}\n')
    result = runner.invoke(app, ["report", str(log), "-o", str(other)])
    assert result.exit_code == 2 and "is not a babysit report" in result.output
    assert other.read_text() == '{"loss": 1.0}\n'
    assert runner.invoke(app, ["report", str(log), "-o", str(other), "--overwrite"]).exit_code == 0
    page = tmp_path / "run.html"
    assert runner.invoke(app, ["report", str(log)]).exit_code == 0
    assert runner.invoke(app, ["report", str(log)]).exit_code == 0  # its own last report: replaced
    assert 'content="babysit report"' in page.read_text()
    kept = tmp_path / "notes.json"
    kept.write_text('{"mine": true}\n')
    result = runner.invoke(app, ["train", "--epochs", "1", "--no-live", "--fix", "--fix-report", str(kept),
                                 "--log", str(tmp_path / "t.jsonl")])
    assert result.exit_code == 2 and "is not a babysit fix report" in result.output
    assert kept.read_text() == '{"mine": true}\n' and not (tmp_path / "t.jsonl").exists()


@pytest.mark.parametrize("args", [["diagnose", "{long}.jsonl"], ["fix", "{long}.jsonl"],
                                  ["report", "{log}", "-o", "{long}.html"],
                                  ["train", "--epochs", "1", "--no-live", "--log", "{long}.jsonl"],
                                  ["train", "--epochs", "1", "--no-live", "--fix", "--fix-report", "{long}.json"],
                                  ["sanity-check", "--torch", "{long}.py:make"]])
def test_a_file_name_too_long_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    log = tmp_path / "run.jsonl"
    log.write_text("".join(json.dumps({"type": "step", "step": i, "loss": 1.0 / (1 + i)}) + "\n" for i in range(30)))
    long = str(tmp_path / ("a" * 300))
    result = runner.invoke(app, [a.format(long=long, log=log) for a in args])
    assert result.exit_code == 2 and "file name too long" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_a_name_of_250_bytes_is_still_written_atomically(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    log = tmp_path / "run.jsonl"
    log.write_text("".join(json.dumps({"type": "step", "step": i, "loss": 1.0 / (1 + i)}) + "\n" for i in range(30)))
    page = tmp_path / ("b" * 245 + ".html")
    assert runner.invoke(app, ["report", str(log), "-o", str(page)]).exit_code == 0 and page.is_file()
    train_log = tmp_path / ("c" * 244 + ".jsonl")
    train_log.write_text("old\n")
    result = runner.invoke(app, ["train", "--epochs", "1", "--no-live", "--log", str(train_log), "--overwrite"])
    assert result.exit_code in (0, 1) and train_log.read_text().startswith('{"type":"header"')


def test_watch_reads_a_fifo_with_a_fast_writer_whole(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    fifo = tmp_path / "run.fifo"
    os.mkfifo(fifo)
    lines = [{"type": "header", "num_classes": 3}, *({"type": "step", "step": i, "loss": 1.1 - i / 100}
                                                    for i in range(49)), {"type": "summary", "status": "completed"}]
    watch = subprocess.Popen([sys.executable, "-m", "babysit", "watch", str(fifo), "--no-live"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with fifo.open("w") as fh:  # opens once watch has the FIFO open for reading: no time waited on
        fh.write("".join(json.dumps(r) + "\n" for r in lines))
    out, _ = watch.communicate(timeout=120)
    assert watch.returncode in (0, 1), out
    assert "run completed: 49 steps read" in out


def test_two_overwriting_runs_on_one_log_cannot_both_succeed(tmp_path: Path) -> None:
    from babysit.training import JsonlSink
    log = tmp_path / "same.jsonl"
    first = JsonlSink(log)
    first.emit({"type": "header"})
    with pytest.raises(BabysitError, match="being written by another run"):
        JsonlSink(log, overwrite=True)  # the first run is live: refused before any work
    first.close()
    a, b = JsonlSink(log, overwrite=True), JsonlSink(log, overwrite=True)  # both over an old log
    a.emit({"type": "header", "run": "a"})
    with pytest.raises(BabysitError, match="being written by another run"):
        b.emit({"type": "header", "run": "b"})
    a.emit({"type": "step", "step": 0, "loss": 1.0})
    a.close()
    b.close()
    assert [json.loads(line)["type"] for line in log.read_text().splitlines()] == ["header", "step"]
    assert not list(tmp_path.glob(".*.tmp"))  # the refused run left nothing behind
    JsonlSink(log, overwrite=True).close()  # once no run holds it, --overwrite works again


def test_a_second_train_on_a_live_log_with_overwrite_is_refused(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from tests.waiting import wait_until
    log = tmp_path / "same.jsonl"
    first = subprocess.Popen([sys.executable, "-m", "babysit", "train", "--epochs", "100000", "--no-live",
                              "--log", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: log.exists() and log.stat().st_size > 0, "the first run's header")
        second = subprocess.run([sys.executable, "-m", "babysit", "train", "--epochs", "1", "--no-live",
                                 "--log", str(log), "--overwrite"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "being written by another run" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert json.loads(log.read_text().splitlines()[-1])["type"] == "summary"  # the first run's log, whole


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC])
def test_a_path_the_system_refuses_is_one_line_naming_it(code: int) -> None:
    """Issue 38 item 7: a read-only mount, a folder the user cannot enter, a full disk."""
    from babysit.cli.errors import reports_errors

    @reports_errors
    def command() -> None:
        raise OSError(code, os.strerror(code), "out/results.jsonl")

    said = io.StringIO()
    with pytest.raises(typer.Exit) as stop, contextlib.redirect_stderr(said):
        command()
    assert stop.value.exit_code == 2
    line = said.getvalue().strip()
    assert line.startswith("error: out/results.jsonl: ") and "\n" not in line


def test_search_into_a_folder_nobody_may_write_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A real refusal, as root too: an immutable folder (chattr +i) takes no new file."""
    import shutil
    import subprocess

    folder = tmp_path / "locked"
    folder.mkdir()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)],
                                                         capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable flag (chattr +i); the unit test above covers the message")
    try:
        result = runner.invoke(app, ["search", "--trials", "1", "--epochs", "1", "--no-live",
                                     "--results", str(folder / "res.jsonl")])
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert result.exit_code == 2 and "operation not permitted" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
