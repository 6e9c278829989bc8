"""A Lightning run on 2 CPU processes (strategy="ddp", gloo) with babysit's callback, launched by
torchrun as a user would: `python -m torch.distributed.run --standalone --nproc_per_node 2
tests/lightning_ddp_worker.py MODE LOG`. MODE: healthy | nan (rank 1's loss is NaN at step 7).
Each rank writes `LOG.rank<r>.json` with its global step and its monitor's state.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytorch_lightning as pl
import torch
from sklearn.datasets import load_digits

from babysit.integrations.lightning import BabysitCallback


class Digits(pl.LightningModule):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        if self.mode == "nan" and self.global_rank == 1 and self.global_step == 7:
            loss = loss * float("nan")
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        x, y = batch
        scores = self.net(x)
        self.log("val_acc", (scores.argmax(1) == y).float().mean(), sync_dist=True)
        self.log("val_loss", torch.nn.functional.cross_entropy(scores, y), sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)


def main() -> None:
    mode, log = sys.argv[1], Path(sys.argv[2])
    torch.set_num_threads(1)
    pl.seed_everything(0, verbose=False)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    data = torch.utils.data.TensorDataset
    train = torch.utils.data.DataLoader(data(x[:1400], y[:1400]), batch_size=32, shuffle=True)
    val = torch.utils.data.DataLoader(data(x[1400:], y[1400:]), batch_size=512)
    babysit = BabysitCallback(log=log, num_classes=10)
    trainer = pl.Trainer(max_epochs=3, callbacks=[babysit], logger=False, accelerator="cpu",
                         devices=2, strategy="ddp", enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         gradient_clip_val=1.0)
    trainer.fit(Digits(mode), train, val)
    monitor = babysit.monitor
    assert monitor is not None
    state = {"rank": trainer.global_rank, "global_step": trainer.global_step,
             "should_stop": monitor.should_stop, "findings": [f.rule for f in monitor.findings],
             "nan_origin": monitor.nan_origin}
    Path(f"{log}.rank{trainer.global_rank}.json").write_text(json.dumps(state))
    # Leave without tearing gloo down: its threads sometimes abort the exiting interpreter
    # ("terminate called without an active exception", seen once in 14 runs, after fit had
    # finished and the files were written), which torchrun reports as a failed rank.
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
