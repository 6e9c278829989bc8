"""The training loop and the records it emits: format, determinism, divergence, stopping."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from babysit.api import prepare_data, train
from babysit.config import Config
from babysit.training import JsonlSink, MemorySink, Trainer

FAST = Config(epochs=3, hidden=(20,), stats_every=2)


def run(config: Config) -> list[dict[str, Any]]:
    sink = MemorySink()
    train(config, [sink])
    return sink.records


def strip_times(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        r = {k: v for k, v in r.items() if k not in ("time", "wall_time", "run_id", "started_at")}
        out.append(r)
    return out


def test_record_stream_shape() -> None:
    records = run(FAST)
    header, steps, summary = records[0], records[1:-1], records[-1]
    assert header["type"] == "header" and summary["type"] == "summary"
    assert header["num_classes"] == 3 and header["activation"] == "relu"
    assert header["config"]["hidden"] == [20] and header["dataset"]["X_train"] == [240, 2]
    assert {"mean_over_std_max", "std_min", "std_max"} <= set(header["input_stats"])
    assert [s["step"] for s in steps] == list(range(len(steps))) == list(range(summary["steps"]))
    for s in steps:
        assert s["type"] == "step"
        assert s["loss"] == pytest.approx(s["data_loss"] + s["reg_loss"])
        assert ("layers" in s) == (s["step"] % 2 == 0)
    per_epoch = 8  # ceil(240 / 32)
    closing = [s for s in steps if "train_acc" in s]
    assert [s["step"] for s in closing] == [per_epoch * e - 1 for e in (1, 2, 3)]
    assert all({"val_acc", "val_loss"} <= set(s) for s in closing)
    assert summary["status"] == "completed" and summary["epochs"] == 3
    assert {"train_acc", "val_acc", "train_loss", "val_loss", "wall_time"} <= set(summary)


def test_layer_stats_fields() -> None:
    layers = run(replace(FAST, hidden=(20, 10)))[1]["layers"]
    assert list(layers) == ["fc1", "fc2", "fc3"]
    for name in ("fc1", "fc2"):
        entry = layers[name]
        assert {"weight_norm", "grad_norm", "update_ratio", "act_mean", "act_std", "dead_frac",
                "hist"} <= set(entry)
        assert sum(entry["hist"]["counts"]) == 32 * (20 if name == "fc1" else 10)
    assert "act_mean" not in layers["fc3"]  # the output layer has no nonlinearity


def test_update_ratio_is_the_real_update() -> None:
    # Plain SGD without regularization moves W by exactly lr * dW.
    records = run(replace(FAST, optimizer="sgd", lr=0.05, reg=0.0, epochs=1))
    fc1 = records[1]["layers"]["fc1"]
    assert fc1["update_ratio"] == pytest.approx(0.05 * fc1["grad_norm"] / fc1["weight_norm"])


def test_saturation_reported_for_tanh() -> None:
    layers = run(replace(FAST, activation="tanh", init="small", init_std=5.0, epochs=1))[1]["layers"]
    assert layers["fc1"]["sat_frac"] > 0.5 and "dead_frac" not in layers["fc1"]


def test_same_seed_same_records() -> None:
    cfg = replace(FAST, dropout=0.3)
    assert strip_times(run(cfg)) == strip_times(run(cfg))
    assert strip_times(run(cfg)) != strip_times(run(replace(cfg, seed=1)))


def test_float32_stays_float32() -> None:
    cfg = replace(FAST, dtype="float32", batchnorm=True, dropout=0.2)
    trainer = Trainer(cfg, prepare_data(cfg))
    trainer.run()
    assert {p.dtype for p in trainer.net.params.values()} == {np.dtype(np.float32)}
    scores, _ = trainer.net.forward(trainer.X[:5], train=True, rng=np.random.default_rng(0))
    assert scores.dtype == np.float32


def test_divergence_ends_the_run() -> None:
    records = run(replace(FAST, optimizer="sgd", lr=1e6, epochs=20))
    last_step, summary = records[-2], records[-1]
    assert summary["status"] == "diverged" and "loss became" in summary["reason"]
    assert not math.isfinite(last_step["loss"])
    assert summary["steps"] == last_step["step"] + 1 < 20 * 8


def test_request_stop_ends_with_interrupted_summary() -> None:
    sink = MemorySink()

    class StopAt:
        def __init__(self, trainer: Trainer) -> None:
            self.trainer = trainer

        def emit(self, record: dict[str, Any]) -> None:
            if record.get("step") == 5:
                self.trainer.request_stop("test")

        def close(self) -> None:
            pass

    trainer = Trainer(FAST, prepare_data(FAST), [sink])
    trainer.sinks.append(StopAt(trainer))
    summary = trainer.run()
    assert summary["status"] == "interrupted" and summary["steps"] == 6
    assert sink.records[-1] is summary and sink.records[-2]["step"] == 5


def test_subset_trains_on_n_examples() -> None:
    cfg = replace(FAST, subset=20, batch_size=10)
    trainer = Trainer(cfg, prepare_data(cfg))
    assert len(trainer.X) == 20 and trainer.iters_per_epoch == 2


def test_jsonl_log_is_strict_json_per_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    train(replace(FAST, optimizer="sgd", lr=1e6, epochs=20), [JsonlSink(path)])
    lines = path.read_text().splitlines()

    def reject(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    records = [json.loads(line, parse_constant=reject) for line in lines]
    assert records[0]["type"] == "header" and records[-1]["type"] == "summary"
    assert records[-2]["loss"] in ("NaN", "Infinity")  # non-finite floats as strings


def test_jsonl_refuses_to_replace_a_log(tmp_path: Path) -> None:
    from babysit.errors import BabysitError

    path = tmp_path / "run.jsonl"
    path.write_text("precious\n")
    with pytest.raises(BabysitError, match="already exists"):
        JsonlSink(path)
    assert path.read_text() == "precious\n"


def test_default_run_learns_the_spiral() -> None:
    summary = train(Config())
    assert summary["status"] == "completed" and summary["train_acc"] >= 0.95


def test_request_stop_as_completed_ends_the_run() -> None:
    # A stop marked "completed" (sanity-check's "memorized") must end the run, not the epoch.
    cfg = replace(FAST, subset=16, batch_size=16, epochs=50)
    trainer = Trainer(cfg, prepare_data(cfg))

    class StopAt3:
        def emit(self, record: dict[str, Any]) -> None:
            if record.get("step") == 3:
                trainer.request_stop("enough", status="completed")

        def close(self) -> None:
            pass

    trainer.sinks.append(StopAt3())
    summary = trainer.run()
    assert summary["status"] == "completed" and summary["steps"] == 4


def test_fast_histogram_and_moments_match_numpy() -> None:
    from babysit.training.stats import activation_stats, histogram

    h = np.random.default_rng(0).normal(0.3, 2.0, size=(64, 50))
    expected, _ = np.histogram(np.clip(h, -3, 3), bins=16, range=(-3, 3))
    assert histogram(h, -3.0, 3.0) == expected.tolist()
    stats = activation_stats(h, "tanh")
    assert stats["act_mean"] == pytest.approx(h.mean()) and stats["act_std"] == pytest.approx(h.std())



def test_grad_norm_is_the_data_loss_gradient_without_l2() -> None:
    # PyTorch's p.grad excludes weight decay; so does babysit's grad_norm (schema 3). Step 0 sees
    # the same weights and batch whatever the L2 strength, so its data gradient is the same.
    from babysit.api import train
    from babysit.config import Config
    from babysit.training import MemorySink

    norms = []
    for reg in (0.0, 0.5):
        memory = MemorySink()
        train(Config(epochs=1, hidden=(20,), reg=reg), [memory])
        step0 = next(r for r in memory.records if r.get("type") == "step")
        norms.append([step0["layers"][n]["grad_norm"] for n in ("fc1", "fc2")])
    assert norms[0] == pytest.approx(norms[1], rel=1e-9)
    assert memory.records[0]["schema_version"] == 3
