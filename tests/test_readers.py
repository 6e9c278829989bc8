"""TensorBoard and MLflow logs written by the real libraries, read back by babysit's readers."""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.readers import ReadStats, find_runs
from babysit.readers.tfevents import masked_crc

runner = CliRunner()


def diagnose(*args: str) -> tuple[int, dict]:
    """diagnose --json: the one run's report when the input held one usable run, else the
    whole {"runs", "unusable"} object."""
    result = runner.invoke(app, ["diagnose", *args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code not in (0, 1):
        return result.exit_code, {"error": result.output}
    out = json.loads(result.stdout)
    assert set(out) == {"runs", "unusable"}  # one shape, whatever the input holds
    return result.exit_code, out["runs"][0] if len(out["runs"]) == 1 and not out["unusable"] else out


def findings(report: dict) -> list[tuple[str, int]]:
    return [(f["rule"], f["step"]) for f in report["findings"]]


def digits_run(log_step, log_epoch, epochs: int = 3, lr: float = 0.05, blow_up: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A small PyTorch MLP on sklearn's digits; the learning rate jumps to 1e4 in the last epoch."""
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    train, val = slice(0, 1400), slice(1400, None)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    step = 0
    for epoch in range(epochs):
        if blow_up and epoch == epochs - 1:
            for group in opt.param_groups:
                group["lr"] = 1e4
        for i in range(0, 1400, 50):
            loss = torch.nn.functional.cross_entropy(model(x[train][i:i + 50]), y[train][i:i + 50])
            opt.zero_grad()
            loss.backward()
            opt.step()
            log_step(step, float(loss.detach()))
            step += 1
        with torch.no_grad():
            scores = model(x[val])
            val_loss = float(torch.nn.functional.cross_entropy(scores, y[val]))
            val_acc = float((scores.argmax(1) == y[val]).float().mean())
        log_epoch(step - 1, epoch, val_loss, val_acc)


def test_summarywriter_run_reads_like_the_same_run_in_jsonl(tmp_path: Path) -> None:
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = tensorboard.SummaryWriter(str(tmp_path / "tb"))
    lines: list[str] = []

    def step(s: int, loss: float) -> None:
        writer.add_scalar("Loss/train", loss, s)
        lines.append(json.dumps({"step": s, "loss": loss}))

    def epoch(s: int, e: int, val_loss: float, val_acc: float) -> None:
        writer.add_scalar("Loss/val", val_loss, s)
        writer.add_scalar("Accuracy/val", val_acc, s)
        lines.append(json.dumps({"step": s, "epoch": e, "val_loss": val_loss, "val_acc": val_acc}))

    digits_run(step, epoch)
    writer.close()
    (tmp_path / "same.jsonl").write_text("\n".join(lines) + "\n")
    code_tb, tb = diagnose(str(tmp_path / "tb"))
    code_jsonl, jsonl = diagnose(str(tmp_path / "same.jsonl"))
    assert code_tb == code_jsonl == 1 and tb["format"] == "tensorboard"
    assert any(rule in ("loss-nan", "loss-explosion") for rule, _ in findings(tb))
    assert findings(tb) == findings(jsonl)
    assert tb["steps"] == 84  # 28 per epoch; the epoch's validation metrics share the last step


def _lightning_fit(root: Path) -> None:
    pl = pytest.importorskip("pytorch_lightning")
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    data = torch.utils.data.TensorDataset(torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y))
    train, val = torch.utils.data.random_split(data, [1400, 397], generator=torch.Generator().manual_seed(0))

    class Net(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))

        def training_step(self, batch, _):  # type: ignore[no-untyped-def]
            loss = torch.nn.functional.cross_entropy(self.net(batch[0]), batch[1])
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, _):  # type: ignore[no-untyped-def]
            scores = self.net(batch[0])
            self.log("val_loss", torch.nn.functional.cross_entropy(scores, batch[1]))
            self.log("val_acc", (scores.argmax(1) == batch[1]).float().mean())

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.Adam(self.parameters(), lr=1e-2)

    torch.manual_seed(0)
    trainer = pl.Trainer(max_epochs=2, logger=pl.loggers.TensorBoardLogger(str(root)), log_every_n_steps=5,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                         accelerator="cpu", devices=1)
    trainer.fit(Net(), torch.utils.data.DataLoader(train, batch_size=50, shuffle=True),
                torch.utils.data.DataLoader(val, batch_size=200))


def test_lightning_tensorboard_versions_are_runs(tmp_path: Path) -> None:
    _lightning_fit(tmp_path)
    _lightning_fit(tmp_path)
    code, out = diagnose(str(tmp_path / "lightning_logs"))
    assert code in (0, 1), out
    assert [r["run"] for r in out["runs"]] == ["version_0", "version_1"]
    records = list(find_runs(tmp_path / "lightning_logs", run="version_1")[0].read(ReadStats(), None))
    steps = [r for r in records if r["type"] == "step"]
    assert sum("loss" in r for r in steps) >= 5 and sum("val_loss" in r and "val_acc" in r for r in steps) == 2
    assert all(r["epoch"] in (0, 1) for r in steps if "epoch" in r)
    code, single = diagnose(str(tmp_path / "lightning_logs"), "--run", "version_1")
    assert single["run"] == "version_1" and single["steps"] == len(steps)


def test_mlflow_sqlite_and_file_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    # Absolute: MLflow caches stores by URI, so a relative one would reuse another test's file.
    for uri in (f"sqlite:///{tmp_path / 'mlflow.db'}", f"file:{tmp_path / 'mlruns'}"):
        mlflow.set_tracking_uri(uri)
        with mlflow.start_run(run_name="healthy"):
            for i in range(60):
                mlflow.log_metric("train/loss", 2.3 * math.exp(-i / 15) + 0.05, step=i)
        with mlflow.start_run(run_name="blows-up"):
            for i in range(60):
                mlflow.log_metric("train/loss", 2.3 if i < 45 else math.nan, step=i)
    for store in ("mlflow.db", "mlruns"):
        code, out = diagnose(store)
        assert code == 1, out
        by_name = {r["run"]: r for r in out["runs"]}
        assert set(by_name) == {"healthy", "blows-up"} and by_name["healthy"]["steps"] == 60
        assert findings(by_name["blows-up"])[0] == ("loss-nan", 45)
        assert not any(f["severity"] == "error" for f in by_name["healthy"]["findings"])
        code, one = diagnose(store, "--run", "healthy")
        assert one["run"] == "healthy" and one["format"] == "mlflow"
    code, out = diagnose(str(tmp_path))  # the project folder: its mlflow.db
    assert code == 1 and len(out["runs"]) == 2
    (tmp_path / "mlflow.db").unlink()
    code, out = diagnose(str(tmp_path))  # the project folder: its mlruns/
    assert code == 1 and len(out["runs"]) == 2


def _event(step: int, tag: str, value: float, tensor: bool = False) -> bytes:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto

    if tensor:  # TF2's tf.summary.scalar: a rank-0 tensor
        v = Summary.Value(tag=tag, tensor=TensorProto(dtype=1, float_val=[value]))
    else:
        v = Summary.Value(tag=tag, simple_value=value)
    return Event(wall_time=1000.0 + step, step=step, summary=Summary(value=[v])).SerializeToString()


def _frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data))


def _write_events(path: Path, events: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(_frame(e) for e in events))
    return path


def test_keras_train_and_validation_dirs_are_one_run_and_tensor_scalars_read(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    run = tmp_path / "logs"
    _write_events(run / "train" / "events.out.tfevents.1.host",
                  [_event(e, "epoch_loss", 2.0 / (e + 1), tensor=True) for e in range(6)])
    _write_events(run / "validation" / "events.out.tfevents.1.host",
                  [_event(e, "epoch_loss", 2.2 / (e + 1), tensor=True) for e in range(6)]
                  + [_event(e, "epoch_accuracy", 0.5 + e / 20) for e in range(6)])
    (found,) = find_runs(run)
    steps = [r for r in found.read(ReadStats(), None) if r["type"] == "step"]
    assert len(steps) == 6 and steps[2]["loss"] == pytest.approx(2.0 / 3)
    assert steps[2]["val_loss"] == pytest.approx(2.2 / 3) and steps[5]["val_acc"] == pytest.approx(0.75)


def test_cut_and_damaged_event_files(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    events = [_event(i, "train_loss", 2.0 - i / 100) for i in range(40)]
    whole = b"".join(_frame(e) for e in events)
    cut = tmp_path / "cut" / "events.out.tfevents.1.h"
    cut.parent.mkdir()
    cut.write_bytes(whole[:-7])  # the writer is mid-record
    code, out = diagnose(str(cut))
    assert code in (0, 1) and out["steps"] == 39
    assert any("still writing" in n for n in out["notes"])
    damaged = tmp_path / "bad" / "events.out.tfevents.1.h"
    damaged.parent.mkdir()
    flipped = bytearray(whole)
    flipped[sum(len(_frame(e)) for e in events[:20]) + 14] ^= 0xFF  # inside record 21's data
    damaged.write_bytes(bytes(flipped))
    code, out = diagnose(str(damaged))
    assert out["steps"] == 20 and any("damaged TensorBoard record" in n for n in out["notes"]), out
    garbage = tmp_path / "junk" / "events.out.tfevents.1.h"
    garbage.parent.mkdir()
    garbage.write_bytes(os.urandom(200))
    code, out = diagnose(str(garbage))
    assert code == 2 and "damaged" in out["error"]


def test_tags_spelled_another_way_are_read_by_their_words(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    events = []
    for i in range(15):  # a healthy training loss, a validation loss rising from epoch 3
        events += [_event(i, "Loss/Train_Epoch", 1.2 * 0.7 ** i),
                   _event(i, "Loss/Val_Epoch", 0.9 + 0.1 * max(0, i - 3)),
                   _event(i, "Accuracy/Train_Modulation", 0.5)]  # one head of two: not read
    path = _write_events(tmp_path / "r" / "events.out.tfevents.1.h", events)
    code, out = diagnose(str(path))
    assert code == 1 and "overfitting" in {rule for rule, _ in findings(out)}
    assert "train_acc" not in json.dumps(out["findings"])


def test_map_reads_a_tag_of_the_users_own(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    path = _write_events(tmp_path / "r" / "events.out.tfevents.1.h",
                         [_event(i, "my/objective", 2.0 if i < 30 else math.nan) for i in range(40)])
    code, out = diagnose(str(path))
    assert code == 2 and "--map loss=TAG" in out["error"]
    code, out = diagnose(str(path), "--map", "loss=my/objective")
    assert code == 1 and findings(out)[0] == ("loss-nan", 30)
    code, out = diagnose(str(path), "--map", "nonsense=x")
    assert code == 2 and "--map expects FIELD=NAME" in out["error"]


def test_a_damaged_mlflow_database_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(500))
    code, out = diagnose(str(db))
    assert code == 2 and "cannot read" in out["error"] and "Traceback" not in out["error"]
    code, out = diagnose(str(tmp_path / "nope"), "--run", "x")
    assert code == 2
    (tmp_path / "empty_dir").mkdir()
    code, out = diagnose(str(tmp_path / "empty_dir"))
    assert code == 2 and "no log babysit reads" in out["error"]


FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=400) | st.lists(st.binary(max_size=60), max_size=8).map(
    lambda ds: b"".join(_frame(d) for d in ds)))
def test_event_reader_never_crashes(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "events.out.tfevents.fuzz"
    path.write_bytes(payload)
    result = runner.invoke(app, ["diagnose", str(path), "--json"])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@FUZZ
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=30)), max_size=6))
def test_mlflow_file_store_reader_never_crashes(tmp_path: Path, files: list[tuple[str, str]]) -> None:
    run = tmp_path / "store" / "0" / "abc"
    (run / "metrics").mkdir(parents=True, exist_ok=True)
    (run / "meta.yaml").write_text("run_id: abc\nstatus: 3\n")
    for name, text in files:
        safe = "".join(c for c in name if c.isalnum()) or "m"
        (run / "metrics" / safe).write_text(text)
    result = runner.invoke(app, ["diagnose", str(tmp_path / "store"), "--json"])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def _watch(*args: str):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from tests.waiting import Lines

    proc = subprocess.Popen([sys.executable, "-m", "babysit", "watch", *args, "--no-live"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, Lines(proc.stdout)  # type: ignore[arg-type]


def test_watch_follows_a_growing_tensorboard_run(tmp_path: Path) -> None:
    import signal

    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = tensorboard.SummaryWriter(str(tmp_path / "tb"))
    for i in range(30):
        writer.add_scalar("train_loss", 2.3, i)
    writer.flush()
    proc, out = _watch(str(tmp_path / "tb"))
    writer.add_scalar("train_loss", math.nan, 30)
    writer.flush()
    out.wait_for("ERROR loss-nan at step 30")  # shown live, while the writer is still open
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 1
    assert "stopped watching: 31 steps read" in out.rest()
    writer.close()


def test_watch_follows_a_live_mlflow_run_to_its_end(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")
    # Absolute: MLflow caches stores by URI, so a relative one would reuse another test's file.
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run(run_name="live") as active:
        for i in range(30):
            mlflow.log_metric("loss", 2.3, step=i)
        proc, out = _watch(str(tmp_path / "mlflow.db"), "--run", active.info.run_id)
        mlflow.log_metric("loss", math.nan, step=30)
        out.wait_for("ERROR loss-nan at step 30")
    out.wait_for("run completed: 31 steps read")  # the run ended: so does watching
    assert proc.wait(timeout=60) == 1


def test_an_empty_mlflow_store_is_one_line(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.search_experiments()  # creates the database, with no run
    code, out = diagnose(str(tmp_path / "mlflow.db"))
    assert code == 2 and "holds no run" in out["error"]


def test_mlflow_values_that_are_not_numbers_are_counted_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: a metric value or step that is a string or a BLOB raised ValueError."""
    mlflow = pytest.importorskip("mlflow")
    import sqlite3

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run(run_name="damaged"):
        for i in range(60):
            mlflow.log_metric("loss", 2.3 * math.exp(-i / 15) + 0.05, step=i)
    db = sqlite3.connect(tmp_path / "mlflow.db")
    db.execute("UPDATE metrics SET value = 'abc' WHERE step = 3")
    db.execute("UPDATE metrics SET value = x'00ff' WHERE step = 4")
    db.execute("UPDATE metrics SET step = 'seven' WHERE step = 7")
    db.commit()
    db.close()
    code, out = diagnose("mlflow.db")
    assert code in (0, 1) and out["steps"] == 57, out
    result = runner.invoke(app, ["diagnose", "mlflow.db"])
    assert result.exit_code in (0, 1) and "3 malformed" in result.output.replace("\n", " "), result.output


def test_one_unusable_run_never_hides_the_good_ones(tmp_path: Path) -> None:
    """Issue 22: a TensorBoard folder with one good run and an empty / text-only / random one
    exited 2 for the whole input; the good run was never diagnosed (diagnose, --json, report)."""
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event

    logs = tmp_path / "logs"
    _write_events(logs / "good" / "events.out.tfevents.1.h",
                  [_event(i, "train_loss", 2.3 if i < 30 else math.nan) for i in range(40)])
    _write_events(logs / "text" / "events.out.tfevents.1.h",
                  [Event(wall_time=1.0, step=0, file_version="brain.Event:2").SerializeToString()])
    (logs / "random" / "events.out.tfevents.1.h").parent.mkdir(parents=True)
    (logs / "random" / "events.out.tfevents.1.h").write_bytes(os.urandom(300))
    code, out = diagnose(str(logs))
    assert code == 1 and [r["run"] for r in out["runs"]] == ["good"], out
    assert sorted(u["run"] for u in out["unusable"]) == ["random", "text"]
    assert findings(out["runs"][0])[0][0] == "loss-nan"
    shown = runner.invoke(app, ["diagnose", str(logs)])
    said = " ".join(shown.output.split())
    assert shown.exit_code == 1 and "run text: not diagnosed:" in said and "run random:" in said
    pytest.importorskip("matplotlib")
    page = runner.invoke(app, ["report", str(logs), "-o", str(tmp_path / "r.html")])
    assert page.exit_code == 0, page.output
    html = (tmp_path / "r.html").read_text()
    assert "loss-nan" in html and html.count("not diagnosed:") == 2
    only_bad = tmp_path / "bad"
    (only_bad / "text").mkdir(parents=True)
    (logs / "text" / "events.out.tfevents.1.h").rename(only_bad / "text" / "events.out.tfevents.1.h")
    assert runner.invoke(app, ["diagnose", str(only_bad)]).exit_code == 2  # nothing usable at all


def test_map_renames_a_jsonl_field_and_appended_runs_are_read_apart(tmp_path: Path) -> None:
    log = tmp_path / "mine.jsonl"
    rising = [json.dumps({"step": i, "Train_Loss": 2.3 * 1.1 ** i}) for i in range(60)]
    log.write_text("\n".join(rising) + "\n")
    code, out = diagnose(str(log))
    assert code == 2 and "nothing to diagnose" in out["error"]
    assert "--map loss=Train_Loss" in out["error"]  # the hint names the log's own key
    code, out = diagnose(str(log), "--map", "loss=train_loss")
    assert code == 1 and "loss-explosion" in {f["rule"] for f in out["findings"]}

    two = tmp_path / "two.jsonl"  # `>>` twice: two runs, the second one's header mid-file
    falling = [json.dumps({"step": i, "loss": 2.3 * 0.98 ** i}) for i in range(60)]
    header = json.dumps({"type": "header", "note": 'a step may say "type": "header" in text'})
    decoy = json.dumps({"step": 60, "loss": 0.6, "note": '"type": "header"'})
    two.write_text("\n".join([header, *falling, decoy, header.replace(" ", ""),
                              *[line.replace("Train_Loss", "loss") for line in rising]]) + "\n")
    code, out = diagnose(str(two))
    assert code == 1 and [run["run"] for run in out["runs"]] == ["two.jsonl#1", "two.jsonl#2"]
    assert [run["steps"] for run in out["runs"]] == [61, 60]
    assert [bool(run["findings"]) and "loss-explosion" in {f["rule"] for f in run["findings"]}
            for run in out["runs"]] == [False, True]


def test_keras_runs_appended_to_one_csv_are_read_apart(tmp_path: Path) -> None:
    # Two Keras runs in one CSVLogger file (append=True): the second's epochs start again at 0.
    # Read as one, its first epoch (accuracy 0.34 after the first run's 0.53) looked like a
    # net falling from its best: training-unstable on two healthy runs.
    rows = ["epoch,accuracy,loss,val_accuracy,val_loss"]
    for run in range(2):
        rows += [f"{e},{0.34 + 0.05 * e + 0.02 * run},{1.2 - 0.05 * e},{0.5 + 0.02 * e},"
                 f"{1.1 - 0.04 * e}" for e in range(5 + run)]
    log = tmp_path / "training.csv"
    log.write_text("\n".join(rows) + "\n")
    code, out = diagnose(str(log))
    assert code == 0 and [r["run"] for r in out["runs"]] == ["training.csv#1", "training.csv#2"]
    assert [r["steps"] for r in out["runs"]] == [5, 6]
    resumed = tmp_path / "resumed.csv"  # a resumed run continues its epochs: one run
    resumed.write_text("\n".join(rows[:6] + [f"{e}" + rows[e - 4][1:] for e in range(5, 9)]) + "\n")
    code, out = diagnose(str(resumed))
    assert code in (0, 1) and out.get("steps") == 9


def _read(path: Path) -> list[dict]:
    [run] = find_runs(path)
    return [r for r in run.read(ReadStats(), lambda step: False) if r.get("type") == "step"]


def test_one_series_is_read_from_one_name_in_tensorboard(tmp_path: Path) -> None:
    """Lightning logs `val_loss_step` per validation batch (at batch indices) beside the
    epoch's `val_loss_epoch`: the validation loss is the epoch's, never the batches' mixed in."""
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = tensorboard.SummaryWriter(str(tmp_path / "tb"))
    for step in range(60):
        writer.add_scalar("train_loss_step", 2.0 / (1 + step), step)
        writer.add_scalar("val_loss_step", 5.0 + step % 7, step)  # per val batch, at batch index
    for epoch, step in enumerate((19, 39, 59)):
        writer.add_scalar("val_loss_epoch", 0.5 - 0.1 * epoch, step)
    writer.close()
    steps = _read(tmp_path / "tb")
    assert [r["val_loss"] for r in steps if "val_loss" in r] == pytest.approx([0.5, 0.4, 0.3])
    assert len([r for r in steps if "loss" in r]) == 60


def test_one_series_is_read_from_one_name_in_a_csv(tmp_path: Path) -> None:
    """A Lightning CSV with a per-step and a per-epoch training loss reads the per-step one
    only: an epoch row's mean is not a step's loss."""
    rows = ["epoch,step,train_loss_step,train_loss_epoch,val_loss"]
    for step in range(30):
        rows.append(f"{step // 10},{step},{1.0 / (1 + step)},,")
        if step % 10 == 9:
            rows.append(f"{step // 10},{step},,9.0,{0.7 - step / 100}")
    (tmp_path / "metrics.csv").write_text("\n".join(rows) + "\n")
    losses = [r["loss"] for r in _read(tmp_path / "metrics.csv") if "loss" in r]
    assert losses == pytest.approx([1.0 / (1 + s) for s in range(30)])
