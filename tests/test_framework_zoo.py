"""The cross-framework zoo: runs trained with real PyTorch, logged as JSONL (every step),
TensorBoard (every 5 steps) and MLflow (every 10 steps); their labels must hold.

The fixtures come from `python bench/framework_zoo.py --seeds 0 1`. A label that does not hold
yet is a strict xfail naming why, so that fixing it is noticed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from babysit.cli.app import app
from bench.framework_zoo import judge

ZOO = Path(__file__).parent / "fixtures" / "zoo"
LABELS: dict[str, Any] = json.loads((ZOO / "labels.json").read_text())
# Labels that do not hold yet, as (format, run): each a strict xfail, so that a fix is noticed.
KNOWN: set[tuple[str, str]] = set()


@cache
def reports(fmt: str) -> dict[str, dict[str, Any]]:
    runner = CliRunner()

    def diagnose(path: Path) -> list[dict[str, Any]]:
        result = runner.invoke(app, ["diagnose", str(path), "--json"])
        assert result.exit_code in (0, 1), result.output
        out = json.loads(result.stdout)
        return out["runs"] if "runs" in out else [out]

    if fmt == "jsonl":
        return {p.stem: diagnose(p)[0] for p in sorted((ZOO / "jsonl").glob("*.jsonl"))}
    return {r["run"]: r for r in diagnose(ZOO / ("tensorboard" if fmt == "tensorboard" else "mlflow.db"))}


CASES = [(fmt, run) for fmt in ("jsonl", "tensorboard", "mlflow") for run in LABELS]


@pytest.mark.parametrize("fmt,run", [
    pytest.param(fmt, run, marks=pytest.mark.xfail(strict=True, reason="a known miss (bench/RESULTS.md)"))
    if (fmt, run) in KNOWN else (fmt, run) for fmt, run in CASES])
def test_labels_hold(fmt: str, run: str) -> None:
    report = reports(fmt)[run]
    missed, unexpected = judge(report, LABELS[run])
    fired = [(f["rule"], f["severity"]) for f in report["findings"]]
    assert not missed, f"{fmt} {run}: labels not found {missed}; fired {fired}"
    assert not unexpected, f"{fmt} {run}: should not fire {unexpected}; fired {fired}"


def test_every_format_holds_every_run() -> None:
    for fmt in ("jsonl", "tensorboard", "mlflow"):
        assert set(reports(fmt)) == set(LABELS), fmt
