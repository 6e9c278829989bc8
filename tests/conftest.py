"""Inputs several test modules share, made once per session (a training run, a search)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from babysit.cli.app import app

runner = CliRunner()


@pytest.fixture(scope="session")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A babysit run with the lecture's depth fault: tiny init in a deep tanh net."""
    log = tmp_path_factory.mktemp("faulty") / "deep.jsonl"
    result = runner.invoke(app, ["train", "--data", "spiral", "--hidden", "50,50,50,50,50,50",
                                 "--activation", "tanh", "--init", "small", "--init-std", "0.01",
                                 "--optimizer", "sgd", "--lr", "0.1", "--epochs", "10", "--log",
                                 str(log), "--no-live"])
    assert result.exit_code in (0, 1), result.output
    return log


@pytest.fixture(scope="session")
def search_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-stage search with an ensemble."""
    path = tmp_path_factory.mktemp("search") / "search.jsonl"
    result = runner.invoke(app, ["search", "--data", "spiral", "--trials", "8", "--epochs", "2",
                                 "--fine-epochs", "4", "--stages", "2", "--ensemble", "3",
                                 "--workers", "1", "--results", str(path), "--no-live"])
    assert result.exit_code == 0, result.output
    return path
