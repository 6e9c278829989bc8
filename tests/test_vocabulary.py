"""Remedies said in the terms of the framework the run came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.diagnostics.vocabulary import say

ZOO = Path(__file__).parent / "fixtures" / "zoo"


@pytest.mark.parametrize("framework,changes,said", [
    ("torch", {"reg": 1e-4}, "weight_decay=0.0001 in the optimizer"),
    ("torch", {"init": "he", "bias_init": 0.01}, "nn.init.kaiming_normal_(weight), "
                                                 "nn.init.constant_(bias, 0.01)"),
    ("lightning", {"batchnorm": True}, "nn.BatchNorm1d / BatchNorm2d after each Linear / Conv"),
    ("keras", {"lr": 0.001}, "learning_rate=0.001 in the optimizer"),
    ("keras", {"init": "he"}, 'kernel_initializer="he_normal"'),
    ("keras", {"lr": "x0.1"}, "learning_rate x0.1"),
    ("transformers", {"reg": "x10"}, "weight_decay x10"),
    ("transformers", {"hidden": "one more layer"}, "one more layer"),
    ("torch", {"hidden": "x4 units"}, "x4 units in each hidden layer"),
    (None, {"bias_init": 0.01}, "bias_init=0.01"),  # babysit's own runs: its option names
    # "init xavier": the scheme's name was taken for a relative change ("x0.1")
    ("torch", {"init": "xavier"}, "nn.init.xavier_normal_(weight)"),
    ("keras", {"init": "xavier"}, 'kernel_initializer="glorot_normal"'),
    (None, {"init": "xavier"}, "init=xavier"),
])
def test_changes_are_said_as_the_framework_spells_them(framework: str | None, changes: dict,
                                                       said: str) -> None:
    assert say(changes, framework) == said


def test_a_keras_log_gets_keras_advice_and_json_keeps_babysits_names() -> None:
    path = ZOO / "keras" / "keras-lr-far-too-high-s0.csv"
    result = CliRunner().invoke(app, ["diagnose", str(path)], env={"COLUMNS": "250"})
    assert "try: learning_rate x0.1" in result.output and "try: lr" not in result.output
    out = json.loads(CliRunner().invoke(app, ["diagnose", str(path), "--json"]).stdout)
    remedy = out["runs"][0]["findings"][0]["remedies"][0]
    assert remedy["set"] == {"lr": "x0.1"} and remedy["say"] == "learning_rate x0.1"


def test_a_torch_monitor_log_knows_its_weight_decay(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from babysit.diagnostics.runs import diagnose_runs
    from babysit.torch import Monitor

    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.0)
    with Monitor(model, opt, log=tmp_path / "t.jsonl", verbose=False) as monitor:
        monitor.step(torch.tensor(1.0))
    (_, report, _), = diagnose_runs(tmp_path / "t.jsonl")[0]
    assert report.context["framework"] == "torch" and report.context["reg"] == 0.0


def test_a_chain_of_changes_to_one_number_says_why_each_follows() -> None:
    from babysit.diagnostics.vocabulary import say_chain

    # a run at lr 1e-9: the measured jump first, then smaller and larger steps from the start
    said = say_chain([{"lr": 1e-3}, {"lr": 1e-8}, {"lr": 1e-7}], {"lr": 1e-9}, None)
    assert said == ["lr=0.001", "lr=1e-08 (if that went too far)", "lr=1e-07 (if that was not enough)"]
    assert say_chain([{"lr": 3.0}, {"batchnorm": True}], {"lr": 30.0}, "torch") == [
        "lr=3 in the optimizer", "nn.BatchNorm1d / BatchNorm2d after each Linear / Conv"]


def test_a_babysit_runs_remedy_is_a_command_line_to_paste(tmp_path) -> None:
    # issue 36: "try: init=he", "batchnorm=True" could not be pasted
    import shlex

    from typer.testing import CliRunner

    from babysit.cli.app import app
    from babysit.diagnostics.vocabulary import babysit_command

    run = {"data": "digits", "epochs": 1, "hidden": [100], "batchnorm": False, "lr": 0.01,
           "scale_first_layer": True}
    command = babysit_command(run, {"batchnorm": True, "init": "xavier", "hidden": [64, 64]})
    assert command == ("babysit train --data digits --hidden 64,64 --init xavier "
                       "--scale-first-layer --batchnorm --epochs 1")
    assert babysit_command(run, {"hidden": "x4 units"}) is None  # relative: nothing to paste
    # the line runs as it is
    words = shlex.split(command)[2:] + ["--log", str(tmp_path / "r.jsonl"), "--no-live"]
    result = CliRunner().invoke(app, ["train", *words])
    assert result.exit_code in (0, 1), result.output
    assert "completed" in result.output
