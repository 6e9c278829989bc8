"""Plain progress lines: about ten per run, one per selected epoch end, never one per step."""

from __future__ import annotations

from typing import Any, TextIO

Record = dict[str, Any]
LINES_PER_RUN = 10


def _pct(value: Any) -> str:
    return f"{100 * value:5.1f}%" if isinstance(value, (int, float)) else "    - "


def _num(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "-"


class ProgressPrinter:
    """Prints what trains (from a babysit header) and an epoch line every ~1/10 of the run.

    Works on any log: without a header it prints every epoch-end record it sees.
    """

    def __init__(self, out: TextIO) -> None:
        """Write lines to `out`."""
        self.out = out
        self.epochs: int | None = None
        self.every = 1
        self.last_loss: Any = None  # an epoch record of its own has no loss: show the latest

    def emit(self, record: Record) -> None:
        """Print on the header and on selected epoch-closing records."""
        kind = record.get("type", "step")
        if record.get("loss") is not None:
            self.last_loss = record["loss"]
        if kind == "header" and isinstance(record.get("config"), dict):
            cfg, ds = record["config"], record.get("dataset") or {}
            self.epochs = cfg.get("epochs") if isinstance(cfg.get("epochs"), int) else None
            self.every = max(1, (self.epochs or 0) // LINES_PER_RUN)
            hidden = "-".join(str(h) for h in cfg.get("hidden", []))
            print(f"training {ds.get('name', '?')} {tuple(ds.get('X_train', []))}: {hidden} "
                  f"{cfg.get('activation')}, {cfg.get('init')} init, {cfg.get('optimizer')} "
                  f"lr {_num(cfg.get('lr'), 'g')}, reg {_num(cfg.get('reg'), 'g')}, "
                  f"{self.epochs} epochs", file=self.out, flush=True)
        elif kind in ("step", "epoch") and ("train_acc" in record or "val_acc" in record):
            epoch = record.get("epoch")
            shown = epoch + 1 if isinstance(epoch, int) else None
            if shown is not None and self.epochs and not (
                    shown % self.every == 0 or shown == self.epochs):
                return
            where = (f"epoch {shown:>{len(str(self.epochs))}}/{self.epochs}" if shown and self.epochs
                     else f"epoch {shown}" if shown else f"step {record.get('step')}")
            line = (f"{where}  loss {_num(record.get('loss', self.last_loss), '.4f')}  "
                    f"train {_pct(record.get('train_acc'))}  val {_pct(record.get('val_acc'))}")
            if "lr" in record:
                line += f"  lr {_num(record.get('lr'), '.2e')}"
            if "time" in record:
                line += f"  {_num(record.get('time'), '.1f')}s"
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        """Nothing to release."""
