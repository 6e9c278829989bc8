"""The cross-framework zoo: labelled runs trained with real PyTorch, Keras 3 and the Hugging Face
Trainer, logged the ways people log them, kept as small test fixtures.

Run: python bench/framework_zoo.py [--out tests/fixtures/zoo] [--seeds 0 1]
Needs the test extras plus the `zoo` extra (keras, transformers, accelerate; KERAS_BACKEND=torch).
Every plain case
trains a small MLP on sklearn's digits with a plain PyTorch loop and logs the same run three
ways, each with its own interval: babysit's minimal JSONL (every step), a TensorBoard
SummaryWriter (every 5 steps) and MLflow in SQLite (every 10 steps). Keras cases (torch
backend) log with CSVLogger, one row per epoch; Hugging Face cases keep the Trainer's
trainer_state.json (loss every few steps, eval_loss every epoch, no training accuracy);
Lightning cases keep the CSVLogger's metrics.csv (train_loss every 10 steps, accuracies and
val_loss per epoch). `labels.json` says, per run, the formats it was logged in, which rules
must fire (any of a group), which must not, which may be reported first (the root cause),
and whether it is healthy (then no warning or error may fire).
`python bench/framework_zoo.py --score` diagnoses the fixtures and prints recall, false
alarms and root-cause accuracy per format, as bench/RESULTS.md reports them.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/
from bench.zoo_case import TOO_HIGH, Case, digits, mlp
from bench.zoo_torch import MONITOR_CASES, train_monitor

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "zoo"
JSONL_EVERY, TB_EVERY, MLFLOW_EVERY = 1, 5, 10


CASES = [
    Case("healthy-adam", healthy=True),
    Case("healthy-sgd-momentum", optimizer="momentum", lr=0.05, batch=32, healthy=True),
    Case("healthy-deep-tanh", hidden=(64, 64, 64), activation="tanh", epochs=10, healthy=True),
    Case("lr-far-too-high", optimizer="sgd", lr=30.0, must_fire=[TOO_HIGH], root_cause=TOO_HIGH),
    Case("lr-far-too-low", optimizer="sgd", lr=1e-6, batch=32, must_fire=[["loss-flat"]],
         must_not_fire=["overfitting", "underfitting"], root_cause=["loss-flat"]),
    Case("tiny-subset-overfits", subset=60, epochs=150, batch=20, lr=3e-3,
         must_fire=[["overfitting"]], root_cause=["overfitting"]),
    Case("tiny-init-deep-tanh", hidden=(64, 64, 64, 64), activation="tanh", optimizer="momentum",
         lr=0.01, init_std=0.01, epochs=15,
         must_fire=[["plateau-then-drop", "loss-flat", "underfitting"]],
         root_cause=["plateau-then-drop", "loss-flat"]),
    Case("adam-100x-unstable", lr=0.1, epochs=30, must_fire=[["training-unstable"]],
         must_not_fire=["underfitting", "loss-flat"], root_cause=["training-unstable"]),
]


def _optimizer(case: Case, params: Any, torch: Any) -> Any:
    if case.optimizer == "adam":
        return torch.optim.Adam(params, lr=case.lr)
    return torch.optim.SGD(params, lr=case.lr, momentum=0.9 if case.optimizer == "momentum" else 0.0)


def train_plain(case: Case, seed: int, out: Path) -> None:
    """A plain PyTorch loop logging to JSONL, TensorBoard and MLflow at different intervals."""
    import mlflow
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(seed)
    xt, yt, xv, yv = digits(torch, seed)
    if case.subset:
        xt, yt = xt[: case.subset], yt[: case.subset]
    model = mlp(case, torch)
    opt = _optimizer(case, model.parameters(), torch)
    run = f"{case.name}-s{seed}"
    jsonl = (out / "jsonl" / f"{run}.jsonl").open("w")
    writer = SummaryWriter(str(out / "tensorboard" / run))
    mlflow.set_tracking_uri(f"sqlite:///{out / 'mlflow.db'}")
    mlflow.start_run(run_name=run)
    step = 0
    for epoch in range(case.epochs):
        order = torch.randperm(len(yt))
        for i in range(0, len(yt), case.batch):
            idx = order[i : i + case.batch]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = float(loss.detach())
            if step % JSONL_EVERY == 0:
                jsonl.write(json.dumps({"step": step, "loss": value}) + "\n")
            if step % TB_EVERY == 0:
                writer.add_scalar("Loss/train", value, step)
            if step % MLFLOW_EVERY == 0:
                mlflow.log_metric("train_loss", value, step=step)
            step += 1
            if not math.isfinite(value):
                break
        with torch.no_grad():
            train_acc = float((model(xt).argmax(1) == yt).float().mean())
            scores = model(xv)
            val_loss = float(torch.nn.functional.cross_entropy(scores, yv))
            val_acc = float((scores.argmax(1) == yv).float().mean())
        last = step - 1
        jsonl.write(json.dumps({"type": "epoch", "step": last, "epoch": epoch, "train_acc": train_acc,
                                "val_loss": val_loss, "val_acc": val_acc}) + "\n")
        writer.add_scalar("Accuracy/train", train_acc, last)
        writer.add_scalar("Loss/val", val_loss, last)
        writer.add_scalar("Accuracy/val", val_acc, last)
        mlflow.log_metrics({"train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}, step=last)
        if not math.isfinite(value):
            break
    jsonl.close()
    writer.close()
    mlflow.end_run()


KERAS_CASES = [
    Case("keras-healthy", epochs=30, healthy=True),
    Case("keras-two-unit-net", hidden=(2,), epochs=40, must_fire=[["underfitting"]],
         must_not_fire=["overfitting"], root_cause=["underfitting"]),
    Case("keras-lr-far-too-high", optimizer="sgd", lr=30.0, epochs=10, must_fire=[TOO_HIGH],
         root_cause=TOO_HIGH),
]
HF_CASES = [
    Case("hf-healthy", epochs=15, batch=32, healthy=True),
    Case("hf-tiny-subset-overfits", subset=60, epochs=150, batch=20, lr=3e-3,
         must_fire=[["overfitting"]], root_cause=["overfitting"]),
    Case("hf-two-unit-net", hidden=(2,), epochs=40, batch=32, must_fire=[["underfitting"]],
         must_not_fire=["overfitting"], root_cause=["underfitting"]),
]
LIGHTNING_CASES = [  # CSVLogger: train_loss every 10 steps, accuracies and val_loss per epoch
    Case("pl-healthy", epochs=12, batch=32, healthy=True),
    Case("pl-lr-far-too-low", optimizer="sgd", lr=1e-6, epochs=12, batch=32,
         must_fire=[["loss-flat"]], must_not_fire=["overfitting", "underfitting"],
         root_cause=["loss-flat"]),
    Case("pl-two-unit-net", hidden=(2,), epochs=40, batch=32, must_fire=[["underfitting"]],
         must_not_fire=["overfitting"], root_cause=["underfitting"]),
    Case("pl-adam-100x-unstable", lr=0.1, epochs=30, must_fire=[["training-unstable"]],
         must_not_fire=["underfitting", "loss-flat"], root_cause=["training-unstable"]),
]


def train_keras(case: Case, seed: int, out: Path) -> None:
    """Keras 3 on the torch backend, logged by CSVLogger (loss, accuracy, val_* per epoch)."""
    import os

    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    import torch

    keras.utils.set_random_seed(seed)
    xt, yt, xv, yv = (a.numpy() for a in digits(torch, seed))
    layers = [keras.Input((64,))] + [keras.layers.Dense(h, activation=case.activation)
                                      for h in case.hidden] + [keras.layers.Dense(10)]
    model = keras.Sequential(layers)
    opt = (keras.optimizers.Adam(case.lr) if case.optimizer == "adam"
           else keras.optimizers.SGD(case.lr, momentum=0.9 if case.optimizer == "momentum" else 0.0))
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    (out / "keras").mkdir(exist_ok=True)
    logger = keras.callbacks.CSVLogger(str(out / "keras" / f"{case.name}-s{seed}.csv"))
    model.fit(xt, yt, batch_size=case.batch, epochs=case.epochs, validation_data=(xv, yv),
              callbacks=[logger], verbose=0)


def train_hf(case: Case, seed: int, out: Path) -> None:
    """The Hugging Face Trainer on a plain torch module; keeps its trainer_state.json."""
    import tempfile

    import torch
    from transformers import Trainer, TrainingArguments

    torch.manual_seed(seed)
    xt, yt, xv, yv = digits(torch, seed)
    if case.subset:
        xt, yt = xt[: case.subset], yt[: case.subset]

    class Digits(torch.utils.data.Dataset):
        def __init__(self, x: Any, y: Any) -> None:
            self.x, self.y = x, y

        def __len__(self) -> int:
            return len(self.y)

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"x": self.x[i], "labels": self.y[i]}

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp(case, torch)

        def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
            logits = self.net(x)
            return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, num_train_epochs=case.epochs, learning_rate=case.lr,
                                 per_device_train_batch_size=case.batch, logging_steps=5,
                                 eval_strategy="epoch", save_strategy="no", report_to=[],
                                 use_cpu=True, seed=seed, disable_tqdm=True)
        trainer = Trainer(model=Net(), args=args, train_dataset=Digits(xt, yt),
                          eval_dataset=Digits(xv, yv))
        trainer.train()
        (out / "hf").mkdir(exist_ok=True)
        trainer.state.save_to_json(str(out / "hf" / f"{case.name}-s{seed}.json"))


def train_lightning(case: Case, seed: int, out: Path) -> None:
    """A LightningModule logged by Lightning's CSVLogger (metrics.csv), kept as one CSV."""
    import tempfile

    import pytorch_lightning as pl
    import torch

    pl.seed_everything(seed, verbose=False)
    xt, yt, xv, yv = digits(torch, seed)

    class Digits(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp(case, torch)

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.cross_entropy(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def on_train_epoch_end(self) -> None:
            with torch.no_grad():
                self.log("train_acc", (self.net(xt).argmax(1) == yt).float().mean())

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            scores = self.net(x)
            self.log("val_loss", torch.nn.functional.cross_entropy(scores, y))
            self.log("val_acc", (scores.argmax(1) == y).float().mean())

        def configure_optimizers(self) -> Any:
            return _optimizer(case, self.parameters(), torch)

    loader = torch.utils.data.DataLoader
    train = loader(torch.utils.data.TensorDataset(xt, yt), batch_size=case.batch, shuffle=True)
    val = loader(torch.utils.data.TensorDataset(xv, yv), batch_size=len(yv))
    with tempfile.TemporaryDirectory() as tmp:
        logger = pl.loggers.CSVLogger(tmp, name="run")
        trainer = pl.Trainer(max_epochs=case.epochs, logger=logger, log_every_n_steps=10,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, accelerator="cpu", devices=1)
        trainer.fit(Digits(), train, val)
        (out / "lightning").mkdir(exist_ok=True)
        shutil.copy(Path(logger.log_dir) / "metrics.csv", out / "lightning" / f"{case.name}-s{seed}.csv")


def sources() -> list[tuple[list[Any], Any, list[str]]]:
    """(cases, training function, formats it logs) for every framework in the zoo."""
    return [(CASES, train_plain, ["jsonl", "tensorboard", "mlflow"]),
            (KERAS_CASES, train_keras, ["keras"]), (HF_CASES, train_hf, ["hf"]),
            (LIGHTNING_CASES, train_lightning, ["lightning"]),
            (MONITOR_CASES, train_monitor, ["torch"])]


def generate(out: Path, seeds: list[int], only: list[str] | None = None) -> None:
    """Train every case for every seed and write the fixtures and labels; with `only`, just
    the sources logging those formats, keeping the other fixtures and their labels."""
    labels: dict[str, Any] = {}
    if only:
        labels = json.loads((out / "labels.json").read_text())
    elif out.exists():
        shutil.rmtree(out)
    (out / "jsonl").mkdir(parents=True, exist_ok=True)
    for cases, train, formats in sources():
        if only and not set(formats) & set(only):
            continue
        for case in cases:
            for seed in seeds:
                train(case, seed, out)
                labels[f"{case.name}-s{seed}"] = {"formats": formats, "must_fire": case.must_fire,
                                                   "must_not_fire": case.must_not_fire,
                                                   "root_cause": case.root_cause,
                                                   "healthy": case.healthy}
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    if (out / "mlflow.db").exists():
        import sqlite3

        db = sqlite3.connect(out / "mlflow.db")  # MLflow leaves free pages behind: keep it small
        db.execute("VACUUM")
        db.close()


def judge(report: dict[str, Any], label: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """(labels missed, rules that fired but must not) for one diagnosed run."""
    fired = {f["rule"] for f in report["findings"]}
    serious = {f["rule"] for f in report["findings"] if f["severity"] in ("warning", "error")}
    missed = [group for group in label["must_fire"] if not fired & set(group)]
    unexpected = sorted((serious if label["healthy"] else set()) | (fired & set(label["must_not_fire"])))
    return missed, unexpected


def root_ok(report: dict[str, Any], label: dict[str, Any]) -> bool | None:
    """Whether the first finding reported is the labelled root cause; None if unlabelled."""
    if not label.get("root_cause"):
        return None
    return bool(report["findings"]) and report["findings"][0]["rule"] in label["root_cause"]


def diagnose(path: Path, *args: str) -> dict[str, Any]:
    """`babysit diagnose --json` on a fixture, as a user would run it."""
    proc = subprocess.run([sys.executable, "-m", "babysit", "diagnose", str(path), "--json", *args],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout)


def reports(fixtures: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """format -> run -> report, for every fixture."""
    out: dict[str, dict[str, dict[str, Any]]] = {"jsonl": {}, "tensorboard": {}, "mlflow": {},
                                                 "keras": {}, "hf": {}, "lightning": {},
                                                 "torch": {}}
    for fmt, pattern in (("jsonl", "jsonl/*.jsonl"), ("keras", "keras/*.csv"), ("hf", "hf/*.json"),
                         ("lightning", "lightning/*.csv"), ("torch", "torch/*.jsonl.gz")):
        for path in sorted(fixtures.glob(pattern)):
            out[fmt][path.name.split(".")[0]] = diagnose(path)["runs"][0]
    for report in diagnose(fixtures / "tensorboard")["runs"]:
        out["tensorboard"][report["run"]] = report
    for report in diagnose(fixtures / "mlflow.db")["runs"]:
        out["mlflow"][report["run"]] = report
    return out


def score(fixtures: Path) -> None:
    """Print recall, false alarms and root-cause accuracy per format."""
    labels = json.loads((fixtures / "labels.json").read_text())
    for fmt, runs in reports(fixtures).items():
        found = wanted = alarms = healthy = rooted = right = 0
        for run, label in labels.items():
            if fmt not in label["formats"]:
                continue
            missed, unexpected = judge(runs[run], label)
            root = root_ok(runs[run], label)
            wanted += len(label["must_fire"])
            found += len(label["must_fire"]) - len(missed)
            alarms += bool(unexpected) and label["healthy"]
            healthy += label["healthy"]
            rooted += root is not None
            right += bool(root)
            if missed or unexpected or root is False:
                first = runs[run]["findings"][0]["rule"] if runs[run]["findings"] else None
                print(f"  {fmt:11} {run:28} missed {missed} unexpected {unexpected} first {first}")
        print(f"{fmt:11} recall {found}/{wanted}, false alarms on healthy runs {alarms}/{healthy}, "
              f"root cause first {right}/{rooted}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--score", action="store_true", help="diagnose the fixtures, print recall")
    parser.add_argument("--only", nargs="+", help="regenerate only these formats (e.g. torch)")
    args = parser.parse_args()
    if not args.score:
        generate(args.out, args.seeds, args.only)
    score(args.out)


if __name__ == "__main__":
    main()
