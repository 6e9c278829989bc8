"""The Python API the CLI is built on: load data, train, attach sinks; diagnose a log or a
Solver's histories (in a notebook, the result draws itself as HTML)."""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babysit.config import Config
from babysit.data import Dataset, load_data, preprocess
from babysit.diagnostics.engine import Engine, Report
from babysit.diagnostics.rule import Finding
from babysit.diagnostics.unchecked import unchecked_line
from babysit.errors import BabysitError
from babysit.notebook import in_notebook
from babysit.training import Sink, Trainer
from babysit.training.sinks import Record


def prepare_data(config: Config) -> Dataset:
    """Load config.data and apply config.preprocess (statistics from the training split only)."""
    raw = load_data(config.data, classes=config.classes, points=config.points,
                    label_column=config.label_column, val_fraction=config.val_fraction,
                    seed=config.seed)
    return preprocess(raw, config.preprocess)


def train(config: Config, sinks: Iterable[Sink] = (), dataset: Dataset | None = None,
          live: bool | None = None) -> Record:
    """Train with `config`, sending every record to `sinks`; return the summary record.
    `live` (default: in Jupyter) adds a notebook cell that shows the run and its findings."""
    config = config.validated()
    data = dataset if dataset is not None else prepare_data(config)
    sinks = list(sinks)
    if live if live is not None else in_notebook():
        from babysit.diagnostics.sink import DiagnosticsSink
        from babysit.notebook import LiveCell

        doctor = DiagnosticsSink()
        sinks += [doctor, LiveCell(doctor.so_far, "babysit train")]
    return Trainer(config, data, sinks).run()


@dataclass
class Diagnosis:
    """One run's diagnosis, for Python and notebooks: its findings, and how it prints."""

    report: Report
    notes: list[str]

    @property
    def findings(self) -> list[Finding]:
        """Root cause first, as `babysit diagnose` lists them."""
        return self.report.findings

    def __repr__(self) -> str:
        """The findings one per line (or 'No problems found.'), then what was not checked."""
        lines = [str(f) for f in self.findings] or ["No problems found."]
        unchecked = unchecked_line(self.report.not_checked)
        return "\n".join(lines + ([unchecked] if unchecked else []) + [f"Note: {n}" for n in self.notes])

    def _repr_html_(self) -> str:
        """How Jupyter shows it: the findings as a list, then what was not checked."""
        from babysit.notebook import findings_html

        unchecked = unchecked_line(self.report.not_checked)
        extra = "".join(f"<p><small>{html.escape(t)}</small></p>"
                        for t in ([unchecked] if unchecked else []) + self.notes)
        return findings_html(self.report) + extra


def diagnose(source: str | os.PathLike[str] | Any = None, *, loss_history: Sequence[float] = (),
             train_acc_history: Sequence[float] = (), val_acc_history: Sequence[float] = (),
             num_classes: int | None = None) -> Diagnosis | list[Diagnosis]:
    """Diagnose a log (any format `babysit diagnose` reads: one Diagnosis, or a list for a store
    of several runs), a CS231n-style Solver (its loss_history, train_acc_history and
    val_acc_history), or those histories given as lists."""
    if source is not None and not isinstance(source, (str, os.PathLike)):
        loss_history = getattr(source, "loss_history", loss_history)
        train_acc_history = getattr(source, "train_acc_history", train_acc_history)
        val_acc_history = getattr(source, "val_acc_history", val_acc_history)
    elif source is not None:
        from babysit.diagnostics.runs import diagnose_runs

        results, _ = diagnose_runs(Path(source), num_classes)
        found = [Diagnosis(report, notes) for _, report, notes in results]
        return found[0] if len(found) == 1 else found
    records = history_records(loss_history, train_acc_history, val_acc_history, num_classes)
    report = Engine(classes=num_classes).push_all(records)
    if not report.measured:
        raise BabysitError("nothing to diagnose: give a log path, a Solver, or loss_history")
    return Diagnosis(report, [])


def history_records(loss: Sequence[float], train_acc: Sequence[float], val_acc: Sequence[float],
                    num_classes: int | None = None) -> list[Record]:
    """Metric records from per-iteration losses and per-check accuracies, as the CS231n Solver
    keeps them (accuracy checked at the start, at each epoch end and at the last iteration):
    the k-th of m checks is placed at iteration round(k (n - 1) / (m - 1)) of n."""
    records: list[Record] = [{"type": "header", "num_classes": num_classes}] if num_classes else []
    records += [{"type": "step", "step": i, "loss": float(v)} for i, v in enumerate(loss)]
    checks = max(len(train_acc), len(val_acc))
    last = max(len(loss) - 1, 0)
    for k in range(checks):
        step = round(k * last / (checks - 1)) if checks > 1 else last
        rec: Record = {"type": "epoch", "step": step, "epoch": k}
        if k < len(train_acc):
            rec["train_acc"] = float(train_acc[k])
        if k < len(val_acc):
            rec["val_acc"] = float(val_acc[k])
        records.append(rec)
    records.sort(key=lambda r: (r.get("step", -1), r.get("type") == "epoch"))
    return records
