"""babysit's hyperparameter search: its own nets (search.py), or the user's training function
(`run`, with `Trial` and `TrialPruned`: objective.py)."""

from __future__ import annotations

from typing import Any

from babysit.search.objective import Trial, TrialPruned


def run(objective: Any, ranges: Any, **options: Any) -> Any:
    """Search the user's `train(config, trial)` over `ranges` (objective_search.run)."""
    from babysit.search.objective_search import run as run_search

    return run_search(objective, ranges, **options)


__all__ = ["Trial", "TrialPruned", "run"]
