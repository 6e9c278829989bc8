"""babysit watching a Hugging Face Trainer run (a small torch MLP) on sklearn's digits.

Run: python examples/transformers_digits.py [--log run.jsonl] [--lr 1e-3] [--epochs 5]
then: babysit diagnose run.jsonl   (or babysit watch run.jsonl in another terminal while it runs)
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

import torch
from sklearn.datasets import load_digits
from transformers import Trainer, TrainingArguments

from babysit.integrations.transformers import BabysitCallback


class Digits(torch.utils.data.Dataset):
    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "labels": self.y[i]}


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                       torch.nn.Linear(64, 10))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, Any]:
        logits = self.net(x)
        loss = torch.nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


def accuracy(pred: Any) -> dict[str, float]:
    return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", default="run.jsonl")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    babysit = BabysitCallback(log=args.log, num_classes=10, overwrite=True)
    with tempfile.TemporaryDirectory() as tmp:
        options = TrainingArguments(output_dir=tmp, num_train_epochs=args.epochs,
                                    learning_rate=args.lr, per_device_train_batch_size=64,
                                    logging_steps=5, eval_strategy="epoch", save_strategy="no",
                                    report_to=[], use_cpu=True, seed=0, disable_tqdm=True)
        trainer = Trainer(model=Net(), args=options, train_dataset=Digits(x[:1400], y[:1400]),
                          eval_dataset=Digits(x[1400:], y[1400:]), compute_metrics=accuracy,
                          callbacks=[babysit])
        trainer.train()
    if torch.distributed.is_initialized():  # launched with torchrun: leave the group cleanly
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    for finding in babysit.monitor.findings if babysit.monitor else []:
        print(f"{finding.severity}: {finding.rule}: {finding.message}")
    print(f"log: {args.log}")


if __name__ == "__main__":
    main()
