"""Threshold overrides from the command line (--set rule.name=value) or a TOML file."""

from __future__ import annotations

import sys
from pathlib import Path

from babysit.errors import BabysitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

Overrides = dict[str, dict[str, float]]


def parse_set(items: list[str]) -> Overrides:
    """['loss-flat.min_drop=0.02', ...] -> {'loss-flat': {'min_drop': 0.02}}."""
    out: Overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        rule, dot, name = key.strip().rpartition(".")
        if not sep or not dot or not rule or not name:
            raise BabysitError(f"--set expects RULE.THRESHOLD=VALUE, got {item!r}")
        try:
            out.setdefault(rule, {})[name] = float(value)
        except ValueError:
            raise BabysitError(f"--set {item!r}: {value!r} is not a number") from None
    return out


MAX_CONFIG_BYTES = 1 << 20  # a thresholds file is a few lines; anything bigger is not one


def load_toml(path: Path) -> Overrides:
    """A TOML file with one table per rule id: [loss-flat] min_drop = 0.02."""
    try:
        if not path.is_file():  # /dev/zero or a FIFO would be read forever
            what = "not found" if not path.exists() else "not a regular file"
            raise BabysitError(f"rules config {path}: {what}")
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise BabysitError(f"rules config {path} is over {MAX_CONFIG_BYTES >> 20} MiB: not a "
                               "thresholds file")
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise BabysitError(f"cannot read rules config {path}: {exc}") from None
    out: Overrides = {}
    for rule, table in data.items():
        if not isinstance(table, dict):
            raise BabysitError(f"{path}: [{rule}] must be a table of thresholds")
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BabysitError(f"{path}: {rule}.{name} must be a number, got {value!r}")
            out.setdefault(rule, {})[name] = float(value)
    return out


def merge(*sources: Overrides) -> Overrides:
    """Later sources win, threshold by threshold."""
    out: Overrides = {}
    for source in sources:
        for rule, table in source.items():
            out.setdefault(rule, {}).update(table)
    return out


def threshold(rule_id: str, name: str, overrides: Overrides | None = None) -> float:
    """A rule's threshold as a run would use it: its --set / --rules-config value, else the
    rule's default (for the checks outside the engine that judge by the same line)."""
    from babysit.diagnostics.rules import RULES_BY_ID

    value = (overrides or {}).get(rule_id, {}).get(name)
    return float(value) if value is not None else float(RULES_BY_ID[rule_id].thresholds[name])
