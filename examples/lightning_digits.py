"""babysit watching a PyTorch Lightning run on sklearn's digits.

Run: python examples/lightning_digits.py [--log run.jsonl] [--lr 1e-3] [--epochs 5]
then: babysit diagnose run.jsonl   (or babysit watch run.jsonl in another terminal while it runs)
"""

from __future__ import annotations

import argparse

import pytorch_lightning as pl
import torch
from sklearn.datasets import load_digits

from babysit.integrations.lightning import BabysitCallback


class Digits(pl.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                       torch.nn.Linear(64, 10))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        scores = self.net(x)
        self.log("train_acc", (scores.argmax(1) == y).float().mean(), on_step=False, on_epoch=True)
        return torch.nn.functional.cross_entropy(scores, y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        x, y = batch
        scores = self.net(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(scores, y))
        self.log("val_acc", (scores.argmax(1) == y).float().mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", default="run.jsonl")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    pl.seed_everything(0, verbose=False)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    data = torch.utils.data.TensorDataset
    train = torch.utils.data.DataLoader(data(x[:1400], y[:1400]), batch_size=64, shuffle=True)
    val = torch.utils.data.DataLoader(data(x[1400:], y[1400:]), batch_size=512)
    babysit = BabysitCallback(log=args.log, num_classes=10, overwrite=True)
    trainer = pl.Trainer(max_epochs=args.epochs, callbacks=[babysit], logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(Digits(args.lr), train, val)
    for finding in babysit.monitor.findings if babysit.monitor else []:
        print(f"{finding.severity}: {finding.rule}: {finding.message}")
    print(f"log: {args.log}")


if __name__ == "__main__":
    main()
