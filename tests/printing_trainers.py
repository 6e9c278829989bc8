"""Tiny training scripts that print the way the real libraries print: run as
`python -m tests.printing_trainers KIND`, their stdout is what a user would pipe into
`babysit watch -` or keep as train.log. Each trains a small classifier on blobs (3 classes)
for a few epochs, with validation."""

from __future__ import annotations

import math
import os
import sys

EPOCHS = 6


def blobs(n: int = 240, seed: int = 0):  # type: ignore[no-untyped-def]
    """Three Gaussian blobs in 4-D (float32 inputs, int64 labels), shuffled."""
    import numpy as np
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)).astype("float32") + 2.0 * np.eye(3, 4, dtype="float32")[y]
    return x, y


def keras(verbose: int) -> None:
    """Keras 3 (torch backend) fit with its own progress bar."""
    os.environ["KERAS_BACKEND"] = "torch"
    import keras as k
    x, y = blobs()
    k.utils.set_random_seed(0)
    model = k.Sequential([k.Input((4,)), k.layers.Dense(16, activation="relu"), k.layers.Dense(3)])
    model.compile(k.optimizers.Adam(0.01), k.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=EPOCHS, batch_size=16, validation_split=0.25, verbose=verbose)


def hf() -> None:
    """The Hugging Face Trainer, printing its log dicts (disable_tqdm: the PrinterCallback)."""
    import torch
    from transformers import Trainer, TrainingArguments

    x, y = blobs()

    class Data(torch.utils.data.Dataset):
        def __init__(self, lo: int, hi: int) -> None:
            self.lo, self.hi = lo, hi

        def __len__(self) -> int:
            return self.hi - self.lo

        def __getitem__(self, i: int) -> dict:
            return {"x": torch.tensor(x[self.lo + i]), "labels": int(y[self.lo + i])}

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))

        def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
            logits = self.body(x)
            return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}

    def accuracy(pred) -> dict:  # type: ignore[no-untyped-def]
        return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}

    torch.manual_seed(0)
    args = TrainingArguments(output_dir=sys.argv[2], num_train_epochs=EPOCHS, per_device_train_batch_size=16,
                             learning_rate=0.01, logging_steps=4, eval_strategy="epoch", report_to=[],
                             disable_tqdm=True, save_strategy="no", use_cpu=True)
    Trainer(model=Net(), args=args, train_dataset=Data(0, 180), eval_dataset=Data(180, 240),
            compute_metrics=accuracy).train()


def lightning() -> None:
    """A LightningModule with its TQDM progress bar (loss and val_loss shown on it)."""
    import pytorch_lightning as pl
    import torch
    x, y = blobs()
    data = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))

    class Net(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))

        def training_step(self, batch: tuple, _: int) -> torch.Tensor:
            loss = torch.nn.functional.cross_entropy(self.body(batch[0]), batch[1])
            self.log("train_loss", loss, prog_bar=True)
            return loss

        def validation_step(self, batch: tuple, _: int) -> None:
            logits = self.body(batch[0])
            self.log("val_loss", torch.nn.functional.cross_entropy(logits, batch[1]), prog_bar=True)
            self.log("val_acc", (logits.argmax(-1) == batch[1]).float().mean(), prog_bar=True)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), 0.01)

    pl.seed_everything(0)
    train, val = torch.utils.data.random_split(data, [180, 60])
    pl.Trainer(max_epochs=EPOCHS, logger=False, enable_checkpointing=False, enable_model_summary=False,
               accelerator="cpu").fit(Net(), torch.utils.data.DataLoader(train, batch_size=16),
                                      torch.utils.data.DataLoader(val, batch_size=30))


def stuck() -> None:
    """A plain print loop whose loss sits at ln 3 (a net outputting uniform probabilities)."""
    print("Loading data...")
    for epoch in range(1, 9):
        for step in (25, 50, 75, 100):
            print(f"Epoch [{epoch}/8], Step [{step}/100], Loss: {math.log(3) + 1e-4 * math.sin(epoch * step):.4f}",
                  flush=True)
        print(f"Epoch {epoch}: Val Loss={math.log(3):.4f}, Val Acc=33.3%", flush=True)
    sys.exit(3)


if __name__ == "__main__":
    kind = sys.argv[1]
    {"keras1": lambda: keras(1), "keras2": lambda: keras(2), "hf": hf, "lightning": lightning,
     "stuck": stuck}[kind]()
