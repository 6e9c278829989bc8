"""babysit's findings as an Optuna study's pruner (issue 37): the README's PyTorch and Lightning
examples in in-memory and SQLite studies, a planted divergent learning-rate range pruned with
the finding kept in the storage."""

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
from babysit.integrations.optuna_monitor import OptunaMonitor, Pruned  # noqa: E402
from babysit.search.objective_search import as_space  # noqa: E402

# Each example's ranges, with a planted divergent top (SGD with momentum diverges above ~2)
EXAMPLES = {"search_torch_digits.py": {"lr": "1e-3:30:log", "hidden": [32, 64]},
            "search_lightning_digits.py": {"lr": "1e-2:100:log"}}


def load_example(name: str) -> Any:
    """An example's module, by its file (examples/ is not a package)."""
    path = Path(__file__).parent.parent / "examples" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stored", [False, True])
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_examples_under_optuna(name: str, stored: bool, tmp_path: Path) -> None:
    """The same train(config, trial) that `babysit search --objective` runs, in an Optuna study
    (in memory, and in SQLite read back as another machine would): babysit's verdict ends the
    trial as an Optuna prune, its reason in the storage, the trial's log closed as stopped."""
    if "lightning" in name:
        pytest.importorskip("pytorch_lightning")
    example, ranges = load_example(name), EXAMPLES[name]

    def objective(t: optuna.Trial) -> float:
        config = {**babysit_optuna.suggest(t, ranges), "epochs": 2}
        torch.manual_seed(t.number)  # the init too: not whatever state earlier tests left
        return example.train(config, babysit_optuna.trial(t, tmp_path))

    storage = f"sqlite:///{tmp_path / 'study.db'}" if stored else None
    study = optuna.create_study(study_name="digits", storage=storage, direction="maximize",
                                pruner=babysit_optuna.BabysitPruner(),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=8)
    if stored:
        study = optuna.load_study(study_name="digits", storage=storage)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(t.params["lr"] > 1 for t in pruned)  # the planted divergent top
    assert any(t.user_attrs.get("babysit_rule") in ("loss-explosion", "loss-nan") for t in pruned)
    for t in pruned:
        assert t.user_attrs["babysit_reason"]
        last = json.loads((tmp_path / f"trial-{t.number}.jsonl").read_text().splitlines()[-1])
        assert last["status"] == "stopped"
    assert study.best_value > 0.7 and study.best_params["lr"] < 1
    space, _ = babysit_optuna.next_stage(study, ranges)
    whole = as_space(ranges)["lr"]
    assert whole.lo <= space["lr"].lo and space["lr"].hi < whole.hi  # narrowed around the best


def test_the_pruner_defers_to_the_one_it_wraps(tmp_path: Path) -> None:
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
    monitor = babysit_optuna.monitor(trial, torch.nn.Linear(4, 3), log=tmp_path / "m.jsonl")
    assert isinstance(monitor, OptunaMonitor) and monitor.log_path == tmp_path / "m.jsonl"
    monitor.close()
    assert issubclass(Pruned, optuna.TrialPruned)
