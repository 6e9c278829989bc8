"""Inputs several test modules share, made once per session (a training run, a search)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from babysit.cli.app import app

runner = CliRunner()

# The suite must give the same result on every run and on a loaded machine: the same examples
# every time (derandomize, no example database carried between runs) and no per-example time
# limit (Hypothesis's 200 ms deadline failed test_reader_and_cli_never_crash while another
# suite ran on the same 2 cores). Speed is measured in bench/, not here.
settings.register_profile("babysit", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.load_profile("babysit")


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
