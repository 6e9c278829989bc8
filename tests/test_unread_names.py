"""Loss-like names: read by their words where the meaning is one, else named in a note with the
--map that reads them (a run judged without its loss must not say "No problems found" silently)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.readers import FieldMap, ReadStats, find_runs
from babysit.readers.fields import loss_like, map_for, spelled_field

runner = CliRunner()


def notes_of(*args: str) -> list[dict]:
    """diagnose --json's runs (each with its notes)."""
    result = runner.invoke(app, ["diagnose", *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["runs"]


def unread_note(run: dict) -> str | None:
    return next((n for n in run["notes"] if "not read:" in n), None)


@pytest.mark.parametrize(("name", "field"), [
    ("train/nll_loss", "loss"), ("train_elbo_loss", "loss"), ("val/rmse_loss", "val_loss"),
    ("cross_entropy_loss", "loss"), ("eval/mse_loss", "val_loss"),
    ("train/kl_loss", None), ("recon_loss", None), ("charts/loss", None), ("nll", None)])
def test_a_loss_named_by_its_kind_is_read_and_a_part_of_one_is_not(name: str, field: str | None) -> None:
    hit = spelled_field(name)
    assert (hit[0] if hit else None) == field


@pytest.mark.parametrize(("name", "lossy"), [
    ("charts/loss", True), ("train_kl_loss", True), ("trainloss", True), ("val/rmse", False),
    ("best_val_loss", False), ("test_loss", False), ("train/train_loss", False),
    ("loss_scale", False), ("loss_weight", False), ("accuracy", False), ("grad_norm", False)])
def test_what_reads_as_a_loss(name: str, lossy: bool) -> None:
    assert loss_like(name) is lossy


def test_the_map_suggested_names_the_split() -> None:
    assert map_for("charts/loss") == "loss=charts/loss"
    assert map_for("Eval/KL_loss") == "val_loss=Eval/KL_loss"
    assert map_for("test_loss") == "val_loss=test_loss"


def test_a_plain_loss_name_wins_over_one_named_by_its_kind(tmp_path: Path) -> None:
    rows = ["step,train/nll_loss,train/loss"] + [f"{s},{9.0 + s},{1.0 / (1 + s)}" for s in range(5)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    [run] = find_runs(tmp_path / "m.csv")
    losses = [r["loss"] for r in run.read(ReadStats(), None) if "loss" in r]
    assert losses == pytest.approx([1.0 / (1 + s) for s in range(5)])


def test_a_run_whose_loss_was_not_read_says_so_with_the_map_that_reads_it(tmp_path: Path) -> None:
    rows = ["step,charts/loss,losses/kl_loss,val_acc"]
    rows += [f"{s},{2.3 - 0.01 * s},0.1,{0.1 + 0.01 * s}" for s in range(40)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    [run] = notes_of(str(tmp_path / "m.csv"))
    note = unread_note(run)
    assert note is not None and note.startswith("no training loss was read")
    assert "charts/loss, losses/kl_loss" in note and "--map loss=charts/loss" in note
    [run] = notes_of(str(tmp_path / "m.csv"), "--map", "loss=charts/loss")
    note = unread_note(run)  # the part of the loss is still named; the loss itself was read
    assert note is not None and "no training loss" not in note and "charts/loss" not in note
    assert run["steps"] == 40


def test_a_run_with_every_loss_read_has_no_note(tmp_path: Path) -> None:
    rows = ["step,train/loss,val/rmse_loss,loss_scale"] + [f"{s},{1 / (1 + s)},0.5,65536" for s in range(9)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    [run] = notes_of(str(tmp_path / "m.csv"))
    assert unread_note(run) is None


def test_each_run_of_an_input_names_its_own_unread_names(tmp_path: Path) -> None:
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    for name, extra in (("a", "losses/td_loss"), ("b", None)):
        writer = tensorboard.SummaryWriter(str(tmp_path / "tb" / name))
        for step in range(30):
            writer.add_scalar("train/loss", 2.0 / (1 + step), step)
            if extra:
                writer.add_scalar(extra, 0.3, step)
        writer.close()
    runs = {run["run"]: unread_note(run) for run in notes_of(str(tmp_path / "tb"))}
    assert runs["b"] is None
    assert runs["a"] is not None and "losses/td_loss" in runs["a"] and "no training loss" not in runs["a"]


def test_a_jsonl_log_names_its_unread_losses_but_not_babysits_own_fields(tmp_path: Path) -> None:
    lines = [{"step": s, "loss": 2.0 / (1 + s), "data_loss": 1.9 / (1 + s), "reg_loss": 0.1,
              "aux_loss": 0.2} for s in range(20)]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    [run] = notes_of(str(tmp_path / "r.jsonl"))
    note = unread_note(run)
    assert note is not None and "aux_loss" in note and "data_loss" not in note and "reg_loss" not in note


def test_printed_output_names_a_loss_it_did_not_read(tmp_path: Path) -> None:
    lines = [f"Epoch {s // 10} step {s} loss {2.0 / (1 + s):.4f} recon_loss 0.3" for s in range(30)]
    (tmp_path / "out.txt").write_text("\n".join(lines) + "\n")
    [run] = notes_of(str(tmp_path / "out.txt"))
    note = unread_note(run)
    assert note is not None and "recon_loss" in note and "--map loss=recon_loss reads it" in note


def test_the_names_kept_are_bounded(tmp_path: Path) -> None:
    fields = FieldMap()
    for i in range(500):
        fields.field_of(f"head{i}/loss")
    assert len(fields.unread) == 20
