"""The lecture's search over your own LightningModule: digits, babysat trial by trial through
the trial's callback, the hopeless trials stopped out of fit() with the finding as their reason.

Run:  babysit search --objective examples/search_lightning_digits.py:train --lr-range 1e-3:30 \\
          --trials 8 --epochs 2 --stages 1 --workers 2
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from sklearn.datasets import load_digits


class Digits(pl.LightningModule):
    """A 64-unit MLP; SGD with momentum at the trial's learning rate."""

    def __init__(self, lr: float, hidden: int = 64) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 10))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        x, y = batch
        self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)


def train(config: dict, trial) -> float:
    """Fit for config["epochs"]; return the last validation accuracy."""
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor((x - 4.9) / 6.0, dtype=torch.float32), torch.tensor(y)
    data = torch.utils.data.TensorDataset
    loader = torch.utils.data.DataLoader(data(x[:1400], y[:1400]), batch_size=64, shuffle=True)
    val = torch.utils.data.DataLoader(data(x[1400:], y[1400:]), batch_size=512)
    trainer = pl.Trainer(max_epochs=config["epochs"], callbacks=[trial.lightning(num_classes=10)],
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(Digits(config["lr"], int(config.get("hidden", 64))), loader, val)
    return float(trainer.callback_metrics["val_acc"])
