"""The run model (babysit/diagnostics/records.py): raw records normalized once for rules."""

from __future__ import annotations

import math

from babysit.diagnostics.engine import Engine
from babysit.diagnostics.records import Evaluation, Header
from babysit.diagnostics.rule import Rule


def test_a_header_keeps_what_is_usable_and_leaves_the_rest_unknown() -> None:
    header = Header.of({"type": "header", "num_classes": 10.0, "loss_fn": "svm", "activation": "ReLU",
                        "dataset": {"X_val": [400, 64], "val_majority_rate": 0.3},
                        "input_stats": {"std_mean": 2.5, "mean_abs_mean": "NaN", "odd": [1]},
                        "steps_per_epoch": 30, "task": "classification", "pretrained": False,
                        "metrics": ["loss", "eval_f1"]})
    assert (header.classes, header.loss_fn, header.activation, header.val_size) == (10, "svm", "relu", 400)
    assert header.val_majority == 0.3 and header.input_stats == {"std_mean": 2.5}
    assert (header.steps_per_epoch, header.task, header.pretrained) == (30, "classification", False)
    assert header.metrics == ("loss", "eval_f1")
    bad = Header.of({"num_classes": True, "dataset": {"X_val": ["a"], "val_majority_rate": 1.5},
                     "input_stats": [1, 2], "steps_per_epoch": 2.5, "task": ["x"], "metrics": "loss"})
    assert bad == Header(raw=bad.raw)  # nothing usable: every fact unknown, not an error
    for classes in (1, 2.5, -3, math.inf, "10"):
        assert Header.of({"num_classes": classes}).classes is None, classes


def test_an_evaluation_holds_finite_numbers_or_none() -> None:
    ev = Evaluation.of({"step": 7, "epoch": "2", "val_acc": "0.5", "train_acc": None,
                        "val_loss": "NaN", "loss": math.inf}, epoch_at=2.0, recent_loss=0.3)
    assert (ev.step, ev.epoch, ev.val_acc, ev.train_acc, ev.val_loss, ev.loss) == (7, 2.0, 0.5, None, None, None)


def test_rules_receive_the_typed_records() -> None:
    seen: list[object] = []

    class Spy(Rule):
        id, severity, needs, advice = "spy", "info", ("loss",), "-"

        def on_header(self, header: Header) -> None:
            seen.append(header)

        def on_epoch(self, evaluation: Evaluation) -> None:
            seen.append(evaluation)

    raw = {"type": "step", "step": "3", "loss": 1.0, "val_acc": "0.25"}
    Engine([Spy()]).push_all([{"type": "header", "num_classes": 4}, raw])
    header, evaluation = seen
    assert isinstance(header, Header) and header.classes == 4
    assert isinstance(evaluation, Evaluation) and (evaluation.step, evaluation.val_acc) == (3, 0.25)
    assert "recent_loss" not in raw and "epoch_at" not in raw  # no fields added to the log's record
