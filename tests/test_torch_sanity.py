"""babysit.torch.sanity_check on real PyTorch models: healthy ones pass, each planted bug is named
by the check that should name it with the right advice, and the caller's model, optimizer and
RNG are left exactly as they were."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
from babysit.torch import Monitor, sanity_check  # noqa: E402
from babysit.torch.sanity import FAIL, PASS, WARN  # noqa: E402

CE = torch.nn.functional.cross_entropy


def digits(scaled: bool = True) -> tuple[Any, Any]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x = torch.tensor(x, dtype=torch.float32)[order]
    if scaled:
        x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return x, torch.tensor(y)[order]


def mlp() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def cnn() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Unflatten(1, (1, 8, 8)),
                               torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(16 * 64, 10))


class LeftOut(torch.nn.Module):
    """A layer defined but never used in forward."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.unused, self.out = (torch.nn.Linear(64, 64), torch.nn.Linear(64, 64),
                                           torch.nn.Linear(64, 10))

    def forward(self, x: Any) -> Any:
        return self.out(torch.relu(self.fc1(x)))


def adam(params: Any) -> Any:
    return torch.optim.Adam(params, 1e-3)


@pytest.mark.parametrize("build", [mlp, cnn], ids=["mlp", "cnn"])
def test_a_healthy_model_passes_every_check(build: Any) -> None:
    x, y = digits()
    report = sanity_check(build(), CE, x, y, optimizer=adam, num_classes=10)
    assert report.passed, str(report)
    statuses = {c.name: c.status for c in report.checks}
    for name in ("loss at init", "gradient flow", "init scale", "overfit small subset",
                 "learning-rate probe", "input-independent baseline", "labels follow inputs"):
        assert statuses[name] == PASS, str(report)
    assert len(str(report).splitlines()) == len(report.checks) + 1  # a line each and a verdict


def softmax_model() -> Any:
    return torch.nn.Sequential(*mlp(), torch.nn.Softmax(dim=1))


def zero_init() -> Any:
    model = mlp()
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.zeros_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return model


def frozen_first() -> Any:
    model = mlp()
    model[0].requires_grad_(False)
    return model


def shuffled(y: Any) -> Any:
    return y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1))]


PLANTED = {  # bug: (model, optimizer, labels changed?, inputs scaled?, check, status, words)
    "softmax before CrossEntropyLoss": (softmax_model, adam, False, True, "loss at init", FAIL,
                                        "drop the softmax"),
    "zero init": (zero_init, adam, False, True, "init scale", FAIL, "kaiming_normal_"),
    "a layer left out of forward": (LeftOut, adam, False, True, "gradient flow", FAIL,
                                    "left out of forward"),
    "a layer frozen by mistake": (frozen_first, adam, False, True, "gradient flow", WARN,
                                  "requires_grad=True"),
    "SGD at lr 10": (mlp, lambda p: torch.optim.SGD(p, 10.0), False, True, "overfit small subset",
                     FAIL, "Lower it: lr=1"),
    "shuffled labels": (mlp, adam, True, True, "labels follow inputs", FAIL, "paired"),
    "unscaled inputs": (mlp, adam, False, False, "data", WARN, "Standardize the inputs"),
}


@pytest.mark.parametrize("bug", list(PLANTED))
def test_each_planted_bug_is_named_with_its_advice(bug: str) -> None:
    build, opt, shuffle, scaled, check, status, words = PLANTED[bug]
    x, y = digits(scaled)
    report = sanity_check(build(), CE, x, shuffled(y) if shuffle else y, optimizer=opt,
                          num_classes=10)
    named = report[check]
    assert named.status == status, str(report)
    assert words in named.advice, str(report)
    if status == FAIL:
        assert not report.passed


def test_lr_10_for_sgd_is_read_as_too_high_everywhere() -> None:
    x, y = digits()
    report = sanity_check(mlp(), CE, x, y, optimizer=lambda p: torch.optim.SGD(p, 10.0))
    assert "too high" in report["overfit small subset"].message
    assert "too high" in report["learning-rate probe"].message
    assert report["learning-rate probe"].numbers["explodes_from"] <= 10.0


def test_the_callers_model_optimizer_and_rng_are_left_as_they_were() -> None:
    x, y = digits()
    model = torch.nn.Sequential(*mlp()[:2], torch.nn.Dropout(0.3), torch.nn.Linear(64, 10)).eval()
    opt = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
    CE(model(x[:32]), y[:32]).backward()
    opt.step()  # the optimizer has momentum state now
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    state = repr(opt.state_dict())
    rng = torch.get_rng_state()
    report = sanity_check(model, CE, x, y, optimizer=opt, num_classes=10)
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert repr(opt.state_dict()) == state and not model.training
    assert model[2].p == 0.3 and all(p.requires_grad for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng)
    assert report["regularization"].status == PASS  # weight decay 1e-4: a sensible L2 term


def test_a_dataloader_and_a_monitor_run_the_same_recipe() -> None:
    x, y = digits()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=100)
    from_loader = sanity_check(mlp(), CE, loader, optimizer=adam)
    model = mlp()
    monitor = Monitor(model, adam(model.parameters()), log=False, num_classes=10)
    from_monitor = monitor.sanity_check(x, y)
    monitor.close()
    assert [c.status for c in from_loader.checks] == [c.status for c in from_monitor.checks]
    assert from_loader["loss at init"].numbers["expected"] == pytest.approx(2.302585)


def test_a_fine_tune_and_a_too_weak_or_dominant_penalty() -> None:
    x, y = digits()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for i in range(300):  # a model that already knows the task
        loss = CE(model(x[i % 10 * 100:(i % 10 + 1) * 100]), y[i % 10 * 100:(i % 10 + 1) * 100])
        opt.zero_grad()
        loss.backward()
        opt.step()
    trained = sanity_check(model, CE, x, y, optimizer=adam, num_classes=10)
    assert trained["loss at init"].status == "SKIP" and "trained weights" in trained["loss at init"].message

    def l2(strength: float) -> Any:
        return lambda m: strength * sum((p ** 2).sum() for p in m.parameters())

    weak = sanity_check(mlp(), CE, x, y, optimizer=adam, reg_loss=l2(1e-9))
    strong = sanity_check(mlp(), CE, x, y, optimizer=adam, reg_loss=l2(1.0))
    assert weak["regularization"].status == WARN and "too weak" in weak["regularization"].message
    assert strong["regularization"].status == WARN and "dominates" in strong["regularization"].message


def test_the_cli_runs_a_factory_and_refuses_bad_ones_in_one_line(tmp_path: Any) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from babysit.cli.app import app

    example = Path(__file__).parent.parent / "examples" / "torch_sanity.py"
    run = CliRunner().invoke(app, ["sanity-check", "--torch", f"{example}:make_model"])
    assert run.exit_code == 1 and "drop the softmax" in run.output  # the example's planted bug
    assert "follows from loss at init above" in run.output  # the overfit failure is its consequence
    fixed = tmp_path / "fixed.py"
    fixed.write_text(f"import sys; sys.path.insert(0, {str(example.parent)!r})\n"
                     "from torch_sanity import make_model as made\n"
                     "def make():\n    return made(fixed=True)\n")
    assert CliRunner().invoke(app, ["sanity-check", "--torch", f"{fixed}:make"]).exit_code == 0
    for bad in ("nope.py:make", f"{fixed}:missing", f"{fixed}"):
        run = CliRunner().invoke(app, ["sanity-check", "--torch", bad])
        assert run.exit_code == 2 and "Traceback" not in run.output


def test_the_lightning_callback_runs_the_recipe_on_the_first_batch_when_asked(tmp_path: Any) -> None:
    pl = pytest.importorskip("pytorch_lightning")
    from babysit.integrations.lightning import BabysitCallback

    class Module(pl.LightningModule):
        def __init__(self, softmax: bool) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(*mlp(), *([torch.nn.Softmax(1)] if softmax else []))

        def forward(self, x: Any) -> Any:
            return self.net(x)

        def training_step(self, batch: Any, _: int) -> Any:
            return CE(self(batch[0]), batch[1])

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), 1e-3)

    x, y = digits()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=256)
    for softmax in (False, True):
        babysit = BabysitCallback(log=tmp_path / f"pl{softmax}.jsonl", num_classes=10, sanity=True)
        trainer = pl.Trainer(max_epochs=1, callbacks=[babysit], logger=False, accelerator="cpu",
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False)
        trainer.fit(Module(softmax), loader)
        report = babysit.sanity_report
        assert report is not None and report.passed is not softmax, str(report)
        assert report["labels follow inputs"].status != "SKIP"  # 256 examples in the batch
        assert trainer.global_step == 8  # training ran as usual afterwards


def test_the_hf_callback_runs_the_recipe_on_the_first_batch_when_asked(tmp_path: Any) -> None:
    pytest.importorskip("transformers")
    import importlib.util
    from pathlib import Path

    from transformers import Trainer, TrainingArguments

    from babysit.integrations.transformers import BabysitCallback

    spec = importlib.util.spec_from_file_location(
        "transformers_digits", Path(__file__).parent.parent / "examples" / "transformers_digits.py")
    example = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(example)  # type: ignore[union-attr]
    x, y = digits()
    babysit = BabysitCallback(log=tmp_path / "hf.jsonl", num_classes=10, sanity=True)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=5, learning_rate=1e-3,
                             per_device_train_batch_size=256, save_strategy="no", report_to=[],
                             use_cpu=True, seed=0, disable_tqdm=True)
    torch.manual_seed(0)
    Trainer(model=example.Net(), args=args, train_dataset=example.Digits(x, y),
            callbacks=[babysit]).train()
    report = babysit.sanity_report
    assert report is not None and report.passed, str(report)
    assert report["loss at init"].status == PASS and report["labels follow inputs"].status == PASS
    assert babysit.monitor is not None and babysit.monitor.step_index == 5
