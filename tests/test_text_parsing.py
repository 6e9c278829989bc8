"""Printed training output, line by line and as runs: each kind of line seen in the wild, with
near misses (numbers that are settings, durations, test scores, config lines)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babysit.errors import BabysitError
from babysit.readers import FieldMap, ReadStats, find_runs
from babysit.readers.printed import epochs_go_back, run_starts
from babysit.readers.sniff import kind_of
from babysit.readers.textlines import parse


@pytest.mark.parametrize("line, epoch, pos, metrics", [
    ("375/375 [==============================] - 2s 5ms/step - loss: 0.4114 - accuracy: 0.8512 "
     "- val_loss: 0.4583 - val_accuracy: 0.8390", None, (375, 375),
     {"loss": 0.4114, "accuracy": 0.8512, "val_loss": 0.4583, "val_accuracy": 0.839}),
    ("2025-06-22 20:17:58,204 INFO: Epoch 0: Train Loss 0.975450 | Val Loss 0.964775 | LR 5.00e-05",
     0, None, {"train_loss": 0.97545, "val_loss": 0.964775, "lr": 5e-05}),
    ("INFO:root:Epoch [6/6], Step [10/1549], Loss: 0.0490", 6, (10, 1549), {"loss": 0.049}),
    ("Epoch [1/10] Train Loss: 3.9622 Val Loss: 2.8424", 1, None, {"train_loss": 3.9622, "val_loss": 2.8424}),
    ("2023-05-15 22:50:17,398 INFO:Epoch 1: Train Loss=0.0717, Val Loss=0.0766", 1, None,
     {"train_loss": 0.0717, "val_loss": 0.0766}),
    ("{'loss': 0.5012, 'grad_norm': 3.1, 'learning_rate': 4.9e-05, 'epoch': 0.12}", 0.12, None,
     {"loss": 0.5012, "grad_norm": 3.1, "learning_rate": 4.9e-05}),
    ("Epoch 3: 100%|██████████| 50/50 [00:02<00:00, 20.01it/s, loss=0.41, v_num=0, val_loss=0.52]",
     3, (50, 50), {"loss": 0.41, "v_num": 0.0, "val_loss": 0.52}),
    ("02:54:32 train INFO | epoch 000 | lr=9.99e-04 | train mae=0.0819 loss=46.5286 | val mae=0.0850 "
     "loss=0.2170 | 12.4s", 0, None,
     {"lr": 9.99e-04, "train_mae": 0.0819, "train_loss": 46.5286, "val_mae": 0.085, "val_loss": 0.217}),
    ("Train: loss=0.5 acc=0.8 | Val: loss=0.6 acc=0.7", None, None,
     {"train_loss": 0.5, "train_acc": 0.8, "val_loss": 0.6, "val_acc": 0.7}),
    ("\x1b[1m34/34\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m2s\x1b[0m 48ms/step - accuracy: 0.5063 - "
     "loss: 0.6776", None, (34, 34), {"accuracy": 0.5063, "loss": 0.6776}),
    ("1/9 [==>....] - loss: 2.3\r9/9 [========] - loss: 1.2 - val_loss: 1.4", None, (9, 9),
     {"loss": 1.2, "val_loss": 1.4}),
    ("ic| loss: tensor(nan, grad_fn=<NllLossBackward0>)", None, None, {"loss": float("nan")}),
    # near misses: durations, rates, settings and counts are no metrics
    ("128/128 - 5s - 5s/epoch - 43ms/step", None, (128, 128), {}),
    ("Loading 4378 spectra, 6 compounds", None, None, {"loading": 4378.0}),
    ("DÉMO INFÉRENCE V2 - 3 classes", None, None, {}),
])
def test_a_line_names_its_numbers(line: str, epoch: float | None, pos: tuple[int, int] | None,
                                  metrics: dict[str, float]) -> None:
    got = parse(line)
    assert got.epoch == epoch
    assert (got.pos, got.pos_total) == (pos or (None, None))
    assert got.metrics.keys() == metrics.keys()
    for key, value in metrics.items():
        assert got.metrics[key] == pytest.approx(value, nan_ok=True)


def test_a_printed_table_names_the_numbers_of_its_rows() -> None:
    head = parse("20:33:37  INFO     Epoch     TrLoss    ValLoss     TrAcc    ValAcc         LR")
    assert head.columns == ["epoch", "tr_loss", "val_loss", "tr_acc", "val_acc", "lr"]
    row = parse("20:33:39  INFO        1     1.0929     1.0936    45.29%    50.00%   0.001000", head.columns)
    assert row.row and row.epoch == 1
    assert row.metrics == {"tr_loss": 1.0929, "val_loss": 1.0936, "tr_acc": 45.29, "val_acc": 50.0, "lr": 0.001}
    assert row.percent == {"tr_acc", "val_acc"}
    assert not parse("   accuracy     0.4900   100", head.columns).row  # not its width: not a row


def records(tmp_path: Path, text: str | bytes, name: str = "train.log") -> list[list[dict]]:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return [[r for r in run.read(ReadStats(), None) if r["type"] == "step"] for run in find_runs(path)]


def test_keras_epochs_read_as_a_keras_csv_does(tmp_path: Path) -> None:
    text = "".join(f"Epoch {e}/3\n32/32 [======] - 1s 3ms/step - loss: {1 / e:.3f} - accuracy: {0.5 + e / 10:.2f}"
                   f" - val_loss: {1.2 / e:.3f} - val_accuracy: {0.4 + e / 10:.2f}\r\n" for e in (1, 2, 3))
    [steps] = records(tmp_path, text)
    assert [(r["step"], r["epoch"]) for r in steps] == [(1, 1), (2, 2), (3, 3)]
    assert steps[-1] == {"type": "step", "step": 3, "epoch": 3, "loss": 0.333, "train_acc": 0.8,
                         "val_loss": 0.4, "val_acc": 0.7}


def test_per_step_lines_are_placed_by_epoch_and_batch_and_epoch_lines_join_them(tmp_path: Path) -> None:
    text = "".join(f"Epoch [{e}/2], Step [{s}/100], Loss: {2 - e / 2 - s / 400:.4f}\n" for e in (1, 2)
                   for s in (50, 100)) + "Epoch 2 Val Loss: 1.1 Val Acc: 61.5%\n"
    [steps] = records(tmp_path, text)
    assert [r["step"] for r in steps] == [50, 100, 150, 200]
    assert steps[-1]["val_loss"] == 1.1 and steps[-1]["val_acc"] == pytest.approx(0.615)


def test_a_step_counter_that_restarts_each_epoch_keeps_counting(tmp_path: Path) -> None:
    text = "".join(f"epoch {e} step {s} loss {1 / (1 + e + s):.4f}\n" for e in (1, 2) for s in (0, 50, 100))
    [steps] = records(tmp_path, text)
    assert [r["step"] for r in steps] == sorted({r["step"] for r in steps})
    assert len(steps) == 6


def test_scores_after_the_loop_without_a_split_are_not_training_metrics(tmp_path: Path) -> None:
    text = ("Epoch 1 | train_loss=1.0 | val_loss=1.1\nEpoch 2 | train_loss=0.8 | val_loss=0.9\n"
            "Test Accuracy: 91.2%\nAccuracy    : 0.91\n              accuracy    0.91    100\n")
    [steps] = records(tmp_path, text)
    assert all("train_acc" not in r for r in steps)


def test_several_runs_in_one_file_are_several_runs(tmp_path: Path) -> None:
    one = "".join(f"Epoch {e}/3\n8/8 - 0s - loss: {1 / e:.3f}\n" for e in (1, 2, 3))
    runs = records(tmp_path, "Model: small\n" + one + "Model: big\n" + one + "best epoch: 2\n")
    assert [len(r) for r in runs] == [3, 3]
    assert run_starts(lambda: ["Epochs=60", "Epoch 1 loss 1.0", "Epoch 2 loss 0.9"]) == [0]
    assert epochs_go_back([b"Epoch 1 loss 1\nEPOCH 2 loss 0.5\nbest_ep", b"och: 1\n"])  # any case, cut anywhere
    assert not epochs_go_back([b"Epoch 1 loss 1\nEpoch 2", b" loss 0.5\n5s/epoch - 43ms/step\n"])
    # a closing `best epoch` is no run; a mention glued to a word (`best_epoch`) is no epoch
    assert run_starts(lambda: ["Epoch 1 loss 1.0", "Epoch 2 loss 0.9", "best epoch: 1"]) == [0]
    assert run_starts(lambda: ["Epoch 5 loss 1.0", "best_epoch: 1", "Epoch 6 loss 0.9"]) == [0]
    assert run_starts(lambda: ["Epoch 5 loss 1.0", "x"] * 3000 + ["Epoch 1 loss 2", "Epoch 2 loss 1"]) == [0, 6000]
    long = [f"Epoch {epoch} loss 1.0" + " " * 300_000 for epoch in range(5, 25)]
    assert run_starts(lambda: long + ["Epoch 1 loss 2", "Epoch 2 loss 1"]) == [0, 20]  # blocks cut by size


def test_utf16_and_latin1_captures_are_read(tmp_path: Path) -> None:
    text = "".join(f"Epoch {e}/2 - loss: {1 / e:.2f} - acc: 0.{e}\r\n" for e in (1, 2))
    assert text.encode("utf-16")[:2] in (b"\xff\xfe", b"\xfe\xff")  # with its byte-order mark
    assert len(records(tmp_path, text.encode("utf-16"))[0]) == 2
    assert len(records(tmp_path, "Données chargées\n".encode("latin-1") + text.encode())[0]) == 2


@pytest.mark.parametrize("content, kind", [
    (b'{"type": "header"}\n{"loss": 1.0}\n', "jsonl"),
    (b'{\n  "log_history": []\n}\n', "json"),
    (b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n", "csv"),
    (b"\xef\xbb\xbfepoch,train-loss\n0,1.0\n", "csv"),
    (b"Epoch 1/2\nloss: 1.0, acc: 0.5\n", "text"),
    (b"{'loss': 0.5, 'epoch': 0.1}\n", "text"),
    (bytes(range(256)) * 4, "binary"),
])
def test_the_format_is_told_by_the_bytes(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "training.log"
    path.write_bytes(content)
    assert kind_of(path) == kind


def test_a_keras_csv_named_training_log_with_a_bom_and_hyphens_is_read(tmp_path: Path) -> None:
    text = "\ufeffepoch,train-loss,val-loss,val-acc\n" + "".join(
        f"{e},{1 / (e + 1):.3f},{1.1 / (e + 1):.3f},0.{e + 5}\n" for e in range(4))
    [steps] = records(tmp_path, text.encode(), "training.log")
    assert [r["epoch"] for r in steps] == [0, 1, 2, 3]
    assert {"loss", "val_loss", "val_acc"} <= steps[0].keys()


def test_a_logging_loop_is_read(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    logger = logging.getLogger("babysit-test-loop")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s:%(name)s:%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for epoch in range(1, 6):
            logger.info("Epoch %d/5 | Loss: %.4f | Val Loss: %.4f | Val Acc: %.2f%%", epoch,
                        1 / epoch, 1.2 / epoch, 50 + epoch)
    finally:
        logger.removeHandler(handler)
        handler.close()
    [run] = find_runs(path)
    steps = [r for r in run.read(ReadStats(), None) if r["type"] == "step"]
    assert [r["epoch"] for r in steps] == [1, 2, 3, 4, 5]
    assert steps[-1]["val_acc"] == pytest.approx(0.55)


def test_a_tqdm_loop_is_read(tmp_path: Path) -> None:
    tqdm = pytest.importorskip("tqdm").tqdm
    path = tmp_path / "bar.txt"
    with path.open("w") as fh:
        for epoch in range(1, 3):
            bar = tqdm(range(40), file=fh, desc=f"Epoch {epoch}", mininterval=0, ascii=True)
            for i in bar:
                bar.set_postfix(loss=f"{2 / (1 + i + 40 * epoch):.4f}")
            bar.close()
    [run] = find_runs(path)
    steps = [r for r in run.read(ReadStats(), None) if r["type"] == "step"]
    assert len(steps) >= 2 and steps[-1]["epoch"] == 2
    assert steps[-1]["loss"] < steps[0]["loss"]


def test_a_keras_history_json_is_a_run(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"loss": [1.0, 0.8, 0.7], "accuracy": [0.5, 0.6, 0.7],
                                "val_loss": [1.1, 0.9, 0.95], "val_accuracy": [0.4, 0.5, 0.55]}))
    [run] = find_runs(path)
    steps = [r for r in run.read(ReadStats(), None) if r["type"] == "step"]
    assert run.format == "keras_history" and [r["step"] for r in steps] == [0, 1, 2]
    assert steps[1] == {"type": "step", "step": 1, "epoch": 1, "loss": 0.8, "train_acc": 0.6,
                        "val_loss": 0.9, "val_acc": 0.5}


def test_a_notebooks_training_cells_are_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    fit = "".join(f"Epoch {e}/3\n10/10 - 0s - loss: {1 / e:.3f} - accuracy: 0.{e + 4}\n" for e in (1, 2, 3))
    nb.cells = [nbformat.v4.new_code_cell("print('hi')", outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text="hi\nAccuracy: 53%\n")]),
                nbformat.v4.new_code_cell("model.fit(...)", outputs=[
                    nbformat.v4.new_output("display_data", data={"image/png": "iVBOR" * 1000}),
                    nbformat.v4.new_output("stream", name="stdout", text=fit + fit)])]
    path = tmp_path / "lab.ipynb"
    path.write_text(nbformat.writes(nb))
    runs = find_runs(path)
    assert [r.name for r in runs] == ["lab.ipynb#cell 2.1", "lab.ipynb#cell 2.2"]
    assert len([r for r in runs[1].read(ReadStats(), None) if r["type"] == "step"]) == 3


@pytest.mark.parametrize("content, message", [
    (bytes(range(256)) * 10, "binary file"),
    (b"hello\nworld\n", "no training metric"),
    (b"x" * (3 << 20) + b"\n", "no training metric"),
])
def test_text_that_holds_no_run_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(content)
    with pytest.raises(BabysitError, match=message):
        for run in find_runs(path):
            list(run.read(ReadStats(), None))


def test_an_overlong_line_is_skipped_and_counted_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"epoch 1 loss 2.0\n" + b"x" * (3 << 20) + b"\nepoch 2 loss 1.0\n")
    stats = ReadStats()
    [run] = find_runs(path)
    assert [r["loss"] for r in run.read(stats, None) if r["type"] == "step"] == [2.0, 1.0]
    assert stats.long_lines == 1


def test_a_notebook_too_large_to_read_whole_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from babysit.readers import documents
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 1000)
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps({"cells": [], "nbformat": 4, "pad": "x" * 2000}))
    with pytest.raises(BabysitError, match="reads one up to"):
        find_runs(path)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("Epoch lossacval:=|/[]()-%.,0123456789eE\r\b\t{}'"
                                                      "\x1bé━")), max_size=80), max_size=20))
def test_any_text_gives_records_or_one_clear_error(tmp_path_factory: pytest.TempPathFactory,
                                                   lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "out.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        for run in find_runs(path, FieldMap()):
            for record in run.read(ReadStats(), None):
                assert record["type"] in ("header", "step")
                if record["type"] == "step":
                    assert isinstance(record["step"], int)
    except BabysitError:
        pass


def test_a_wandb_folders_runs_are_found_and_read_through_their_captured_output(tmp_path: Path) -> None:
    wandb_dir = tmp_path / "wandb"
    for run, losses in (("run-20250101_100000-aaaa1111", (1.0, 0.8, 0.6)), ("run-20250102_100000-bbbb2222", (2.0, 2.1, 2.0))):
        files = wandb_dir / run / "files"
        files.mkdir(parents=True)
        (files / "output.log").write_text("".join(f"epoch {e} | train_loss={v} | val_loss={v + 0.1}\n"
                                                  for e, v in enumerate(losses, 1)))
        (files / "wandb-summary.json").write_text(json.dumps({"train_loss": losses[-1]}))
        (wandb_dir / run / f"{run.split('-')[-1]}.wandb").write_bytes(b"\x00binary history")
    (wandb_dir / "latest-run").symlink_to(wandb_dir / "run-20250102_100000-bbbb2222")
    runs = find_runs(wandb_dir)
    assert [r.name for r in runs] == ["run-20250101_100000-aaaa1111", "run-20250102_100000-bbbb2222"]
    stats = ReadStats()
    steps = [r for r in runs[0].read(stats, None) if r["type"] == "step"]
    assert [r["loss"] for r in steps] == [1.0, 0.8, 0.6] and steps[-1]["val_loss"] == pytest.approx(0.7)
    assert (stats.described or "").startswith("read as printed output")  # no W&B log to decode here
    assert [r.name for r in find_runs(wandb_dir / "run-20250101_100000-aaaa1111")] == ["run-20250101_100000-aaaa1111"]


_JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                         st.sampled_from(["cells", "outputs", "text", "data", "text/plain", "output_type",
                                          "stream", "cell_type", "code", "loss", "val_loss", "accuracy"]),
                         inner, max_size=4), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(_JSON, st.sampled_from(["nb.ipynb", "history.json", "other.json"]))
def test_any_json_document_gives_runs_or_one_clear_error(tmp_path_factory: pytest.TempPathFactory,
                                                         doc: object, name: str) -> None:
    path = tmp_path_factory.mktemp("docs") / name
    path.write_text(json.dumps(doc))
    try:
        for run in find_runs(path):
            for record in run.read(ReadStats(), None):
                assert record["type"] in ("header", "step")
    except BabysitError:
        pass


def test_a_counter_that_is_no_number_places_nothing(tmp_path: Path) -> None:
    [steps] = records(tmp_path, "epoch nan step inf loss 0.5\nepoch 1 step 2 loss 0.4\n")
    assert [r["loss"] for r in steps] == [0.5, 0.4] and all(isinstance(r["step"], int) for r in steps)
