"""Evaluation in the wrong mode: validation metrics computed with dropout or batch norm still in
training mode (no model.eval()), seen by the Monitor and the Lightning callback (issue 35)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from babysit.torch import Monitor  # noqa: E402
from babysit.torch.mode_watch import ModeWatch  # noqa: E402
from tests.test_torch_monitor import digits  # noqa: E402


def net(dropout: float = 0.3, batchnorm: bool = True) -> Any:
    """64 -> 64 -> 10 with the layers whose test-time behaviour differs."""
    layers: list[Any] = [torch.nn.Linear(64, 64)]
    if batchnorm:
        layers.append(torch.nn.BatchNorm1d(64))
    layers += [torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(64, 10)]
    return torch.nn.Sequential(*layers)


def loop(model: Any, log: Path, *, eval_mode: bool, train_acc_pass: bool = False,
         epochs: int = 2) -> Monitor:
    """A hand-written loop; validation with or without model.eval()."""
    torch.manual_seed(0)
    xt, yt, xv, yv = digits()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    with Monitor(model, opt, log=log, num_classes=10, verbose=False) as monitor:
        for _ in range(epochs):
            model.train()
            for i in range(0, len(yt), 64):
                xb, yb = xt[i:i + 64], yt[i:i + 64]
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if train_acc_pass:  # a training-accuracy pass in train mode: not an evaluation
                    with torch.no_grad():
                        (model(xb).argmax(1) == yb).float().mean()
                monitor.step(loss)
            if eval_mode:
                model.eval()
            with torch.no_grad():
                out = model(xv)
            monitor.epoch(val_loss=torch.nn.functional.cross_entropy(out, yv),
                          val_acc=(out.argmax(1) == yv).float().mean())
    return monitor


def found(monitor: Monitor) -> list[Any]:
    return [f for f in monitor.findings if f.rule == "eval-in-train-mode"]


def test_validation_without_model_eval_is_found_with_what_it_did(tmp_path: Path) -> None:
    monitor = loop(net(), tmp_path / "v.jsonl", eval_mode=False)
    (finding,) = found(monitor)
    assert finding.evidence["layers"] == ["batch norm", "dropout"]
    assert finding.evidence["evaluations"] == 2
    assert "dropout dropped units" in finding.message and "running averages" in finding.message
    assert "model.eval()" in finding.advice
    recs = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    epochs = [r for r in recs if r["type"] == "epoch"]
    assert epochs and all(r["eval_train_mode"] == ["batch norm", "dropout"] for r in epochs)


@pytest.mark.parametrize("kwargs", [dict(dropout=0.3, batchnorm=False),
                                    dict(dropout=0.0, batchnorm=True)])
def test_each_kind_alone_is_named(tmp_path: Path, kwargs: dict) -> None:
    (finding,) = found(loop(net(**kwargs), tmp_path / "k.jsonl", eval_mode=False))
    assert finding.evidence["layers"] == (["dropout"] if kwargs["dropout"] else ["batch norm"])


@pytest.mark.parametrize("case", ["eval-mode", "train-acc-pass", "dropout-0-no-batch-norm"])
def test_near_misses_stay_quiet(tmp_path: Path, case: str) -> None:
    if case == "dropout-0-no-batch-norm":  # nothing behaves differently at test time
        monitor = loop(net(dropout=0.0, batchnorm=False), tmp_path / "q.jsonl", eval_mode=False)
        assert monitor.modes.handle is None  # nothing to watch: no hook on the forward pass
    else:  # validation in eval mode, with or without a no-grad train-accuracy pass per step
        monitor = loop(net(), tmp_path / "q.jsonl", eval_mode=True,
                       train_acc_pass=case == "train-acc-pass")
    assert not found(monitor)


def test_a_batch_norm_without_running_statistics_is_not_mode_dependent() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4, track_running_stats=False))
    watch = ModeWatch(model)
    assert watch.layers == {} and watch.handle is None


def test_the_hook_is_removed_on_close(tmp_path: Path) -> None:
    model = net()
    monitor = Monitor(model, log=False, verbose=False)
    monitor.close()
    with torch.no_grad():
        model(torch.zeros(4, 64))
    assert monitor.modes.handle is None and monitor.modes.seen == set()


def test_a_lightning_module_that_validates_in_train_mode_is_found(tmp_path: Path) -> None:
    pl = pytest.importorskip("pytorch_lightning")
    from babysit.integrations.lightning import BabysitCallback

    class Module(pl.LightningModule):
        def __init__(self, train_in_validation: bool) -> None:
            super().__init__()
            self.net, self.wrong = net(), train_in_validation

        def forward(self, x: Any) -> Any:
            return self.net(x)

        def training_step(self, batch: Any, _: int) -> Any:
            return torch.nn.functional.cross_entropy(self(batch[0]), batch[1])

        def validation_step(self, batch: Any, _: int) -> None:
            if self.wrong:  # undoes the model.eval() Lightning did before validation
                self.train()
            self.log("val_loss", torch.nn.functional.cross_entropy(self(batch[0]), batch[1]))

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), 1e-3)

    xt, yt, xv, yv = digits()
    data = torch.utils.data.TensorDataset
    train = torch.utils.data.DataLoader(data(xt, yt), batch_size=64)
    val = torch.utils.data.DataLoader(data(xv, yv), batch_size=64)
    said = {}
    for wrong in (True, False):
        babysit = BabysitCallback(log=tmp_path / f"pl-{wrong}.jsonl", num_classes=10)
        trainer = pl.Trainer(max_epochs=2, callbacks=[babysit], logger=False, accelerator="cpu",
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(Module(wrong), train, val)
        assert babysit.monitor is not None
        said[wrong] = [f.evidence["layers"] for f in found(babysit.monitor)]
    assert said == {True: [["batch norm", "dropout"]], False: []}
