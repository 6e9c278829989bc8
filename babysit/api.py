"""The Python API the CLI is built on: load data, train, attach sinks."""

from __future__ import annotations

from collections.abc import Iterable

from babysit.config import Config
from babysit.data import Dataset, load_data, preprocess
from babysit.training import Sink, Trainer
from babysit.training.sinks import Record


def prepare_data(config: Config) -> Dataset:
    """Load config.data and apply config.preprocess (statistics from the training split only)."""
    raw = load_data(config.data, classes=config.classes, points=config.points,
                    label_column=config.label_column, val_fraction=config.val_fraction,
                    seed=config.seed)
    return preprocess(raw, config.preprocess)


def train(config: Config, sinks: Iterable[Sink] = (), dataset: Dataset | None = None) -> Record:
    """Train with `config`, sending every record to `sinks`; return the summary record."""
    config = config.validated()
    data = dataset if dataset is not None else prepare_data(config)
    return Trainer(config, data, sinks).run()
