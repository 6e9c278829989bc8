"""babysit search over the user's own training function (issue 37): a real PyTorch objective in
worker processes, pruned by babysit's findings; a crashing trial recorded; resume; the API."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from babysit.search.objective import Trial, TrialPruned, load_objective, run_objective_trial

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

OBJECTIVES = Path(__file__).parent / "objectives"
EXAMPLE = Path(__file__).parent.parent / "examples" / "search_torch_digits.py"  # the README's
runner = CliRunner()


def rows(results: Path) -> list[dict]:
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    return [r for r in lines if "trial" in r]


def test_a_pytorch_objective_is_searched_and_a_divergent_range_pruned(tmp_path: Path) -> None:
    """lr up to 30 with SGD and momentum: the high rates diverge, and babysit stops them with
    the finding as the reason; the low ones train to a usable accuracy."""
    results = tmp_path / "search.jsonl"
    args = ["search", "--objective", f"{EXAMPLE}:train", "--lr-range",
            "1e-3:30", "--choices", "hidden=32,64", "--trials", "6", "--epochs", "2",
            "--stages", "1", "--workers", "2", "--results", str(results), "--no-live"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    found = rows(results)
    assert len(found) == 6 and {r["params"]["hidden"] for r in found} <= {32, 64}
    pruned = [r for r in found if r["status"] in ("diverged", "hopeless")]
    assert pruned and all(r["params"]["lr"] > 1 for r in pruned)
    assert any(r["status"] == "diverged" and r["reason"].startswith(("loss-explosion", "loss-nan"))
               for r in pruned)
    assert max(r["val_acc"] for r in found if r["status"] == "completed") > 0.7
    for r in found:  # each trial's own babysit log, ended with a summary
        last = json.loads(Path(r["log"]).read_text().splitlines()[-1])
        assert last["type"] == "summary"
        assert last["status"] == ("completed" if r["status"] == "completed" else "stopped")
    assert "best: " in result.output and "loss-explosion" in result.output
    header = json.loads(results.read_text().splitlines()[0])
    assert header["objective"].endswith("search_torch_digits.py:train")
    # resumed: every trial is finished, none runs again
    again = runner.invoke(app, [*args, "--resume"])
    assert again.exit_code == 0 and rows(results) == found
    # the report page: accuracy by rate (no L2 searched), and why each stopped trial stopped
    import babysit.report

    page = babysit.report.render(results)
    assert 'data-panel="search-lr"' in page and "Stopped and failed trials" in page
    assert all(r["reason"].split(":")[0] in page for r in pruned)
    assert "your own training function: no ensemble" in page


def test_a_trial_that_crashes_is_recorded_and_the_search_goes_on(tmp_path: Path) -> None:
    import babysit.search

    sys.path.insert(0, str(OBJECTIVES))
    try:
        from crashes import train  # the function itself, as a user passes it
        outcome = babysit.search.run(train, {"width": [64, 512, 256]}, trials=6, epochs=1,
                                     results=tmp_path / "r.jsonl")
    finally:
        sys.path.remove(str(OBJECTIVES))
    failed = [r for r in outcome.rows if r["status"] == "failed"]
    assert failed and all(r["params"]["width"] == 512 for r in failed)
    assert failed[0]["reason"].startswith("RuntimeError: CUDA out of memory") and "crashes.py:" in failed[0]["reason"]
    assert outcome.best is not None and outcome.best["params"]["width"] == 256
    assert len(rows(tmp_path / "r.jsonl")) == 6


def nan_objective(config: dict, trial: Trial) -> float:
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
    monitor = trial.monitor(model, opt, num_classes=3)
    for step in range(50):
        loss = model(torch.ones(8, 4)).sum() * (math.nan if step == 5 else 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        monitor.step(loss)
    return 1.0


def test_a_nan_prunes_the_trial_in_the_process_that_runs_it(tmp_path: Path) -> None:
    row = run_objective_trial(nan_objective, {"lr": 0.1, "epochs": 1}, "t1", 1, 0, str(tmp_path))
    assert row["status"] == "diverged" and row["reason"].startswith("loss-nan")
    # stopped within one sampling interval (every=10: numbers reach the host in batches) of the
    # NaN at step 5, not after 50 steps
    assert row["val_acc"] is None and row["steps"] <= 5 + 10
    assert issubclass(TrialPruned, Exception)


@pytest.mark.parametrize("spec, says", [
    ("nope", "FILE.py:FUNCTION"), ("missing.py:train", "no file"),
    (f"{EXAMPLE}:absent", "no function absent"),
    ("babysit_no_such_module:train", "cannot import"),
])
def test_a_wrong_objective_is_one_clear_line(spec: str, says: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", "--objective", spec, "--results", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output
    with pytest.raises(Exception, match=says.split()[0]):
        load_objective(spec)


@pytest.mark.parametrize("row, said", [
    ({"status": "diverged", "reason": "loss-nan: the loss is NaN at step 5"}, "loss-nan: stopped"),
    ({"status": "hopeless", "reason": "validation accuracy 0.098 at chance (0.100)"}, "at chance: stopped"),
    ({"status": "hopeless", "reason": "symmetric-init: every unit of fc1 alike"}, "symmetric-init: stopped"),
    ({"status": "failed", "reason": "RuntimeError: CUDA out of memory. Tried to allocate 2 GiB"},
     "RuntimeError: CUDA out of memory. Tried…"),
])
def test_each_stopped_trial_says_why_in_a_few_words(row: dict, said: str) -> None:
    from babysit.search.view import stop_reason

    assert stop_reason(row) == said


@pytest.mark.parametrize("example_file", ["search_torch_digits.py", "search_lightning_digits.py"])
def test_an_objective_on_a_dask_cluster(example_file: str, tmp_path: Path) -> None:
    """The PyTorch and Lightning examples on a local Dask cluster: the objective is named by its
    file and loaded in each worker; the planted divergent rates are pruned with their finding."""
    distributed = pytest.importorskip("distributed")
    if "lightning" in example_file:
        pytest.importorskip("pytorch_lightning")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = runner.invoke(app, [
            "search", "--objective", f"{EXAMPLE.parent / example_file}:train", "--lr-range",
            "1e-3:30", "--trials", "6",
            "--stages", "1", "--epochs", "2", "--results", str(tmp_path / "dask.jsonl"),
            "--scheduler", cluster.scheduler_address, "--no-live"])
    assert result.exit_code == 0, result.output
    found = rows(tmp_path / "dask.jsonl")
    assert len(found) == 6
    pruned = [r for r in found if r["status"] in ("diverged", "hopeless")]
    assert pruned and all(r["params"]["lr"] > 1 for r in pruned)
    assert any(r["reason"].startswith(("loss-explosion", "loss-nan")) for r in pruned)
    best = max((r for r in found if r["status"] == "completed"), key=lambda r: r["val_acc"])
    assert best["val_acc"] > 0.7 and f"best: {best['trial']}" in result.output


def test_a_lightning_objective_is_pruned_out_of_fit(tmp_path: Path) -> None:
    """The trial's Lightning callback raises TrialPruned out of trainer.fit() at the finding."""
    pytest.importorskip("pytorch_lightning")
    results = tmp_path / "lightning.jsonl"
    example = EXAMPLE.parent / "search_lightning_digits.py"
    result = runner.invoke(app, ["search", "--objective", f"{example}:train", "--lr-range", "1e-3:30",
                                 "--trials", "6", "--epochs", "2", "--stages", "1", "--workers", "1",
                                 "--results", str(results), "--no-live"])
    assert result.exit_code == 0, result.output
    found = rows(results)
    pruned = [r for r in found if r["status"] in ("diverged", "hopeless")]
    assert pruned and all(r["params"]["lr"] > 1 for r in pruned)
    assert any(r["reason"].startswith("loss-explosion") for r in pruned)
    assert max(r["val_acc"] for r in found if r["status"] == "completed") > 0.7
    for r in pruned:  # the callback closed the trial's log as stopped, not crashed
        assert json.loads(Path(r["log"]).read_text().splitlines()[-1])["status"] == "stopped"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_of_a_killed_objective_search_stop(tmp_path: Path) -> None:
    """A SIGKILLed search (no handler runs) must not leave workers training the user's model:
    the trial's Monitor sees the search gone at its next step, and the worker exits."""
    from tests.test_search import kill_search_and_wait_for_its_workers

    kill_search_and_wait_for_its_workers(["--objective", f"{OBJECTIVES / 'forever.py'}:train",
                                          "--lr-range", "1e-3:1e-2", "--trials", "4", "--epochs",
                                          "100000", "--no-live"], tmp_path)
    for log in (tmp_path / "res" / "trials").glob("*.jsonl"):  # each stopped log still ends whole
        last = json.loads(log.read_text().splitlines()[-1])
        assert last["type"] == "summary" and last["status"] == "interrupted"


def example(name: str) -> Any:
    """An example's module, by its file (examples/ is not a package)."""
    import importlib.util

    path = EXAMPLE.parent / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keras_objective(config: dict, trial: Trial) -> float:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(trial.seed)
    x, y = load_digits(return_X_y=True)
    x = ((x - 4.9) / 6.0).astype("float32")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(config["lr"], momentum=0.9), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x[:1400], y[:1400], batch_size=64, epochs=config["epochs"], verbose=0,
                        validation_data=(x[1400:], y[1400:]),
                        callbacks=[trial.keras(num_classes=10)])
    return history.history["val_accuracy"][-1]


def transformers_objective(config: dict, trial: Trial) -> float:
    from transformers import Trainer, TrainingArguments

    hf = example("transformers_digits.py")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor((x - 4.9) / 6.0, dtype=torch.float32), torch.tensor(y)
    args = TrainingArguments(output_dir=str(trial.log.parent / trial.id), max_steps=60,
                             learning_rate=config["lr"], per_device_train_batch_size=64,
                             logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
                             seed=trial.seed, disable_tqdm=True)
    torch.manual_seed(trial.seed)
    trainer = Trainer(model=hf.Net(), args=args, train_dataset=hf.Digits(x[:1400], y[:1400]),
                      callbacks=[trial.transformers(num_classes=10)])
    trainer.train()
    with torch.no_grad():
        return (trainer.model(x[1400:])["logits"].argmax(1) == y[1400:]).float().mean().item()


@pytest.mark.parametrize("objective, framework", [(keras_objective, "keras"),
                                                  (transformers_objective, "transformers")])
def test_keras_and_hugging_face_objectives_are_pruned_through_their_callbacks(
        objective: Any, framework: str, tmp_path: Path) -> None:
    """The trial's Keras / Hugging Face callback raises TrialPruned out of fit / train() at a
    diverging rate; a usable rate trains to the end (near miss)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is first imported
    pytest.importorskip(framework)
    high = run_objective_trial(objective, {"lr": 50.0, "epochs": 3}, "high", 1, 0, str(tmp_path))
    assert high["status"] in ("diverged", "hopeless"), high
    assert high["reason"].startswith(("loss-explosion", "loss-nan", "validation accuracy")), high
    last = json.loads(Path(high["log"]).read_text().splitlines()[-1])
    assert last["type"] == "summary" and last["status"] == "stopped"
    assert json.loads(Path(high["log"]).read_text().splitlines()[0])["framework"] == framework
    usable = run_objective_trial(objective, {"lr": 0.01, "epochs": 3}, "usable", 1, 0, str(tmp_path))
    assert usable["status"] == "completed" and usable["val_acc"] > 0.5, usable


def test_the_live_leaderboard_says_why_a_trial_stopped() -> None:
    from rich.console import Console

    from babysit.search.view import Progress, leaderboard

    progress = Progress(stages=1)
    progress.event("stage", {"stage": 1, "trials": 3, "epochs": 2, "space": {"lr": "1e-3:30"}})
    for row in [{"trial": "s1-t000", "status": "completed", "val_acc": 0.8, "params": {"lr": 0.01}},
                {"trial": "s1-t001", "status": "diverged", "params": {"lr": 12.0},
                 "reason": "loss-explosion: mean loss 26 over steps 0-9"},
                {"trial": "s1-t002", "status": "failed", "params": {"lr": 1.0},
                 "reason": "RuntimeError: CUDA out of memory"}]:
        progress.event("result", {"stage": 1, "val_acc": None, **row})
    console = Console(width=100, record=True)
    console.print(leaderboard(progress, 100))
    text = console.export_text()
    assert "loss-explosion: stopped" in text and "RuntimeError: CUDA out of memory" in text


def test_a_trial_whose_worker_dies_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    """A worker killed under a trial (the OOM killer) broke the whole pool: every unfinished
    trial failed with BrokenProcessPool. Now the trial that killed it is found (the rest run
    one at a time on a fresh pool) and recorded as failed; the others finish."""
    results = tmp_path / "r.jsonl"
    result = runner.invoke(app, ["search", "--objective", f"{OBJECTIVES / 'killer.py'}:train",
                                 "--choices", "width=64,512,256", "--trials", "8", "--epochs", "1",
                                 "--stages", "1", "--workers", "2", "--results", str(results),
                                 "--no-live"])
    assert result.exit_code == 0, result.output
    found = rows(results)
    assert len(found) == 8
    for row in found:
        if row["params"]["width"] == 512:
            assert row["status"] == "failed" and "worker process died" in row["reason"]
        else:
            assert row["status"] == "completed" and row["val_acc"] == 0.5 + row["params"]["width"] / 1000
    assert any(r["params"]["width"] == 512 for r in found)  # the seed samples the killer
