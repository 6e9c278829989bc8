"""A plain-text sink for `babysit train`: about ten progress lines per run, never one per step."""

from __future__ import annotations

from typing import Any, TextIO

from babysit.training.sinks import Record

LINES_PER_RUN = 10


def _pct(value: Any) -> str:
    return f"{100 * value:5.1f}%" if isinstance(value, (int, float)) else "    - "


class ProgressPrinter:
    """Prints an epoch line every ~1/10 of the run, plus the last epoch."""

    def __init__(self, out: TextIO) -> None:
        """Write lines to `out`."""
        self.out = out
        self.epochs = 1
        self.every = 1

    def emit(self, record: Record) -> None:
        """Print on the header (what runs) and on selected epoch-closing step records."""
        if record["type"] == "header":
            cfg, ds = record["config"], record["dataset"]
            self.epochs = cfg["epochs"]
            self.every = max(1, self.epochs // LINES_PER_RUN)
            hidden = "-".join(str(h) for h in cfg["hidden"])
            print(f"training {ds['name']} {tuple(ds['X_train'])}: {hidden} {cfg['activation']}, "
                  f"{cfg['init']} init, {cfg['optimizer']} lr {cfg['lr']:g}, reg {cfg['reg']:g}, "
                  f"{self.epochs} epochs", file=self.out, flush=True)
        elif record["type"] == "step" and "train_acc" in record:
            epoch = record["epoch"] + 1
            if epoch % self.every == 0 or epoch == self.epochs:
                print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  "
                      f"loss {record['loss']:.4f}  train {_pct(record['train_acc'])}  "
                      f"val {_pct(record.get('val_acc'))}  lr {record['lr']:.2e}  "
                      f"{record['time']:.1f}s", file=self.out, flush=True)

    def close(self) -> None:
        """Nothing to release."""
