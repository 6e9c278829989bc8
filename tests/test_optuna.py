"""babysit's findings as an Optuna study's pruner (issue 37): in-memory and SQLite studies, a
planted divergent learning-rate range pruned with the finding kept in the storage."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from babysit.integrations import optuna as babysit_optuna  # noqa: E402
from babysit.integrations.optuna_monitor import Pruned  # noqa: E402

RANGES = {"lr": "1e-3:30:log", "hidden": [32, 64]}


def digits() -> tuple:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor((x - 4.9) / 6.0, dtype=torch.float32), torch.tensor(y)
    return x[:1400], y[:1400], x[1400:], y[1400:]


DATA = digits()


def objective(trial: optuna.Trial, logs: Path) -> float:
    config = babysit_optuna.suggest(trial, RANGES)
    torch.manual_seed(trial.number)
    xt, yt, xv, yv = DATA
    model = torch.nn.Sequential(torch.nn.Linear(64, config["hidden"]), torch.nn.ReLU(),
                                torch.nn.Linear(config["hidden"], 10))
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=0.9)
    with babysit_optuna.monitor(trial, model, opt, log=logs / f"t{trial.number}.jsonl",
                                num_classes=10, val_size=len(yv)) as monitor:
        for _ in range(2):
            for i in range(0, len(yt), 64):
                loss = torch.nn.functional.cross_entropy(model(xt[i:i + 64]), yt[i:i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.step(loss)
            with torch.no_grad():
                accuracy = (model(xv).argmax(1) == yv).float().mean().item()
            monitor.epoch(val_acc=accuracy)
    return accuracy


def check(study: optuna.Study) -> None:
    trials = study.trials
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert pruned and done
    assert all(t.params["lr"] > 1 for t in pruned)  # the planted divergent top of the range
    assert any(t.user_attrs.get("babysit_rule") in ("loss-explosion", "loss-nan") for t in pruned)
    assert all(t.user_attrs["babysit_reason"] for t in pruned)
    assert study.best_value > 0.7 and study.best_params["lr"] < 1


def test_an_in_memory_study_prunes_what_babysit_finds(tmp_path: Path) -> None:
    study = optuna.create_study(direction="maximize", pruner=babysit_optuna.BabysitPruner(),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: objective(t, tmp_path), n_trials=8)
    check(study)
    space, warnings = babysit_optuna.next_stage(study, RANGES)
    assert space["lr"].hi < 30 and space["lr"].lo >= 1e-3  # narrowed around the best trials
    assert isinstance(warnings, list)


def test_a_sqlite_study_keeps_the_reasons(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="digits", storage=storage, direction="maximize",
                                pruner=babysit_optuna.BabysitPruner(),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: objective(t, tmp_path), n_trials=8)
    check(optuna.load_study(study_name="digits", storage=storage))  # as another machine reads it


def test_the_pruner_defers_to_the_one_it_wraps() -> None:
    class Always(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            return True

    study = optuna.create_study()
    trial = study.ask()
    frozen = study.trials[0]
    assert babysit_optuna.BabysitPruner().prune(study, frozen) is False  # near miss: nothing flagged
    assert babysit_optuna.BabysitPruner(Always()).prune(study, frozen) is True
    trial.set_user_attr("babysit_reason", "loss-nan: the loss is NaN at step 3")
    assert babysit_optuna.BabysitPruner().prune(study, study.trials[0]) is True


def load_example(name: str) -> Any:
    """An example's module, by its file (examples/ is not a package)."""
    path = Path(__file__).parent.parent / "examples" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stored", [False, True])
def test_the_lightning_example_under_optuna(stored: bool, tmp_path: Path) -> None:
    """The same train(config, trial) that `babysit search --objective` runs, in an Optuna study
    (in memory, and in SQLite read back as another machine would): its Lightning callback's
    pruning ends fit() as an Optuna prune, the log closed as stopped."""
    pytest.importorskip("pytorch_lightning")
    example = load_example("search_lightning_digits.py")

    def objective(t: optuna.Trial) -> float:
        config = {**babysit_optuna.suggest(t, {"lr": "1e-2:100:log"}), "epochs": 2}
        return example.train(config, babysit_optuna.trial(t, tmp_path))

    storage = f"sqlite:///{tmp_path / 'study.db'}" if stored else None
    study = optuna.create_study(study_name="digits", storage=storage, direction="maximize",
                                pruner=babysit_optuna.BabysitPruner(),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=8)
    if stored:
        study = optuna.load_study(study_name="digits", storage=storage)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(t.params["lr"] > 1 for t in pruned)
    assert any(t.user_attrs.get("babysit_rule") in ("loss-explosion", "loss-nan") for t in pruned)
    for t in pruned:
        last = json.loads((tmp_path / f"trial-{t.number}.jsonl").read_text().splitlines()[-1])
        assert last["status"] == "stopped"
    assert study.best_value > 0.7
    assert issubclass(Pruned, optuna.TrialPruned)
