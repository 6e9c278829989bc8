"""Score babysit's diagnosis on labelled runs (../shared/wild, ../shared/labelled/*).

Run: python bench/score_labelled.py [--halves] [SET_DIR ...]   (default: every set under ../shared)
--halves: the real runs (sets with a sources.json) split in two by repository (half_of), each
scored on its own: decide a change on one half, check that the other does not get worse.
Each set holds a labels.json (and labels-text.json: its printed-output runs, scored apart;
keys: a file or directory in the set, or NAME for NAME.jsonl) in
the format of ../shared/wild/README.md: `must` rules must fire, at least one of `must_any`, and
no headline finding (one without `caused_by`) may be a `must_not` rule, or any warning or error
when `must_not` is "warnings". Prints, per set: runs whose labels all hold, faults found, runs
with a wrong headline, and per rule its true and false headline findings, and its precision
and recall against the labels: a true positive is the rule firing on a run whose label names it
(`must` or `must_any`), a false positive its headline finding on a run whose label forbids it,
a false negative a `must` rule that did not fire (a `must_any` group that found none charges
each of its rules). Runs whose label neither names nor forbids a rule do not count for it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from babysit.diagnostics.runs import diagnose_runs
from babysit.errors import BabysitError

SHARED = Path(__file__).resolve().parents[2] / "shared"


def findings_of(path: Path) -> list[dict] | None:
    """Every run's findings in `path` (dicts as diagnose --json), or None when unreadable."""
    try:
        got = diagnose_runs(path)
        results = got[0] if isinstance(got, tuple) else got  # before 2026-11-30: a list
    except BabysitError:
        return None
    return [f.to_dict() for _, report, _ in results for f in report.findings]


def run_path(set_dir: Path, key: str) -> Path:
    """The file or directory a label's key names (NAME stands for NAME.jsonl)."""
    return set_dir / key if (set_dir / key).exists() else set_dir / f"{key}.jsonl"


def judge(found: list[dict], label: dict) -> tuple[list[str], list[str]]:
    """(labelled faults not found, headline findings the label forbids) for one run."""
    fired = {f["rule"] for f in found}
    heads = [f for f in found if f.get("caused_by") is None and f["severity"] != "info"]
    must, any_of, must_not = label.get("must", []), label.get("must_any", []), label.get("must_not", [])
    missed = [r for r in must if r not in fired] + \
        ([f"any of {any_of}"] if any_of and not fired & set(any_of) else [])
    wrong = [f["rule"] for f in heads if must_not == "warnings" or f["rule"] in must_not]
    return missed, wrong


def repo_of(set_dir: Path, key: str) -> str | None:
    """The public repository a real run comes from (its set's sources.json), else None (a zoo)."""
    sources_file = set_dir / "sources.json"
    if not sources_file.is_file():
        return None
    sources = json.loads(sources_file.read_text())
    entry = sources.get(key) or next((v for k, v in sources.items() if k.startswith(key + "/")), None)
    return entry["repo"] if isinstance(entry, dict) and "repo" in entry else None


def half_of(repo: str | None) -> str:
    """'A' or 'B' for a real run, by the first byte of sha256(lower-case owner/name) (even: A),
    fixed so that a change is decided on one half and checked on the other; 'zoo' otherwise."""
    if repo is None:
        return "zoo"
    return "AB"[hashlib.sha256(repo.lower().encode()).digest()[0] % 2]


def score(set_dir: Path, labels_name: str = "labels.json", half: str | None = None) -> dict:
    """Counts for one labelled set (`labels-text.json`: its printed-output runs); with `half`,
    only its runs of that half ('A', 'B')."""
    labels = json.loads((set_dir / labels_name).read_text())
    if half is not None:
        labels = {k: v for k, v in labels.items() if half_of(repo_of(set_dir, k)) == half}
    out = {"runs": 0, "ok": 0, "faults": 0, "found": 0, "wrong": 0, "unread": 0,
           "tp": Counter(), "fp": Counter(), "failures": [],
           "hit": Counter(), "miss": Counter()}  # per rule, for recall
    for key, label in labels.items():
        found = findings_of(run_path(set_dir, key))
        out["runs"] += 1
        if found is None:
            out["unread"] += 1
            out["failures"].append(f"{key}: unreadable")
            continue
        fired = {f["rule"] for f in found}
        heads = [f for f in found if f.get("caused_by") is None and f["severity"] != "info"]
        must, any_of = label.get("must", []), label.get("must_any", [])
        missed, wrong = judge(found, label)
        if must or any_of:
            out["faults"] += 1
            out["found"] += not missed
        for rule in must:
            (out["hit"] if rule in fired else out["miss"])[rule] += 1
        for rule in any_of:  # one of the group is enough: the others are not missed then
            if rule in fired:
                out["hit"][rule] += 1
            elif not fired & set(any_of):
                out["miss"][rule] += 1
        out["wrong"] += bool(wrong)
        for f in heads:
            (out["fp"] if f["rule"] in wrong else out["tp"])[f["rule"]] += 1
        if missed or wrong:
            out["failures"].append(f"{key}: missed {missed}, wrong {wrong}")
        else:
            out["ok"] += 1
    return out


def report(labels: list[Path], half: str | None) -> None:
    """The set table and the per-rule table for one half (None: every run)."""
    title = "every labelled run" if half is None else f"half {half} of the real runs"
    print(f"\n### {title}\n\n| set | runs | labels hold | faults found | wrong headline | unreadable |")
    print("|---|---|---|---|---|---|")
    totals: dict[str, Counter] = {"tp": Counter(), "fp": Counter(), "hit": Counter(),
                                  "miss": Counter()}
    failures = []
    for label_file in labels:
        set_dir = label_file.parent
        if half is not None and not (set_dir / "sources.json").is_file():
            continue  # a zoo has no repository: it is in neither half
        s = score(set_dir, label_file.name, half)
        for key in totals:
            totals[key].update(s[key])
        failures += [f"{set_dir.name}/{f}" for f in s["failures"]]
        name = set_dir.name + (" (text)" if label_file.name == "labels-text.json" else "")
        print(f"| {name} | {s['runs']} | {s['ok']} | {s['found']}/{s['faults']} | "
              f"{s['wrong']} | {s['unread']} |")
    print("\n| rule | headline findings | on a label that forbids it | named by a label: fired / "
          "missed | precision | recall |\n|---|---|---|---|---|---|")
    rules = set(totals["tp"]) | set(totals["fp"]) | set(totals["hit"]) | set(totals["miss"])
    for rule in sorted(rules):
        hit, miss, fp = totals["hit"][rule], totals["miss"][rule], totals["fp"][rule]
        precision = f"{hit / (hit + fp):.2f}" if hit + fp else "-"
        recall = f"{hit / (hit + miss):.2f}" if hit + miss else "-"
        print(f"| {rule} | {totals['tp'][rule] + fp} | {fp} | {hit} / {miss} | {precision} | "
              f"{recall} |")
    print("\n" + "\n".join(failures))


def main() -> None:
    args = sys.argv[1:]
    halves = "--halves" in args
    given = [Path(a) for a in args if a != "--halves"]
    labels = [p for a in given for p in sorted(a.glob("labels*.json"))] or \
        sorted(SHARED.glob("*/labels*.json")) + sorted(SHARED.glob("*/*/labels*.json"))
    for half in ("A", "B") if halves else (None,):
        report(labels, half)


if __name__ == "__main__":
    main()
