"""babysit.torch.Monitor on the setups real runs use: mixed precision (a GradScaler, bf16),
gradient clipping, schedules and param groups, frozen layers; and what the header records."""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from babysit.torch import Monitor  # noqa: E402
from tests.test_torch_monitor import digits, mlp  # noqa: E402


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def loop(model: Any, opt: Any, monitor: Monitor, steps: int, *, scaler: Any = None,
         clip: float | None = None, scheduler: Any = None, autocast: Any = None,
         blow_up_from: int | None = None) -> None:
    """A plain loop over digits batches; `blow_up_from`: gradients x inf from that step on
    (a hook on the hidden activations: the loss stays finite, the gradients overflow)."""
    xt, yt, _, _ = digits()
    for step in range(steps):
        i = (step * 64) % 1344
        with autocast if autocast is not None else torch.autocast("cpu", enabled=False):
            h = model[:2](xt[i:i + 64])
            if blow_up_from is not None and step >= blow_up_from:
                h.register_hook(lambda g: g * float("inf"))
            loss = torch.nn.functional.cross_entropy(model[2:](h).float(), yt[i:i + 64])
        opt.zero_grad()
        norm = None
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            if clip is not None:
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
        if scheduler is not None:
            scheduler.step()
        monitor.step(loss, grad_norm=norm)
    monitor.close()


def test_a_grad_scaler_whose_scale_collapses_is_named_and_skipped_steps_logged(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.05)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16)
    monitor = Monitor(model, opt, log=tmp_path / "amp.jsonl", num_classes=10, scaler=scaler)
    loop(model, opt, monitor, 120, scaler=scaler, blow_up_from=60)
    recs = records(tmp_path / "amp.jsonl")
    assert recs[0]["amp_scaler"] is True
    steps = [r for r in recs if r["type"] == "step"]
    assert [r["step"] for r in steps if r.get("skipped")] == list(range(60, 120))
    scales = [r["amp_scale"] for r in steps if "amp_scale" in r]
    assert scales[0] == 2.0 ** 16 and scales[-1] < 1e-10
    assert all("grad_norm" not in layer for r in steps if r.get("skipped") and "layers" in r
               for layer in r["layers"].values())  # a skipped step's inf gradients are not stats
    rules = [f.rule for f in monitor.findings]
    assert rules[0] == "amp-scale-collapse" and "amp-skipped-steps" in rules
    assert "loss-nan" not in rules  # the loss stayed finite: the scaler skipped, nothing diverged


def test_a_healthy_grad_scaler_run_is_quiet(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16)
    monitor = Monitor(model, opt, log=tmp_path / "ok.jsonl", num_classes=10, scaler=scaler)
    loop(model, opt, monitor, 200, scaler=scaler)
    assert not any(r.get("skipped") for r in records(tmp_path / "ok.jsonl"))
    assert [f.rule for f in monitor.findings if f.severity != "info"] == []


def test_bf16_autocast_and_a_bf16_model_give_finite_statistics(tmp_path: Path) -> None:
    for name, cast_model in (("autocast", False), ("bf16-model", True)):
        torch.manual_seed(0)
        model = mlp()
        if cast_model:
            model = model.to(torch.bfloat16)
        opt = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9)
        monitor = Monitor(model, opt, log=tmp_path / f"{name}.jsonl", num_classes=10)
        xt, yt, _, _ = digits()
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # the monitor must not switch off
            for step in range(60):
                i = (step * 64) % 1344
                x = xt[i:i + 64].to(torch.bfloat16) if cast_model else xt[i:i + 64]
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    loss = torch.nn.functional.cross_entropy(model(x).float(), yt[i:i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.step(loss)
        monitor.close()
        sampled = [r for r in records(tmp_path / f"{name}.jsonl") if "layers" in r]
        fc1 = [r["layers"]["0"] for r in sampled]
        assert monitor.enabled and len(sampled) == 6
        for stats in fc1:
            assert all(isinstance(v, float) and v == v for k, v in stats.items() if k != "hist")
            assert 1e-5 < stats["update_ratio"] < 1e-1  # float32 arithmetic, even on bf16 weights


def test_clipping_is_counted_and_a_run_clipped_on_every_step_says_so(tmp_path: Path) -> None:
    for clip, expect_always in ((1e-3, True), (100.0, False)):
        torch.manual_seed(0)
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), 0.05)
        log = tmp_path / f"clip{clip}.jsonl"
        monitor = Monitor(model, opt, log=log, num_classes=10, clip_norm=clip)
        loop(model, opt, monitor, 150, clip=clip)
        recs = records(log)
        assert recs[0]["clip_norm"] == clip
        sampled = [r for r in recs if "layers" in r]
        last = sampled[-1]
        assert last["clipped_steps"] == (last["step"] + 1 if expect_always else 0)
        assert all(r["grad_norm_total"] > 1e-3 for r in sampled)  # the norm before clipping
        assert ("clipping-always" in [f.rule for f in monitor.findings]) == expect_always


def test_every_param_groups_lr_and_the_optimizer_settings_are_recorded(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp()
    opt = torch.optim.AdamW([{"params": model[0].parameters(), "lr": 1e-3},
                             {"params": model[2].parameters(), "lr": 1e-2, "weight_decay": 0.0}],
                            weight_decay=0.05, betas=(0.9, 0.95))
    warmup = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 30))
    monitor = Monitor(model, opt, log=tmp_path / "groups.jsonl", num_classes=10)
    loop(model, opt, monitor, 60, scheduler=warmup)
    recs = records(tmp_path / "groups.jsonl")
    settings = recs[0]["optimizer_settings"]
    assert recs[0]["weight_decay"] == 0.05 and settings[1]["weight_decay"] == 0.0
    assert settings[0]["betas"] == [0.9, 0.95] and settings[0]["num_params"] == 64 * 64 + 64
    steps = [r for r in recs if r["type"] == "step"]
    # the lr each group had for the step (the scheduler moves it after monitor.step here)
    assert steps[0]["lr_groups"] == pytest.approx([1e-3 / 30 * 2, 1e-2 / 30 * 2])
    assert steps[40]["lr_groups"] == pytest.approx([1e-3, 1e-2])
    assert steps[40]["lr"] == pytest.approx(1e-3)


def test_steps_without_gradients_keep_the_log(tmp_path: Path) -> None:
    """The loss logged before the first backward, and a model whose watched layers are frozen."""
    torch.manual_seed(0)
    model = mlp()
    for p in model[0].parameters():
        p.requires_grad_(False)
    for p in model[2].parameters():
        p.requires_grad_(False)
    head = torch.nn.Parameter(torch.zeros(10))
    opt = torch.optim.SGD([head], 0.1)
    xt, yt, _, _ = digits()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with Monitor(model, opt, log=tmp_path / "frozen.jsonl", num_classes=10) as monitor:
            monitor.step(torch.nn.functional.cross_entropy(model(xt[:64]), yt[:64]))  # before any backward
            for _ in range(30):
                loss = torch.nn.functional.cross_entropy(model(xt[:64]) + head, yt[:64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.step(loss)
    recs = records(tmp_path / "frozen.jsonl")
    assert monitor.enabled and recs[-1]["status"] == "completed"
    assert len([r for r in recs if r["type"] == "step" and "loss" in r]) == 31
    assert all("weight_norm" in r["layers"]["0"] for r in recs if "layers" in r)


@pytest.mark.parametrize("max_norm, always", [(1e-4, True), (100.0, False)])
def test_hf_trainer_clipping_is_counted_from_the_clipped_norm(tmp_path: Path, max_norm: float,
                                                              always: bool) -> None:
    pytest.importorskip("transformers")
    import importlib.util

    from transformers import Trainer, TrainingArguments

    from babysit.integrations.transformers import BabysitCallback

    spec = importlib.util.spec_from_file_location(
        "transformers_digits", Path(__file__).parent.parent / "examples" / "transformers_digits.py")
    example = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(example)  # type: ignore[union-attr]
    torch.manual_seed(0)
    xt, yt, _, _ = digits()
    babysit = BabysitCallback(log=tmp_path / "hf.jsonl", num_classes=10)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=30, learning_rate=1e-3,
                             per_device_train_batch_size=64, logging_steps=10, save_strategy="no",
                             report_to=[], use_cpu=True, seed=0, disable_tqdm=True,
                             max_grad_norm=max_norm)
    Trainer(model=example.Net(), args=args, train_dataset=example.Digits(xt, yt),
            callbacks=[babysit]).train()
    recs = records(tmp_path / "hf.jsonl")
    assert recs[0]["clip_norm"] == max_norm
    assert (recs[0]["batch_size"], recs[0]["log_every"]) == (64, 10)  # each logged loss: 640 examples
    sampled = [r for r in recs if "layers" in r]
    assert sampled[-1]["clipped_steps"] == (sampled[-1]["step"] + 1 if always else 0)
    logged = [r["grad_norm_total"] for r in recs if "grad_norm_total" in r]
    assert logged and all(n > 1e-3 for n in logged)  # the Trainer's norm before clipping


def test_only_the_training_forward_is_measured_not_a_no_grad_pass_or_an_ema_copy(tmp_path: Path) -> None:
    """Issue 22: a train-mode forward under no_grad (a training-accuracy pass without eval())
    and a deep-copied EMA model fed the monitor their activations."""
    import copy

    def run(extra: bool) -> list[float]:
        torch.manual_seed(0)
        model = mlp()
        ema = copy.deepcopy(model)
        opt = torch.optim.SGD(model.parameters(), 0.05)
        log = tmp_path / f"extra{extra}.jsonl"
        xt, yt, _, _ = digits()
        with Monitor(model, opt, log=log, num_classes=10, every=5) as monitor:
            for step in range(20):
                i = (step * 64) % 1344
                if extra:
                    with torch.no_grad():
                        model(xt[i:i + 64] * 100)  # train mode, no gradients: not training
                    ema(xt[i:i + 64] * 50)  # a copy of the model, gradients on
                loss = torch.nn.functional.cross_entropy(model(xt[i:i + 64]), yt[i:i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                monitor.step(loss)
        return [r["layers"]["0"]["act_std"] for r in records(log) if "layers" in r]

    assert run(extra=True) == run(extra=False)


def test_torch_save_works_while_a_monitor_is_attached(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), 0.05)
    xt, yt, _, _ = digits()
    with Monitor(model, opt, log=tmp_path / "save.jsonl", num_classes=10) as monitor:
        loss = torch.nn.functional.cross_entropy(model(xt[:64]), yt[:64])
        loss.backward()
        opt.step()
        monitor.step(loss)
        torch.save(model, tmp_path / "model.pt")  # pickles the module with its hooks
        loaded = torch.load(tmp_path / "model.pt", weights_only=False)
        assert torch.equal(loaded(xt[:8]), model(xt[:8]))
        loss = torch.nn.functional.cross_entropy(model(xt[:64]), yt[:64])
        loss.backward()
        opt.step()
        monitor.step(loss)
    assert monitor.enabled and records(tmp_path / "save.jsonl")[-1]["status"] == "completed"


def test_a_very_deep_model_is_watched_at_64_layers_spread_through_depth(tmp_path: Path) -> None:
    """Issue 22: a 1000-layer model paid +83% per step; past 64 layers, 64 are watched."""
    layers: list[Any] = []
    for _ in range(300):
        layers += [torch.nn.Linear(8, 8), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(8, 3))
    monitor = Monitor(model, None, log=tmp_path / "deep.jsonl", num_classes=3)
    monitor.close()
    header = records(tmp_path / "deep.jsonl")[0]
    watched = header["layers_watched"]
    assert header["layers_total"] == 301 and len(watched) == 64
    assert watched[0] == "0" and watched[-1] == "600"  # the first and the output layer
    gaps = {int(b) - int(a) for a, b in itertools.pairwise(watched)}
    assert gaps <= {8, 10}  # evenly spread (every 4th or 5th Linear: indices step by 2)
    named = Monitor(model, None, log=False, layers=[str(i) for i in range(0, 600, 2)])
    named.close()
    assert len(named.layers) == 300  # layers named explicitly are all watched


def test_the_lightning_callback_keeps_the_log_when_no_watched_layer_has_a_gradient(tmp_path: Path) -> None:
    """Issue 22: through the Lightning callback too, every watched layer frozen switched the
    Monitor off and the run's log was lost."""
    pl = pytest.importorskip("pytorch_lightning")
    from babysit.integrations.lightning import BabysitCallback

    class Frozen(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp().requires_grad_(False)
            self.shift = torch.nn.Parameter(torch.zeros(10))  # the only thing that trains

        def training_step(self, batch: Any, _: int) -> Any:
            return torch.nn.functional.cross_entropy(self.net(batch[0]) + self.shift, batch[1])

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD([self.shift], 0.1)

    xt, yt, _, _ = digits()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xt, yt), batch_size=64)
    babysit = BabysitCallback(log=tmp_path / "frozen.jsonl", num_classes=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "switched off" would be one
        trainer = pl.Trainer(max_epochs=1, callbacks=[babysit], logger=False, accelerator="cpu",
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False)
        trainer.fit(Frozen(), loader)
    recs = records(tmp_path / "frozen.jsonl")
    assert babysit.monitor is not None and babysit.monitor.enabled
    assert len([r for r in recs if r["type"] == "step" and "loss" in r]) == trainer.global_step == 22
    assert recs[-1]["status"] == "completed"


def test_a_hugging_face_models_class_says_its_task_and_class_count() -> None:
    transformers = pytest.importorskip("transformers")
    from babysit.integrations.transformers import model_facts

    bert = {"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16}
    classifier = transformers.BertForSequenceClassification(transformers.BertConfig(num_labels=4, **bert))
    assert model_facts(classifier) == {"task": "classification", "num_classes": 4}  # built, not loaded
    scorer = transformers.BertForSequenceClassification(transformers.BertConfig(num_labels=1, **bert))
    assert model_facts(scorer) == {"task": "regression"}  # the Trainer's MSE for one label
    lm = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=30))
    lm.config._name_or_path = "gpt2"  # what from_pretrained sets
    assert model_facts(lm) == {"task": "sequence", "pretrained": True}
    assert model_facts(torch.nn.Linear(2, 2)) == {}  # a plain module says nothing
