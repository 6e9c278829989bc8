"""`babysit sanity-check --torch FILE.py:FACTORY`: the recipe on your own PyTorch model.

FACTORY is a function of no arguments in FILE that returns (model, loss_fn, data) or a dict
with those keys (and optionally `optimizer`, `num_classes`, `reg_loss`); data is (X, y) or a
DataLoader of (x, y) batches. See babysit.torch.sanity_check.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from babysit.errors import BabysitError


def load_factory(spec: str) -> Any:
    """The function named by FILE.py:FACTORY."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise BabysitError(f"--torch wants FILE.py:FACTORY, got {spec!r}")
    file = Path(path)
    if not file.exists():
        raise BabysitError(f"--torch: no file {file}")
    if not file.is_file():  # /dev/null, a directory, a FIFO: there, but no Python source
        raise BabysitError(f"--torch: {file} is not a regular file (give the .py file that defines {name})")
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    if module_spec is None or module_spec.loader is None:
        raise BabysitError(f"--torch: cannot import {file} (not a Python file?)")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(file.parent.resolve()))  # the script's own imports, as `python FILE`
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise BabysitError(f"--torch: importing {file} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise BabysitError(f"--torch: {file} has no function {name!r}")
    return factory


def arguments(made: Any) -> dict[str, Any]:
    """sanity_check's arguments from what the factory returned."""
    if isinstance(made, dict):
        parts = dict(made)
    elif isinstance(made, (tuple, list)) and len(made) == 3:
        parts = dict(zip(("model", "loss_fn", "data"), made, strict=True))
    else:
        raise BabysitError("--torch: the factory must return (model, loss_fn, data) or a dict "
                           "with those keys")
    data = parts.pop("data", None)
    if data is None or "model" not in parts:
        raise BabysitError("--torch: the factory's result needs a model and data")
    x, y = (data[0], data[1]) if isinstance(data, (tuple, list)) and len(data) == 2 else (data, None)
    unknown = set(parts) - {"model", "loss_fn", "optimizer", "num_classes", "reg_loss"}
    if unknown:
        raise BabysitError(f"--torch: unknown key(s) {', '.join(sorted(unknown))} in the factory's result")
    return {"X": x, "y": y, **parts}


def run(spec: str, json_out: bool, echo: Any) -> int:
    """Run the recipe; print a line per check (or JSON); the exit status: 1 when a check fails."""
    try:
        from babysit.torch import sanity_check
    except ImportError as exc:
        raise BabysitError(str(exc)) from None
    factory = load_factory(spec)
    try:
        made = factory()
    except Exception as exc:
        raise BabysitError(f"--torch: {spec} raised {type(exc).__name__}: {exc}") from None
    args = arguments(made)
    args.setdefault("loss_fn", None)
    try:
        report = sanity_check(args.pop("model"), args.pop("loss_fn"), args.pop("X"), args.pop("y"),
                              **args)
    except (TypeError, ValueError, RuntimeError) as exc:  # data the model cannot take
        raise BabysitError(f"--torch: {type(exc).__name__}: {exc}") from None
    if json_out:
        echo(json.dumps({"checks": [{"name": c.name, "status": c.status, "message": c.message,
                                     "follows": c.follows,
                                     "advice": c.advice, "numbers": c.numbers} for c in report.checks],
                         "passed": report.passed}, default=str))
    else:
        echo(str(report))
    return 0 if report.passed else 1
