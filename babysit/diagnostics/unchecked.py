"""What was not checked, said once per run: the rules grouped by what would let them run.

Listing every unchecked rule with its fields took 8 lines a run (292 for a 16-run MLflow
store), and read like 20 problems. A user can act on "what to add" (the class count, per-layer
statistics), not on field names, so the rules are grouped by that.
"""

from __future__ import annotations

from typing import Any

# What to add to a run so that rules needing a field can check it, keyed by the field (a
# prefix ending in "." covers a family). The order is the order of the line.
ENABLERS: tuple[tuple[str, str], ...] = (
    ("layers.", "per-layer statistics (babysit train, the Monitor)"),
    ("header.num_classes", "--classes N"),
    ("classes", "--classes N"),  # the run's facts: a class count from any source
    ("val_acc", "validation accuracy"),
    ("val_loss", "validation metrics"),
    ("train_acc", "training accuracy"),
    ("header.input_stats", "input statistics"),
    ("header.activation", "the activation in the header"),
)


def enabler(need: str) -> str:
    """What would provide the field `need` (one of a rule's `needs`, e.g. 'val_acc|val_loss')."""
    for field in need.split("|"):
        for key, what in ENABLERS:
            if field == key or (key.endswith(".") and field.startswith(key)):
                return what
    return need.replace("|", " or ")


def grouped(not_checked: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """[(what would enable them, [rule ids])], in ENABLERS order, then the rest."""
    groups: dict[str, list[str]] = {}
    for item in not_checked:
        groups.setdefault(enabler(item["needs"][0]), []).append(item["rule"])
    order = [what for _, what in ENABLERS]
    return sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))


def unchecked_line(not_checked: list[dict[str, Any]]) -> str | None:
    """'Not checked (14 rules): 8 need per-layer statistics (...); loss-at-init needs
    --classes N; ...', or None when every rule was checked."""
    if not not_checked:
        return None
    parts = [f"{rules[0]} needs {what}" if len(rules) == 1 else f"{len(rules)} need {what}"
             for what, rules in grouped(not_checked)]
    n = len(not_checked)
    return f"Not checked ({n} rule{'s' if n > 1 else ''}): " + "; ".join(parts)
